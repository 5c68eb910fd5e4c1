"""Which policies apply to a household and why, and what it may be missing.

The rules are data (knowledge/eligibility.yaml, described at its top): each names a plain reason,
conditions over a HouseholdProfile, the knowledge-base entries it rests on and, optionally, the
benefit that fulfils it. A rule applies to a household when its conditions hold and at least one
of its entries is of the household's region (``all`` or one of ``region_names``); it is shown
with those entries only. An applying rule whose benefit the household does not have is a gap.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.entries import Entry
from knowledge.households import (
    BenefitKind,
    Cause,
    FollowUp,
    HouseholdProfile,
    Member,
    MemberFlag,
    MonitorKind,
    Status,
)
from knowledge.plain_words import unexplained_terms

RULES_FILE = Path(__file__).resolve().parent / "eligibility.yaml"
AGE_BANDS = ("0-5", "6-15", "16-59", "60+")  # the bands of Member.age_band


class RulesFileError(Exception):
    """The rules file is invalid; ``problems`` holds one line per problem, naming the rule."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _some_condition(self) -> _Strict:
        if not self.model_fields_set:
            raise ValueError("no condition given")
        return self


class MemberCondition(_Strict):
    """One member: has one of ``flags``, is in one of ``age_bands``, has none of
    ``without_flags`` (each only when given)."""

    flags: tuple[MemberFlag, ...] = ()
    age_bands: tuple[str, ...] = ()
    without_flags: tuple[MemberFlag, ...] = ()

    @field_validator("age_bands")
    @classmethod
    def _known_bands(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [band for band in value if band not in AGE_BANDS]
        if unknown:
            raise ValueError(f"unknown age band {unknown[0]!r}; one of {', '.join(AGE_BANDS)}")
        return value

    def matches(self, member: Member) -> bool:
        return (
            (not self.flags or not member.flags.isdisjoint(self.flags))
            and (not self.age_bands or member.age_band in self.age_bands)
            and member.flags.isdisjoint(self.without_flags)
        )


class Condition(_Strict):
    """All given fields must hold; a list means "one of these"."""

    status: tuple[Status, ...] | None = None
    monitor_kind: tuple[MonitorKind, ...] | None = None
    follow_up: tuple[FollowUp, ...] | None = None
    causes: tuple[Cause, ...] | None = None
    member: MemberCondition | None = None
    no_member: MemberCondition | None = None
    benefits: tuple[BenefitKind, ...] | None = None
    lacks_benefits: tuple[BenefitKind, ...] | None = None
    benefit_due: tuple[BenefitKind, ...] | None = None
    housing_safe: bool | None = None
    safe_water: bool | None = None
    medical_insurance: bool | None = None
    any_of: tuple[Condition, ...] | None = None

    @field_validator(
        "status", "monitor_kind", "follow_up", "causes", "benefits", "lacks_benefits",
        "benefit_due", "any_of",
    )  # fmt: skip
    @classmethod
    def _not_empty(cls, value: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        if value is not None and not value:
            raise ValueError("an empty list never holds; leave the condition out")
        return value

    def holds(self, profile: HouseholdProfile) -> bool:
        """Whether the household meets every given condition (an unrecorded fact meets none)."""
        kinds = {benefit.kind for benefit in profile.benefits}
        due = {benefit.kind for benefit in profile.benefits if benefit.due is not None}
        checks = (
            (self.status, lambda v: profile.status in v),
            (self.monitor_kind, lambda v: profile.monitor_kind in v),
            (self.follow_up, lambda v: profile.follow_up in v),
            (self.causes, lambda v: not set(v).isdisjoint(profile.causes)),
            (self.member, lambda v: any(v.matches(m) for m in profile.members)),
            (self.no_member, lambda v: bool(profile.members)
                and not any(v.matches(m) for m in profile.members)),
            (self.benefits, lambda v: not kinds.isdisjoint(v)),
            (self.lacks_benefits, lambda v: kinds.isdisjoint(v)),
            (self.benefit_due, lambda v: not due.isdisjoint(v)),
            (self.housing_safe, lambda v: profile.housing_safe is v),
            (self.safe_water, lambda v: profile.safe_water is v),
            (self.medical_insurance, lambda v: profile.medical_insurance is v),
            (self.any_of, lambda v: any(condition.holds(profile) for condition in v)),
        )  # fmt: skip
        return all(test(value) for value, test in checks if value is not None)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    reason: str = Field(min_length=1, description="why it applies, in plain words")
    when: Condition
    entries: tuple[str, ...] = Field(min_length=1, description="knowledge-base entry ids")
    benefit: BenefitKind | None = Field(default=None, description="named when missing")
    also_fulfilled_by: tuple[BenefitKind, ...] = Field(
        default=(), description="other benefits that fulfil the rule as well"
    )

    @field_validator("reason")
    @classmethod
    def _plain_words(cls, value: str) -> str:
        terms = unexplained_terms(value)
        if terms:
            raise ValueError(f"uses {', '.join(terms)} without explaining it")
        return value.strip()

    @field_validator("entries")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({entry for entry in value if value.count(entry) > 1})
        if repeated:
            raise ValueError(f"entry {repeated[0]} is named twice")
        return value

    @model_validator(mode="after")
    def _fulfilment_needs_benefit(self) -> Rule:
        if self.also_fulfilled_by and self.benefit is None:
            raise ValueError("also_fulfilled_by needs a benefit")
        return self

    def fulfilled(self, profile: HouseholdProfile) -> bool:
        """Whether the household has the benefit (or another that fulfils the rule)."""
        if self.benefit is None:
            return True
        return any(profile.has_benefit(kind) for kind in (self.benefit, *self.also_fulfilled_by))


@dataclass(frozen=True)
class Applicable:
    """A rule that applies to a household, with the entries of its region and the reason."""

    rule: Rule
    entries: tuple[Entry, ...]
    reason: str


@dataclass(frozen=True)
class Gap:
    """The household qualifies under ``rule`` but has no ``benefit`` recorded."""

    rule: Rule
    benefit: BenefitKind
    entries: tuple[Entry, ...]


def load_rules(
    path: Path = RULES_FILE, entry_ids: Collection[str] | None = None
) -> tuple[Rule, ...]:
    """The rules of the file, or RulesFileError listing every problem. With ``entry_ids``, every
    entry a rule names must be one of them."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesFileError([f"{path.name}: cannot read: {error}"]) from error
    if not isinstance(data, list):
        raise RulesFileError([f"{path.name}: expected a list of rules"])
    rules: list[Rule] = []
    problems: list[str] = []
    for number, record in enumerate(data, start=1):
        name = _rule_name(record, number)
        try:
            rule = Rule.model_validate(record)
        except ValidationError as error:
            problems += [f"{path.name}: {name}: {_describe(item)}" for item in error.errors()]
            continue
        if any(rule.id == seen.id for seen in rules):
            problems.append(f"{path.name}: {name}: id is already used")
        if entry_ids is not None:
            problems += [
                f"{path.name}: {name}: entries: unknown entry {entry!r}"
                for entry in rule.entries
                if entry not in entry_ids
            ]
        rules.append(rule)
    if problems:
        raise RulesFileError(problems)
    return tuple(rules)


@cache
def bundled_rules() -> tuple[Rule, ...]:
    """This release's rules, checked against this release's knowledge-base files."""
    from knowledge.loader import bundled_files, load_files

    return load_rules(RULES_FILE, {entry.id for entry in load_files(bundled_files())})


def in_region(entry: Entry, region_names: Collection[str]) -> bool:
    """Whether the entry governs a place with these names (a general entry governs all)."""
    return not entry.is_regional or entry.region in region_names


def applicable(
    profile: HouseholdProfile, entries: Iterable[Entry], rules: Sequence[Rule] | None = None
) -> list[Applicable]:
    """The rules that apply to the household, in the rules' order, each with its entries of the
    household's region (entries missing from ``entries`` are skipped). A rule with none left
    does not apply."""
    by_id = {entry.id: entry for entry in entries}
    found = []
    for rule in bundled_rules() if rules is None else rules:
        if not rule.when.holds(profile):
            continue
        shown = tuple(
            by_id[entry_id]
            for entry_id in rule.entries
            if entry_id in by_id and in_region(by_id[entry_id], profile.region_names)
        )
        if shown:
            found.append(Applicable(rule, shown, rule.reason))
    return found


def gaps(
    profile: HouseholdProfile, entries: Iterable[Entry], rules: Sequence[Rule] | None = None
) -> list[Gap]:
    """What the household may be missing: each benefit of an applying rule that it does not have,
    once, under the first rule naming it."""
    found: dict[BenefitKind, Gap] = {}
    for match in applicable(profile, entries, rules):
        benefit = match.rule.benefit
        if benefit is not None and benefit not in found and not match.rule.fulfilled(profile):
            found[benefit] = Gap(match.rule, benefit, match.entries)
    return list(found.values())


def _rule_name(record: Any, number: int) -> str:
    rule_id = record.get("id") if isinstance(record, dict) else None
    return f"rule {rule_id}" if isinstance(rule_id, str) and rule_id else f"rule #{number}"


def _describe(item: Any) -> str:
    where = ".".join(str(part) for part in item["loc"]) or "rule"
    return f"{where}: {item['msg'].removeprefix('Value error, ')}"
