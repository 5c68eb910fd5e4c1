"""Cases filed by a bound household, in the registry's terms: a 待遇咨询 (a benefit the household
may be missing) and a 家庭情况变化 (a change in the family). Nothing in the registry changes when a
change is reported; a cadre's confirmation applies it as a new version of the household."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.household_template import format_row
from db.households import data_of
from db.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    Household,
    HouseholdMember,
    HouseholdVersion,
)
from knowledge.households import MemberFlag

BENEFIT_INQUIRY = "benefit_inquiry"  # 待遇咨询
HOUSEHOLD_CHANGE = "household_change"  # 家庭情况变化


class ChangeKind(StrEnum):
    BIRTH = "birth"  # 新生儿
    DEATH = "death"  # 去世
    MARRIED_IN = "married_in"  # 嫁入
    MARRIED_OUT = "married_out"  # 嫁出
    ILLNESS = "illness"  # 大病
    JOBLESS = "jobless"  # 失业/返乡
    DISASTER = "disaster"  # 受灾
    INCOME_DROP = "income_drop"  # 收入大幅下降


# The change is about one of the household's members, chosen from the record.
ABOUT_MEMBER = frozenset({ChangeKind.DEATH, ChangeKind.MARRIED_OUT, ChangeKind.ILLNESS})
# Someone joins: the relations the reporter chooses from (the template's words), and the age band.
NEW_MEMBER: dict[ChangeKind, tuple[tuple[str, ...], str]] = {
    ChangeKind.BIRTH: (("子女", "孙子女"), "0-5"),
    ChangeKind.MARRIED_IN: (("儿媳", "女婿", "配偶"), "16-59"),
}


class ChangeError(Exception):
    """The reported change no longer fits the household's record; nothing was changed."""


@dataclass(frozen=True)
class AppliedChange:
    household: Household
    version: int | None  # the household's new version; None when no field changed
    data: dict[str, Any]  # what was done, for the case's event


def member_snapshot(member: HouseholdMember) -> dict[str, str]:
    """How a case names a member: relation and age band, never a name."""
    return {"relation": member.relation, "age_band": member.age_band}


def awaiting_confirmation(case: Case) -> bool:
    """A reported change that is open and not yet confirmed by a cadre."""
    return (
        case.category == HOUSEHOLD_CHANGE
        and case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        and not (case.details or {}).get("confirmed_by")
    )


async def lock_household(session: AsyncSession, household_id: int) -> Household | None:
    """The household read afresh, its row locked until the transaction ends (PostgreSQL; SQLite
    has one writer at a time): household cases of one household are written one at a time."""
    return await session.scalar(
        select(Household)
        .where(Household.id == household_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def open_inquiry(session: AsyncSession, household_id: int, benefit: str) -> Case | None:
    """The household's open 待遇咨询 about this benefit, if there is one."""
    cases = await session.scalars(
        select(Case)
        .where(
            Case.household_id == household_id,
            Case.category == BENEFIT_INQUIRY,
            Case.status.in_(OPEN_STATUSES),
        )
        .order_by(Case.id)
    )
    return next((case for case in cases if (case.details or {}).get("benefit") == benefit), None)


async def apply_change(
    session: AsyncSession, case: Case, changed_by: str, now: datetime
) -> AppliedChange:
    """Apply the case's reported change to the household (not committed). Everything is checked
    before anything changes: a ChangeError leaves the household as it was."""
    details = case.details or {}
    household = await lock_household(session, case.household_id) if case.household_id else None
    if household is None:
        raise ChangeError("the household is no longer in the registry")
    kind = ChangeKind(details["change"])
    before = data_of(household)
    data: dict[str, Any] = {"change": kind.value}
    if kind in ABOUT_MEMBER:
        member = _reported_member(household, details)
        data["member"] = member_snapshot(member)
        if kind is ChangeKind.ILLNESS:
            flags = {*member.flags, MemberFlag.SERIOUS_ILLNESS.value}
            member.flags = [flag.value for flag in MemberFlag if flag.value in flags]
        else:
            household.members.remove(member)
    elif kind in NEW_MEMBER:
        relations, age_band = NEW_MEMBER[kind]
        relation = details.get("relation")
        if relation not in relations:
            raise ChangeError("the new member's relation is not one the report may give")
        household.members.append(HouseholdMember(relation=relation, age_band=age_band, flags=[]))
        data["member"] = {"relation": relation, "age_band": age_band}
    after = data_of(household)
    if after == before:  # 失业/返乡, 受灾, 收入大幅下降, or already recorded: the event says it
        return AppliedChange(household, None, data)
    household.version += 1
    household.updated_at = now
    session.add(
        HouseholdVersion(
            household_id=household.id,
            version=household.version,
            content=format_row(after),
            changed_by=changed_by[:120],
            changed_at=now,
        )
    )
    data["version"] = household.version
    return AppliedChange(household, household.version, data)


def _reported_member(household: Household, details: dict[str, Any]) -> HouseholdMember:
    """The member the report names, if the record still has them as they were reported (a
    re-import may have replaced the members, and SQLite may reuse a deleted member's id)."""
    wanted = details.get("member") or {}
    for member in household.members:
        if member.id == details.get("member_id") and member_snapshot(member) == wanted:
            return member
    raise ChangeError("the member is no longer in the household's record as reported")
