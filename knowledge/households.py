"""A household as the policies see it: plain data shared by the registry (db/), the eligibility
rules (knowledge/eligibility.py), the bot and the tests. No names, no ID-card or bank numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Status(StrEnum):
    NOT_OUT = "未脱贫"
    OUT = "已脱贫"
    MONITORED = "监测户"
    ORDINARY = "一般农户"


class MonitorKind(StrEnum):
    """The 2020 seeds' 动态监测: which kind of household is watched."""

    UNSTABLE = "脱贫不稳定户"
    EDGE = "边缘易致贫户"


class FollowUp(StrEnum):
    """Yunnan's four follow-up categories after leaving poverty (回头看, 一户一策)."""

    STABLE = "已稳定脱贫"
    CONSOLIDATE = "需巩固提升"
    SAFETY_NET = "兜底保障"
    RELAPSE = "返贫帮扶"


class Cause(StrEnum):
    """Causes of poverty as the registers record them (main and secondary)."""

    ILLNESS = "因病"
    DISABILITY = "因残"
    SCHOOLING = "因学"
    DISASTER = "因灾"
    NO_LAND = "缺土地"
    NO_WATER = "缺水"
    NO_SKILLS = "缺技术"
    NO_LABOUR = "缺劳力"
    NO_CAPITAL = "缺资金"
    REMOTE = "交通条件落后"
    NO_DRIVE = "自身发展动力不足"


class MemberFlag(StrEnum):
    STUDENT = "在校学生"
    LABOUR = "劳动力"
    DISABLED = "残疾"
    SERIOUS_ILLNESS = "大病"
    CHRONIC_ILLNESS = "慢性病"


class BenefitKind(StrEnum):
    DIBAO = "低保"
    TEKUN = "特困供养"
    DISABILITY_ALLOWANCE = "残疾补贴"
    STUDENT_AID = "学生资助"
    MICROCREDIT = "小额信贷"
    PUBLIC_POST = "公益岗位"
    ASSET_INCOME = "资产收益"
    FANGPINBAO = "防贫保"
    MEDICAL_AID = "医疗救助"
    HOUSING_RENOVATION = "危房改造"


@dataclass(frozen=True)
class Member:
    relation: str  # 户主, 配偶, 子女, 父母, 孙子女 …
    age_band: str  # 0-5, 6-15, 16-59, 60+
    flags: frozenset[MemberFlag] = frozenset()


@dataclass(frozen=True)
class Benefit:
    kind: BenefitKind
    amount: int | None = None  # yuan
    start: date | None = None
    due: date | None = None  # a loan's due date


@dataclass(frozen=True)
class HouseholdProfile:
    """What the eligibility rules look at. ``region_names``: the village and its ancestors."""

    number: str
    region_names: tuple[str, ...]
    status: Status
    status_year: int | None = None  # the year of leaving poverty, for OUT
    monitor_kind: MonitorKind | None = None  # for MONITORED
    follow_up: FollowUp | None = None
    causes: tuple[Cause, ...] = ()  # the main cause first
    members: tuple[Member, ...] = ()
    benefits: tuple[Benefit, ...] = ()
    housing_safe: bool | None = None  # None: not recorded
    safe_water: bool | None = None
    medical_insurance: bool | None = None
    open_measures: tuple[str, ...] = field(default=())  # measure types still in progress

    def has_flag(self, flag: MemberFlag) -> bool:
        return any(flag in member.flags for member in self.members)

    def has_benefit(self, kind: BenefitKind) -> bool:
        return any(benefit.kind == kind for benefit in self.benefits)
