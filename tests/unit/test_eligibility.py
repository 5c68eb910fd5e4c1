"""Eligibility rules: which policies apply to a household, why, and what it may be missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.eligibility import (
    RULES_FILE,
    Rule,
    RulesFileError,
    applicable,
    bundled_rules,
    gaps,
    load_rules,
)
from knowledge.entries import Entry
from knowledge.households import (
    Benefit,
    BenefitKind,
    Cause,
    FollowUp,
    HouseholdProfile,
    Member,
    MemberFlag,
    MonitorKind,
    Status,
)
from knowledge.loader import bundled_files, load_files

CHANGCHUN = ("吉林省", "长春市", "农安县", "合隆镇", "陈家店村")
YUNNAN = ("云南省", "昭通市", "镇雄县", "以古镇", "红星村")
BAYANNUR = ("内蒙古自治区", "巴彦淖尔市", "五原县", "隆兴昌镇", "永丰村")

WORKER = Member("户主", "16-59", frozenset({MemberFlag.LABOUR}))
SPOUSE_WORKER = Member("配偶", "16-59", frozenset({MemberFlag.LABOUR}))
STUDENT = Member("子女", "6-15", frozenset({MemberFlag.STUDENT}))
ELDER = Member("户主", "60+")
ELDER_SPOUSE = Member("配偶", "60+")
LOAN_DUE = Benefit(BenefitKind.MICROCREDIT, 50000, date(2019, 3, 1), date(2022, 3, 1))

# What the rules give in each region (the bundled rules' entries of that region).
SCHOOLING_CC = ("education.compulsory",)
SCHOOLING_YN = ("education.compulsory", "education.dropout")
AFTER_EXIT_CC = ("exit.four_not", "exit.policy_after_changchun")
AFTER_EXIT_YN = ("exit.four_not", "exit.policy_after_yunnan")
AFTER_EXIT_BN = ("exit.four_not", "exit.policy_after_bayannur", "exit.no_household_missed")
FOLLOW_UP_YN = ("monitoring.four_cases", "glossary.yihu_yice", "monitoring.seven_looks")
SAFETY_NET = (
    "social_security.overview", "glossary.doudi", "social_security.dibao", "social_security.tekun",
)  # fmt: skip
MICROCREDIT = (
    "microcredit.who", "microcredit.amount", "microcredit.term", "microcredit.no_collateral",
)  # fmt: skip
LOAN_RULES = ("microcredit.no_enterprise_use", "microcredit.interest")
PENSION = ("social_security.pension",)
SERIOUSLY_ILL_SPOUSE = Member("配偶", "16-59", frozenset({MemberFlag.SERIOUS_ILLNESS}))


@dataclass(frozen=True)
class Case:
    name: str
    profile: HouseholdProfile
    applies: dict[str, tuple[str, ...]]  # rule id → entry ids, in order
    gaps: dict[str, BenefitKind] = field(default_factory=dict)  # rule id → missing benefit


def household(region: tuple[str, ...], status: Status, **facts: Any) -> HouseholdProfile:
    return HouseholdProfile(number="T-1", region_names=region, status=status, **facts)


# fmt: off
CASES = [
    Case(
        "Changchun student with aid: nothing missing",
        household(CHANGCHUN, Status.OUT, status_year=2018, members=(WORKER, STUDENT),
                  causes=(Cause.SCHOOLING,), benefits=(Benefit(BenefitKind.STUDENT_AID, 500),)),
        {"schooling": SCHOOLING_CC,
         "student_aid": ("education.aid", "glossary.qimian_yibu"),
         "after_exit": AFTER_EXIT_CC},
    ),
    Case(
        "Changchun student without aid",
        household(CHANGCHUN, Status.NOT_OUT, members=(WORKER, STUDENT), causes=(Cause.SCHOOLING,)),
        {"schooling": SCHOOLING_CC,
         "student_aid": ("education.aid", "glossary.qimian_yibu"),
         "not_out_yet": ("exit.standard",)},
        {"student_aid": BenefitKind.STUDENT_AID},
    ),
    Case(
        "Yunnan student: 控辍保学, not Changchun's student aid, so no gap",
        household(YUNNAN, Status.OUT, status_year=2019, follow_up=FollowUp.STABLE,
                  members=(WORKER, STUDENT), causes=(Cause.SCHOOLING,)),
        {"schooling": SCHOOLING_YN, "after_exit": AFTER_EXIT_YN, "follow_up": FOLLOW_UP_YN},
    ),
    Case(
        "Yunnan child of school age not in school: 控辍保学",
        household(YUNNAN, Status.NOT_OUT, members=(WORKER, Member("子女", "6-15"))),
        {"dropout": SCHOOLING_YN, "not_out_yet": ("exit.standard", "exit.yunnan_final")},
    ),
    Case(
        "Bayannur edge household with a student: 教育专项救助 and 防贫保 missing",
        household(BAYANNUR, Status.MONITORED, monitor_kind=MonitorKind.EDGE,
                  members=(WORKER, STUDENT), causes=(Cause.SCHOOLING,)),
        {"schooling": SCHOOLING_CC,
         "student_aid_monitored": ("education.edge_aid",),
         "monitoring": ("monitoring.who", "monitoring.measures"),
         "fangpinbao": ("monitoring.fangpinbao",)},
        {"student_aid_monitored": BenefitKind.STUDENT_AID, "fangpinbao": BenefitKind.FANGPINBAO},
    ),
    Case(
        "Changchun 因病 with 医疗救助: 七免十九减, 先诊疗后付费, nothing missing",
        household(CHANGCHUN, Status.NOT_OUT, causes=(Cause.ILLNESS,), medical_insurance=True,
                  members=(WORKER, SERIOUSLY_ILL_SPOUSE),
                  benefits=(Benefit(BenefitKind.MEDICAL_AID),)),
        {"medical": ("medical.three_layers", "medical.zero_deductible",
                     "glossary.qimian_shijiujian", "medical.pay_after_treatment"),
         "not_out_yet": ("exit.standard",)},
    ),
    Case(
        "Yunnan elder with a chronic disease, 需巩固提升, 缺技术",
        household(YUNNAN, Status.OUT, status_year=2017, follow_up=FollowUp.CONSOLIDATE,
                  causes=(Cause.NO_SKILLS,),
                  members=(Member("父母", "60+", frozenset({MemberFlag.CHRONIC_ILLNESS})), WORKER)),
        {"medical": ("medical.three_layers", "medical.chronic", "medical.family_doctor",
                     "medical.above_standard"),
         "elderly": PENSION,
         "training": ("employment.training_yunnan",),
         "jobs": ("employment.transfer", "employment.one_per_household", "employment.public_post"),
         "after_exit": AFTER_EXIT_YN,
         "follow_up": FOLLOW_UP_YN,
         "follow_up_consolidate": ("exit.policy_after_yunnan", "monitoring.mechanism")},
        {"medical": BenefitKind.MEDICAL_AID},
    ),
    Case(
        "Bayannur unstable household with 大病, 防贫保 and 医疗救助: nothing missing",
        household(BAYANNUR, Status.MONITORED, monitor_kind=MonitorKind.UNSTABLE,
                  causes=(Cause.ILLNESS,),
                  members=(WORKER, SERIOUSLY_ILL_SPOUSE),
                  benefits=(Benefit(BenefitKind.FANGPINBAO), Benefit(BenefitKind.MEDICAL_AID))),
        {"medical": ("medical.three_layers",),
         "medical_monitored": ("medical.serious_illness_edge",),
         "monitoring": ("monitoring.who", "monitoring.measures"),
         "fangpinbao": ("monitoring.fangpinbao",),
         "after_exit": AFTER_EXIT_BN},
    ),
    Case(
        "Changchun 因残 without labour: disability allowance and asset income missing",
        household(CHANGCHUN, Status.OUT, status_year=2019, causes=(Cause.DISABILITY,),
                  members=(Member("户主", "16-59", frozenset({MemberFlag.DISABLED})), ELDER_SPOUSE),
                  benefits=(Benefit(BenefitKind.DIBAO, 300),)),
        {"disability": ("social_security.disabled", "medical.rehab.changchun"),
         "safety_net": SAFETY_NET,
         "asset_income": ("industry.solar_changchun",),
         "elderly": PENSION,
         "after_exit": AFTER_EXIT_CC},
        {"disability": BenefitKind.DISABILITY_ALLOWANCE, "asset_income": BenefitKind.ASSET_INCOME},
    ),
    Case(
        "Yunnan 因残: Changchun's disability entries are not given, no gap",
        household(YUNNAN, Status.NOT_OUT, causes=(Cause.DISABILITY,),
                  members=(Member("户主", "16-59", frozenset({MemberFlag.DISABLED,
                                                            MemberFlag.LABOUR})),)),
        {"not_out_yet": ("exit.standard", "exit.yunnan_final")},
    ),
    Case(
        "Bayannur old couple under 特困供养: 低保 not missing, 资产收益 missing",
        household(BAYANNUR, Status.OUT, status_year=2018, causes=(Cause.NO_LABOUR,),
                  members=(ELDER, ELDER_SPOUSE), benefits=(Benefit(BenefitKind.TEKUN),)),
        {"safety_net": SAFETY_NET,
         "asset_income": ("industry.asset_income", "industry.solar"),
         "elderly": PENSION,
         "after_exit": AFTER_EXIT_BN},
        {"asset_income": BenefitKind.ASSET_INCOME},
    ),
    Case(
        "Yunnan 兜底保障 elder without 低保: the gap is named once",
        household(YUNNAN, Status.OUT, status_year=2016, follow_up=FollowUp.SAFETY_NET,
                  causes=(Cause.NO_LABOUR,), members=(ELDER,)),
        {"safety_net": SAFETY_NET,
         "elderly": PENSION,
         "after_exit": AFTER_EXIT_YN,
         "follow_up": FOLLOW_UP_YN,
         "follow_up_safety_net": ("social_security.overview", "glossary.doudi",
                                  "social_security.dibao")},
        {"safety_net": BenefitKind.DIBAO},
    ),
    Case(
        "Changchun loan due: the general term only, nothing missing",
        household(CHANGCHUN, Status.OUT, status_year=2019, members=(WORKER,),
                  causes=(Cause.NO_CAPITAL,), benefits=(LOAN_DUE,)),
        {"microcredit": MICROCREDIT,
         "jobs": ("employment.transfer_changchun", "assistance.by_group_changchun"),
         "after_exit": AFTER_EXIT_CC,
         "loan_rules": LOAN_RULES,
         "loan_due": ("microcredit.term",)},
    ),
    Case(
        "Bayannur loan due: 续贷 and 延期 of Bayannur",
        household(BAYANNUR, Status.OUT, status_year=2019, members=(WORKER,),
                  causes=(Cause.NO_CAPITAL,), benefits=(LOAN_DUE,)),
        {"microcredit": MICROCREDIT,
         "jobs": ("employment.stable_income_bayannur",),
         "after_exit": AFTER_EXIT_BN,
         "loan_rules": LOAN_RULES,
         "loan_due": ("microcredit.term", "microcredit.renewal", "microcredit.epidemic_delay")},
    ),
    Case(
        "Yunnan unstable household 缺资金 缺技术 without a loan",
        household(YUNNAN, Status.MONITORED, monitor_kind=MonitorKind.UNSTABLE,
                  members=(WORKER, SPOUSE_WORKER), causes=(Cause.NO_CAPITAL, Cause.NO_SKILLS)),
        {"microcredit": MICROCREDIT,
         "training": ("employment.training_yunnan",),
         "jobs": ("employment.transfer", "employment.one_per_household", "employment.public_post"),
         "monitoring": ("monitoring.who", "monitoring.mechanism"),
         "after_exit": AFTER_EXIT_YN},
        {"microcredit": BenefitKind.MICROCREDIT},
    ),
    Case(
        "Changchun loan without a due date: no renewal rule",
        household(CHANGCHUN, Status.NOT_OUT, members=(WORKER,), causes=(Cause.NO_CAPITAL,),
                  benefits=(Benefit(BenefitKind.MICROCREDIT, 30000),)),
        {"microcredit": MICROCREDIT,
         "jobs": ("employment.transfer_changchun", "assistance.by_group_changchun"),
         "not_out_yet": ("exit.standard",),
         "loan_rules": LOAN_RULES},
    ),
    Case(
        "Changchun elder alone in an unsafe house",
        household(CHANGCHUN, Status.NOT_OUT, members=(ELDER,), causes=(Cause.NO_LABOUR,),
                  housing_safe=False, benefits=(Benefit(BenefitKind.DIBAO, 300),)),
        {"safety_net": SAFETY_NET,
         "asset_income": ("industry.solar_changchun",),
         "elderly": PENSION,
         "not_out_yet": ("exit.standard",),
         "housing": ("housing.renovation_changchun", "housing.funding"),
         "housing_no_means": ("housing.cannot_afford",)},
        {"asset_income": BenefitKind.ASSET_INCOME, "housing": BenefitKind.HOUSING_RENOVATION},
    ),
    Case(
        "Yunnan relapsed after a disaster, unsafe house and water",
        household(YUNNAN, Status.OUT, status_year=2018, follow_up=FollowUp.RELAPSE,
                  members=(WORKER,), causes=(Cause.DISASTER,), housing_safe=False,
                  safe_water=False),
        {"after_exit": AFTER_EXIT_YN,
         "follow_up": FOLLOW_UP_YN,
         "follow_up_relapse": ("monitoring.returned_poor_yunnan",),
         "housing": ("housing.renovation", "housing.reinforce", "housing.appraisal"),
         "water": ("water.in_standard", "water.goal_yunnan", "water.small_projects"),
         "disaster": ("social_security.temporary",)},
        {"housing": BenefitKind.HOUSING_RENOVATION},
    ),
    Case(
        "Bayannur 缺水 with a renovated house: nothing missing",
        household(BAYANNUR, Status.OUT, status_year=2019, members=(WORKER,),
                  causes=(Cause.NO_WATER,), housing_safe=True,
                  benefits=(Benefit(BenefitKind.HOUSING_RENOVATION),)),
        {"after_exit": AFTER_EXIT_BN, "water": ("water.in_standard",)},
    ),
    Case(
        "Changchun unsafe water, remote",
        household(CHANGCHUN, Status.NOT_OUT, members=(WORKER,), causes=(Cause.REMOTE,),
                  safe_water=False),
        {"not_out_yet": ("exit.standard",),
         "water": ("water.in_standard", "water.methods", "water.central_supply"),
         "remote": ("roads.hardened",)},
    ),
    Case(
        "Yunnan 一般农户: nothing",
        household(YUNNAN, Status.ORDINARY, members=(WORKER, STUDENT), housing_safe=True,
                  safe_water=True),
        {},
    ),
    Case(
        "Yunnan 一般农户 in an unsafe house: the 统筹 renovation only",
        household(YUNNAN, Status.ORDINARY, members=(WORKER,), housing_safe=False),
        {"housing_ordinary": ("housing.four_types",)},
    ),
    Case(
        "Changchun 一般农户 with illness and an unsafe house: nothing",
        household(CHANGCHUN, Status.ORDINARY, causes=(Cause.ILLNESS,), housing_safe=False,
                  members=(Member("户主", "60+", frozenset({MemberFlag.SERIOUS_ILLNESS})),)),
        {},
    ),
    Case(
        "Bayannur 缺发展劲头, not insured",
        household(BAYANNUR, Status.NOT_OUT, members=(WORKER,), causes=(Cause.NO_DRIVE,),
                  medical_insurance=False),
        {"medical_insurance": ("medical.three_layers",),
         "not_out_yet": ("exit.standard",),
         "motivation": ("assistance.fuzhi_bayannur", "assistance.work_rewards")},
    ),
    Case(
        "Changchun 缺发展劲头: other regions' entries are not given",
        household(CHANGCHUN, Status.OUT, status_year=2018, members=(WORKER,),
                  causes=(Cause.NO_DRIVE,), medical_insurance=False),
        {"medical_insurance": ("medical.three_layers", "medical.insurance.changchun"),
         "after_exit": AFTER_EXIT_CC},
    ),
    Case(
        "Changchun unstable household marked 返贫帮扶: Changchun's 返贫 entry, no 防贫保",
        household(CHANGCHUN, Status.MONITORED, monitor_kind=MonitorKind.UNSTABLE,
                  follow_up=FollowUp.RELAPSE, members=(WORKER,)),
        {"monitoring": ("monitoring.who",),
         "after_exit": AFTER_EXIT_CC,
         "follow_up_relapse": ("monitoring.returned_poor",)},
    ),
    Case(
        "Yunnan household with no members recorded: not taken as having no labour",
        household(YUNNAN, Status.OUT, status_year=2019),
        {"after_exit": AFTER_EXIT_YN},
    ),
]
# fmt: on


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return load_files(bundled_files())


def test_the_table_is_large_and_covers_every_region() -> None:
    assert len(CASES) >= 20
    assert {case.profile.region_names for case in CASES} == {CHANGCHUN, YUNNAN, BAYANNUR}
    assert {case.profile.status for case in CASES} == set(Status)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_household_gets_its_policies_and_gaps(case: Case, entries: list[Entry]) -> None:
    found = applicable(case.profile, entries)
    assert {a.rule.id: tuple(e.id for e in a.entries) for a in found} == case.applies
    assert [a.rule.id for a in found] == list(case.applies)  # in the rules' order
    missing = gaps(case.profile, entries)
    assert {gap.rule.id: gap.benefit for gap in missing} == case.gaps
    assert [gap.rule.id for gap in missing] == list(case.gaps)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_no_entry_of_another_region(case: Case, entries: list[Entry]) -> None:
    for match in applicable(case.profile, entries):
        assert match.reason == match.rule.reason
        for entry in match.entries:
            assert entry.region == "all" or entry.region in case.profile.region_names
    for gap in gaps(case.profile, entries):
        assert gap.entries
        assert not case.profile.has_benefit(gap.benefit)


def test_answers_are_deterministic(entries: list[Entry]) -> None:
    profile = CASES[5].profile
    first = applicable(profile, entries)
    assert applicable(profile, list(reversed(entries))) == first
    assert gaps(profile, entries) == gaps(profile, entries)


def test_every_bundled_rule_names_existing_entries(entries: list[Entry]) -> None:
    ids = {entry.id for entry in entries}
    rules = bundled_rules()
    assert len({rule.id for rule in rules}) == len(rules)
    for rule in rules:
        assert set(rule.entries) <= ids, rule.id
    assert load_rules(RULES_FILE, ids) == rules


def test_every_rule_applies_somewhere(entries: list[Entry]) -> None:
    """The table exercises every bundled rule."""
    used = {a.rule.id for case in CASES for a in applicable(case.profile, entries)}
    assert {rule.id for rule in bundled_rules()} <= used


def test_rule_whose_entries_are_all_of_another_region_does_not_apply(entries: list[Entry]) -> None:
    [rule] = _rules([_rule("only_yunnan", entries=["education.dropout", "medical.chronic"])])
    student = household(CHANGCHUN, Status.NOT_OUT, members=(STUDENT,))
    assert applicable(student, entries, [rule]) == []
    assert gaps(student, entries, [rule]) == []
    in_yunnan = household(YUNNAN, Status.NOT_OUT, members=(STUDENT,))
    [match] = applicable(in_yunnan, entries, [rule])
    assert [entry.id for entry in match.entries] == ["education.dropout", "medical.chronic"]


def test_entries_absent_from_the_knowledge_base_are_skipped(entries: list[Entry]) -> None:
    rules = bundled_rules()
    profile = household(YUNNAN, Status.NOT_OUT, members=(WORKER, STUDENT))
    without_dropout = [entry for entry in entries if entry.id != "education.dropout"]
    found = applicable(profile, without_dropout, rules)
    [schooling] = [match for match in found if match.rule.id == "schooling"]
    assert [entry.id for entry in schooling.entries] == ["education.compulsory"]
    only_yunnan_rule = _rules([_rule("r", entries=["education.dropout"])])
    assert applicable(profile, without_dropout, only_yunnan_rule) == []


def test_benefit_absent_condition(entries: list[Entry]) -> None:
    [rule] = _rules([_rule("no_dibao", when={"lacks_benefits": ["低保", "特困供养"]})])
    assert applicable(household(BAYANNUR, Status.OUT), entries, [rule])
    with_dibao = household(BAYANNUR, Status.OUT, benefits=(Benefit(BenefitKind.DIBAO),))
    assert applicable(with_dibao, entries, [rule]) == []


# --- The rules file is checked ---------------------------------------------------------------


def _rule(rule_id: str, **overrides: object) -> dict[str, object]:
    rule: dict[str, object] = {
        "id": rule_id,
        "reason": "家里有在校学生",
        "when": {"member": {"flags": ["在校学生"]}},
        "entries": ["education.compulsory"],
    }
    rule.update(overrides)
    return rule


def _rules(records: list[dict[str, object]]) -> list[Rule]:
    return [Rule.model_validate(record) for record in records]


def _load(tmp_path: Path, records: list[dict[str, object]], entries: list[Entry]) -> object:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")
    return load_rules(path, {entry.id for entry in entries})


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_rule("r", entries=["education.nope"]), "rule r: entries: unknown entry 'education.nope'"),
        (_rule("r", when={"status": ["富裕户"]}), "rule r: when.status.0: Input should be"),
        (_rule("r", when={"monitor_kind": ["贫困户"]}), "rule r: when.monitor_kind.0:"),
        (_rule("r", when={"follow_up": ["已巩固"]}), "rule r: when.follow_up.0:"),
        (_rule("r", when={"causes": ["因懒"]}), "rule r: when.causes.0:"),
        (_rule("r", when={"member": {"flags": ["学生"]}}), "rule r: when.member.flags.0:"),
        (_rule("r", when={"member": {"age_bands": ["7-14"]}}), "unknown age band '7-14'"),
        (_rule("r", benefit="低保金"), "rule r: benefit: Input should be"),
        (_rule("r", when={"benefits": ["光伏"]}), "rule r: when.benefits.0:"),
        (_rule("r", also_fulfilled_by=["特困供养"]), "also_fulfilled_by needs a benefit"),
        (
            _rule("r", when={"any_of": [{"status": ["已脱贫"]}, {"housing": False}]}),
            "rule r: when.any_of.1.housing: Extra inputs are not permitted",
        ),
        (_rule("r", when={}), "rule r: when: no condition given"),
        (_rule("r", when={"status": []}), "rule r: when.status: an empty list never holds"),
        (_rule("r", entries=[]), "rule r: entries:"),
        (_rule("r", reason="家里能享受兜底"), "rule r: reason: uses 兜底 without explaining it"),
        (_rule("r", entries=["education.aid", "education.aid"]), "named twice"),
    ],
)
def test_bad_rule_is_reported_naming_it(
    tmp_path: Path, entries: list[Entry], record: dict[str, object], message: str
) -> None:
    with pytest.raises(RulesFileError) as caught:
        _load(tmp_path, [_rule("fine"), record], entries)
    [problem] = caught.value.problems
    assert problem.startswith("rules.yaml: rule r: "), problem
    assert message in problem


def test_every_problem_is_reported(tmp_path: Path, entries: list[Entry]) -> None:
    records = [
        _rule("a", entries=["x.one", "x.two"]),
        _rule("a"),
        {"reason": "没有编号", "when": {"status": ["已脱贫"]}, "entries": ["exit.four_not"]},
    ]
    with pytest.raises(RulesFileError) as caught:
        _load(tmp_path, records, entries)
    assert caught.value.problems == [
        "rules.yaml: rule a: entries: unknown entry 'x.one'",
        "rules.yaml: rule a: entries: unknown entry 'x.two'",
        "rules.yaml: rule a: id is already used",
        "rules.yaml: rule #3: id: Field required",
    ]


def test_a_file_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("id: one\n", encoding="utf-8")
    with pytest.raises(RulesFileError, match="expected a list of rules"):
        load_rules(path)
