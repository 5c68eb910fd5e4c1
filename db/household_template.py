"""The household registry file (CSV or XLSX, db/data/households_template.*): one household a
row, the first row naming the columns (by the English name or the Chinese one below). Empty
rows and rows whose first cell starts with # are skipped. A cell left empty means "not
recorded". Columns marked * are required.

  number*           户编号        the household's number in the county's system, as given
  village*          村代码        the village's region code (it must be in the region registry)
  head_name*        户主姓名      the head of household's name; stored, always shown as 张*明
  status*           户类型        未脱贫 | 已脱贫 | 监测户 | 一般农户
  status_year       脱贫年度      the year of leaving poverty (required for 已脱贫)
  monitor_kind      监测类型      脱贫不稳定户 | 边缘易致贫户 (required for 监测户, only for it)
  follow_up         帮扶类别      已稳定脱贫 | 需巩固提升 | 兜底保障 | 返贫帮扶
  identified_year   识别年度      the year the household was identified
  planned_exit_year 计划脱贫年度
  actual_exit_year  实际脱贫年度
  main_cause        主要致贫原因  因病 因残 因学 因灾 缺土地 缺水 缺技术 缺劳力 缺资金
                                  交通条件落后 自身发展动力不足
  other_causes      其他致贫原因  several of the same, separated by |
  land_mu           耕地亩数      land in mu, e.g. 3.5
  livestock         牲畜          free text, e.g. 牛2头、羊10只
  housing_safe      住房安全      是 | 否 (also yes/no, 1/0)
  safe_water        饮水安全      是 | 否
  medical_insurance 参加医保      是 | 否
  work              务工情况      who works where, free text: 户主在本村公益岗，儿子在宁波务工
  members           家庭成员      relation:age band[:flag|flag]
                                  户主:60+:劳动力;子女:6-15:在校学生
                                  age bands 0-5, 6-15, 16-59, 60+;
                                  flags 在校学生 劳动力 残疾 大病 慢性病
  measures          帮扶措施      type:project:year:amount:target:responsible:status
                                  产业帮扶:肉牛养殖:2025:5000:年增收3000元:王建国:进行中
                                  status 未开始 | 进行中 | 已完成 (type and status required)
  benefits          享受政策      kind:amount:start:due (dates YYYY-MM-DD)
                                  低保:3600;小额信贷:50000:2024-12-15:2027-12-14
                                  kinds 低保 特困供养 残疾补贴 学生资助 小额信贷 公益岗位
                                  资产收益 防贫保 医疗救助 危房改造; a 小额信贷 needs its
                                  start and due dates
  income            人均纯收入    year:yuan per person, 2024:8500;2025:9200
  helpers           帮扶责任人    role:name:phone, 包保干部:王建国:138-0000-0001
                                  roles 包保干部 | 第一书记 | 村干部
  visits            走访记录      date:checklist:by:note, 2026-10-12:住房|饮水:王建国:屋顶已修好
                                  (the note comes last and may contain ":")

Multi-valued cells: items are separated by ";", the fields of an item by ":", several flags,
causes or checklist items by "|" (the full-width ；：｜ and 、 work too). An empty field stays
empty: "就业帮扶:公益岗位:2025::::已完成". No cell may contain ";" inside a field.

No ID-card number (18 digits, the last may be X) and no bank card number (16-19 digits, also
written in groups) is ever accepted: a column named like one (身份证, 银行卡, 账号 …) or a cell
holding one refuses the whole file. Re-importing updates households by number, keeps every
former content as a version, and adds the visits of the file to those recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TypeVar

from db.models import HelperRole, MeasureStatus
from knowledge.households import (
    Benefit,
    BenefitKind,
    Cause,
    FollowUp,
    Member,
    MemberFlag,
    MonitorKind,
    Status,
)


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # the Chinese header, also accepted
    required: bool = False


COLUMNS = (
    Column("number", "户编号", required=True),
    Column("village", "村代码", required=True),
    Column("head_name", "户主姓名", required=True),
    Column("status", "户类型", required=True),
    Column("status_year", "脱贫年度"),
    Column("monitor_kind", "监测类型"),
    Column("follow_up", "帮扶类别"),
    Column("identified_year", "识别年度"),
    Column("planned_exit_year", "计划脱贫年度"),
    Column("actual_exit_year", "实际脱贫年度"),
    Column("main_cause", "主要致贫原因"),
    Column("other_causes", "其他致贫原因"),
    Column("land_mu", "耕地亩数"),
    Column("livestock", "牲畜"),
    Column("housing_safe", "住房安全"),
    Column("safe_water", "饮水安全"),
    Column("medical_insurance", "参加医保"),
    Column("work", "务工情况"),
    Column("members", "家庭成员"),
    Column("measures", "帮扶措施"),
    Column("benefits", "享受政策"),
    Column("income", "人均纯收入"),
    Column("helpers", "帮扶责任人"),
    Column("visits", "走访记录"),
)
HEADER = tuple(column.name for column in COLUMNS)
AGE_BANDS = ("0-5", "6-15", "16-59", "60+")
_BY_HEADER = {key: column for column in COLUMNS for key in (column.name, column.label)}

# Digits with optional single spaces or hyphens between them (6222 0212 3456 7890).
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){15,18}(?![0-9])")
_ID_CARD = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_ID_HEADER = re.compile(r"身份|证件|银行|卡号|账号|帐号|id.?card|id.?no|bank|account", re.I)
_FULL_WIDTH = str.maketrans({"；": ";", "：": ":", "｜": "|", "、": "|"})
_YES = {"是", "yes", "y", "true", "1", "有", "安全"}
_NO = {"否", "no", "n", "false", "0", "无", "不安全"}


def column_for(header: str) -> Column | None:
    """The template column a header names (English or Chinese, any case), if any."""
    return _BY_HEADER.get(header.strip()) or _BY_HEADER.get(header.strip().lower())


def id_like_header(header: str) -> bool:
    return bool(_ID_HEADER.search(header))


def id_like(value: str) -> str | None:
    """Why a cell looks like an ID-card or bank card number, or None."""
    if _ID_CARD.search(value):
        return "looks like an ID-card number; ID-card and bank numbers are never accepted"
    if _LONG_NUMBER.search(value):
        return "looks like a bank card number; ID-card and bank numbers are never accepted"
    return None


@dataclass(frozen=True)
class Measure:
    kind: str
    status: MeasureStatus
    project: str | None = None
    year: int | None = None
    amount: int | None = None  # yuan
    target: str | None = None
    responsible: str | None = None


@dataclass(frozen=True)
class Helper:
    role: HelperRole
    name: str
    phone: str | None = None


@dataclass(frozen=True)
class Visit:
    on: date
    checklist: tuple[str, ...] = ()
    by: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class HouseholdData:
    """One household as the template holds it (parsed and checked)."""

    number: str
    village: str
    head_name: str
    status: Status
    status_year: int | None = None
    monitor_kind: MonitorKind | None = None
    follow_up: FollowUp | None = None
    identified_year: int | None = None
    planned_exit_year: int | None = None
    actual_exit_year: int | None = None
    main_cause: Cause | None = None
    other_causes: tuple[Cause, ...] = ()
    land_mu: float | None = None
    livestock: str | None = None
    housing_safe: bool | None = None
    safe_water: bool | None = None
    medical_insurance: bool | None = None
    work: str | None = None
    members: tuple[Member, ...] = ()
    measures: tuple[Measure, ...] = ()
    benefits: tuple[Benefit, ...] = ()
    incomes: tuple[tuple[int, int], ...] = ()  # (year, yuan per person)
    helpers: tuple[Helper, ...] = ()
    visits: tuple[Visit, ...] = ()


E = TypeVar("E", bound=StrEnum)


@dataclass
class _RowParser:
    cells: Mapping[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, column: str, reason: str) -> None:
        self.problems.append((column, reason))

    def text(self, column: str, limit: int, value: str | None = None) -> str | None:
        value = self.cells.get(column, "") if value is None else value
        value = value.strip()
        if len(value) > limit:
            self.fail(column, f"longer than {limit} characters")
            return None
        return value or None

    def required(self, column: str, limit: int) -> str:
        value = self.text(column, limit)
        if value is None and not any(c == column for c, _ in self.problems):
            self.fail(column, "required")
        return value or ""

    def year(self, column: str, value: str | None = None) -> int | None:
        value = (self.cells.get(column, "") if value is None else value).strip()
        if not value:
            return None
        if not (value.isascii() and value.isdigit() and 1949 <= int(value) <= 2100):
            self.fail(column, f"{value!r} is not a year")
            return None
        return int(value)

    def yuan(self, column: str, value: str) -> int | None:
        value = value.strip().replace(",", "")
        if not value:
            return None
        try:
            amount = float(value)
        except ValueError:
            amount = -1
        if amount < 0 or not amount.is_integer() or amount > 10**9:
            self.fail(column, f"{value!r} is not an amount in whole yuan")
            return None
        return int(amount)

    def day(self, column: str, value: str) -> date | None:
        value = value.strip().replace("/", "-").replace(".", "-")
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def choice(self, column: str, kind: type[E], value: str | None = None) -> E | None:
        value = (self.cells.get(column, "") if value is None else value).strip()
        if not value:
            return None
        try:
            return kind(value)
        except ValueError:
            self.fail(column, f"{value!r} is not one of {' '.join(kind)}")
            return None

    def boolean(self, column: str) -> bool | None:
        value = self.cells.get(column, "").strip().lower()
        if not value:
            return None
        if value in _YES or value in _NO:
            return value in _YES
        self.fail(column, f"{value!r} is not 是 or 否")
        return None

    def number(self, column: str) -> float | None:
        value = self.cells.get(column, "").strip()
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = -1
        if not 0 <= number < 10**6:
            self.fail(column, f"{value!r} is not a number of mu")
            return None
        return number

    def items(self, column: str, fields: int) -> list[list[str]]:
        """The ;-separated items of a cell, each split into at most ``fields`` fields."""
        value = self.cells.get(column, "").translate(_FULL_WIDTH)
        return [
            [part.strip() for part in item.split(":", fields - 1)]
            for item in value.split(";")
            if item.strip()
        ]

    def parts(self, value: str) -> list[str]:
        return [part.strip() for part in value.translate(_FULL_WIDTH).split("|") if part.strip()]


def _field(item: list[str], index: int) -> str:
    return item[index] if index < len(item) else ""


def parse_row(cells: Mapping[str, str]) -> tuple[HouseholdData | None, list[tuple[str, str]]]:
    """Check one row (column name → cell text); the household, or the (column, reason) list."""
    p = _RowParser(cells)
    number = p.required("number", 40)
    village = p.required("village", 32)
    head_name = p.required("head_name", 50)
    status = p.choice("status", Status)
    if status is None and not any(c == "status" for c, _ in p.problems):
        p.fail("status", "required")
    data = {
        "status_year": p.year("status_year"),
        "monitor_kind": p.choice("monitor_kind", MonitorKind),
        "follow_up": p.choice("follow_up", FollowUp),
        "identified_year": p.year("identified_year"),
        "planned_exit_year": p.year("planned_exit_year"),
        "actual_exit_year": p.year("actual_exit_year"),
        "main_cause": p.choice("main_cause", Cause),
        "other_causes": tuple(
            cause
            for part in p.parts(cells.get("other_causes", ""))
            if (cause := p.choice("other_causes", Cause, part)) is not None
        ),
        "land_mu": p.number("land_mu"),
        "livestock": p.text("livestock", 200),
        "housing_safe": p.boolean("housing_safe"),
        "safe_water": p.boolean("safe_water"),
        "medical_insurance": p.boolean("medical_insurance"),
        "work": p.text("work", 300),
        "members": _members(p),
        "measures": _measures(p),
        "benefits": _benefits(p),
        "incomes": _incomes(p),
        "helpers": _helpers(p),
        "visits": _visits(p),
    }
    if status is Status.OUT and data["status_year"] is None:
        p.fail("status_year", "required for 已脱贫")
    if status is Status.MONITORED and data["monitor_kind"] is None:
        p.fail("monitor_kind", "required for 监测户")
    if status not in (Status.MONITORED, None) and data["monitor_kind"] is not None:
        p.fail("monitor_kind", "only a 监测户 has a monitoring kind")
    if data["other_causes"] and data["main_cause"] is None:
        p.fail("main_cause", "required when other_causes are given")
    if data["main_cause"] is not None and data["main_cause"] in data["other_causes"]:
        p.fail("other_causes", f"repeats the main cause {data['main_cause']}")
    if p.problems or status is None:
        return None, p.problems
    household = HouseholdData(
        number=number, village=village, head_name=head_name, status=status, **data
    )
    return household, []


def _members(p: _RowParser) -> tuple[Member, ...]:
    members = []
    for item in p.items("members", 3):
        relation = p.text("members", 20, _field(item, 0))
        band = _field(item, 1)
        if relation is None:
            p.fail("members", f"{':'.join(item)!r} has no relation (户主, 配偶, 子女 …)")
            continue
        if band not in AGE_BANDS:
            p.fail("members", f"{relation}: age band {band!r} is not one of {' '.join(AGE_BANDS)}")
            continue
        flags = [p.choice("members", MemberFlag, part) for part in p.parts(_field(item, 2))]
        members.append(Member(relation, band, frozenset(f for f in flags if f is not None)))
    return tuple(members)


def _measures(p: _RowParser) -> tuple[Measure, ...]:
    measures = []
    for item in p.items("measures", 7):
        kind = p.text("measures", 40, _field(item, 0))
        status = p.choice("measures", MeasureStatus, _field(item, 6))
        if kind is None or status is None:
            if kind is None or not _field(item, 6):
                p.fail("measures", f"{':'.join(item)!r} needs a type and a status (7 fields)")
            continue
        measures.append(
            Measure(
                kind=kind,
                status=status,
                project=p.text("measures", 100, _field(item, 1)),
                year=p.year("measures", _field(item, 2)),
                amount=p.yuan("measures", _field(item, 3)),
                target=p.text("measures", 200, _field(item, 4)),
                responsible=p.text("measures", 50, _field(item, 5)),
            )
        )
    return tuple(measures)


def _benefits(p: _RowParser) -> tuple[Benefit, ...]:
    benefits = []
    for item in p.items("benefits", 4):
        kind = p.choice("benefits", BenefitKind, _field(item, 0))
        if kind is None:
            continue
        start, due = p.day("benefits", _field(item, 2)), p.day("benefits", _field(item, 3))
        if kind is BenefitKind.MICROCREDIT and (start is None or due is None):
            p.fail("benefits", f"{kind} needs its start and due dates")
        if start and due and due < start:
            p.fail("benefits", f"{kind} is due ({due}) before it starts ({start})")
        benefits.append(Benefit(kind, p.yuan("benefits", _field(item, 1)), start, due))
    return tuple(benefits)


def _incomes(p: _RowParser) -> tuple[tuple[int, int], ...]:
    incomes: dict[int, int] = {}
    for item in p.items("income", 2):
        year, amount = p.year("income", _field(item, 0)), p.yuan("income", _field(item, 1))
        if year is None or amount is None:
            if not any(c == "income" for c, _ in p.problems):
                p.fail("income", f"{':'.join(item)!r} is not year:yuan")
        elif year in incomes:
            p.fail("income", f"year {year} appears twice")
        else:
            incomes[year] = amount
    return tuple(sorted(incomes.items()))


def _helpers(p: _RowParser) -> tuple[Helper, ...]:
    helpers = []
    for item in p.items("helpers", 3):
        role = p.choice("helpers", HelperRole, _field(item, 0))
        name = p.text("helpers", 50, _field(item, 1))
        phone = p.text("helpers", 30, _field(item, 2))
        if phone and not re.fullmatch(r"\+?[0-9][0-9 -]{4,20}", phone):
            p.fail("helpers", f"{phone!r} is not a phone number")
        if role is not None and name is None:
            p.fail("helpers", f"{role} has no name")
        if role is not None and name is not None:
            helpers.append(Helper(role, name, phone))
    return tuple(helpers)


def _visits(p: _RowParser) -> tuple[Visit, ...]:
    visits = []
    for item in p.items("visits", 4):
        on = p.day("visits", _field(item, 0))
        if on is None:
            if not _field(item, 0):
                p.fail("visits", f"{':'.join(item)!r} has no date")
            continue
        checklist = tuple(p.parts(_field(item, 1)))
        by = p.text("visits", 50, _field(item, 2))
        visits.append(Visit(on, checklist, by, p.text("visits", 2000, _field(item, 3))))
    return tuple(sorted(visits, key=lambda visit: visit.on))


def format_row(household: HouseholdData) -> dict[str, str]:
    """The template cells of a household (column name → text): what export writes."""
    h = household

    def join(items: list[list[object]]) -> str:
        return ";".join(":".join(_text(v) for v in item).rstrip(":") for item in items)

    def flags(member: Member) -> str:
        return "|".join(flag for flag in MemberFlag if flag in member.flags)

    return {
        "number": h.number,
        "village": h.village,
        "head_name": h.head_name,
        "status": h.status,
        "status_year": _text(h.status_year),
        "monitor_kind": _text(h.monitor_kind),
        "follow_up": _text(h.follow_up),
        "identified_year": _text(h.identified_year),
        "planned_exit_year": _text(h.planned_exit_year),
        "actual_exit_year": _text(h.actual_exit_year),
        "main_cause": _text(h.main_cause),
        "other_causes": "|".join(h.other_causes),
        "land_mu": _text(h.land_mu),
        "livestock": _text(h.livestock),
        "housing_safe": _yes_no(h.housing_safe),
        "safe_water": _yes_no(h.safe_water),
        "medical_insurance": _yes_no(h.medical_insurance),
        "work": _text(h.work),
        "members": join([[m.relation, m.age_band, flags(m)] for m in h.members]),
        "measures": join(
            [
                [m.kind, m.project, m.year, m.amount, m.target, m.responsible, m.status]
                for m in h.measures
            ]
        ),
        "benefits": join([[b.kind, b.amount, b.start, b.due] for b in h.benefits]),
        "income": join([[year, amount] for year, amount in h.incomes]),
        "helpers": join([[x.role, x.name, x.phone] for x in h.helpers]),
        "visits": join([[v.on, "|".join(v.checklist), v.by, v.note] for v in h.visits]),
    }


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def template_notes() -> list[str]:
    """The module's documentation, line by line: the XLSX template's 说明 sheet."""
    return (__doc__ or "").splitlines()
