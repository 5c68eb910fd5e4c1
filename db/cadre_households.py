"""What a helper cadre reads and writes about the households of their area: the list ordered by
what needs attention, one household's open cases and visits, a new visit.

The order is computed in SQL from what is cheap to know for every household — a loan due within
30 days, an open change report (家庭情况变化), no visit in 90 days — so that a page costs the same
at 100 or 100,000 households. Gaps (knowledge/eligibility.py) need each household's whole profile
and the policy entries: they are computed for the page shown, by the caller, and tagged, not
ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    OPEN_STATUSES,
    Case,
    Household,
    HouseholdBenefit,
    HouseholdBinding,
    HouseholdHelper,
    HouseholdVisit,
)

LOAN_WINDOW = timedelta(days=30)
# A loan past due stays on top for this long (a repaid loan's old date must not stay forever).
OVERDUE_WINDOW = timedelta(days=90)
VISIT_INTERVAL = timedelta(days=90)
CHANGE_CATEGORY = "household_change"
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Attention:
    """One household of a page and what it needs, by the cheap criteria."""

    household: Household
    loan_due: date | None  # the soonest due date within the window (or overdue)
    loan_overdue: bool
    open_changes: int
    last_visit: date | None
    visit_overdue: bool  # never visited, or not within VISIT_INTERVAL


def phone_digits(phone: str) -> str:
    """A phone as comparable digits: 8613800000001, +86 138-0000-0001 → 13800000001."""
    digits = "".join(filter(str.isdigit, phone))
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def _stored_digits(column: ColumnElement[str]) -> ColumnElement[str]:
    for mark in ("-", " ", "+", "(", ")"):
        column = func.replace(column, mark, "")
    return column


class CadreHouseholdRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def in_area(self, area_path: str, household_id: int) -> Household | None:
        """A household by id if it lies in the area; None otherwise (also for a forged id)."""
        if not 0 < household_id <= MAX_ID:
            return None
        household = await self.session.get(Household, household_id)
        if household is None or not household.region_path.startswith(area_path):
            return None
        return household

    def _area(self, area_path: str, helper_phone: str | None) -> list[ColumnElement[bool]]:
        where = [Household.region_path.startswith(area_path, autoescape=True)]
        if helper_phone is not None:
            # The registry writes phones as people do (138-0000-0001, +86 …).
            stored = _stored_digits(HouseholdHelper.phone)
            where.append(
                exists().where(
                    HouseholdHelper.household_id == Household.id,
                    stored.in_([helper_phone, "86" + helper_phone]),
                )
            )
        return where

    async def count(self, area_path: str, helper_phone: str | None = None) -> int:
        query = select(func.count()).select_from(Household)
        return await self.session.scalar(query.where(*self._area(area_path, helper_phone))) or 0

    async def attention_page(
        self,
        area_path: str,
        today: date,
        offset: int,
        limit: int,
        helper_phone: str | None = None,
    ) -> list[Attention]:
        """A page of the area's households (or those with this helper phone), most urgent first:
        a loan due within 30 days or
        overdue (soonest first), an open change report, no visit in 90 days
        (never visited, then the longest ago), then the rest; by number within each."""
        loans = (
            select(HouseholdBenefit.household_id, func.min(HouseholdBenefit.due).label("due"))
            .where(HouseholdBenefit.due.between(today - OVERDUE_WINDOW, today + LOAN_WINDOW))
            .group_by(HouseholdBenefit.household_id)
            .subquery()
        )
        changes = (
            select(Case.household_id, func.count().label("open"))
            .where(
                Case.household_id.is_not(None),
                Case.category == CHANGE_CATEGORY,
                Case.status.in_(OPEN_STATUSES),
            )
            .group_by(Case.household_id)
            .subquery()
        )
        # The one aggregate over many rows: kept to the area, so a township's page does not
        # read the whole county's visits.
        visits = (
            select(HouseholdVisit.household_id, func.max(HouseholdVisit.visited_on).label("last"))
            .join(Household, Household.id == HouseholdVisit.household_id)
            .where(Household.region_path.startswith(area_path, autoescape=True))
            .group_by(HouseholdVisit.household_id)
            .subquery()
        )
        overdue = or_(visits.c.last.is_(None), visits.c.last < today - VISIT_INTERVAL)
        tier = case(
            (loans.c.due.is_not(None), 0),
            (changes.c.open.is_not(None), 1),
            (overdue, 2),
            else_=3,
        )
        query: Select = (
            select(Household, loans.c.due, changes.c.open, visits.c.last, overdue)
            .outerjoin(loans, loans.c.household_id == Household.id)
            .outerjoin(changes, changes.c.household_id == Household.id)
            .outerjoin(visits, visits.c.household_id == Household.id)
            .where(*self._area(area_path, helper_phone))
            .order_by(
                tier,
                loans.c.due,
                visits.c.last.is_not(None),
                visits.c.last,
                Household.number,
            )
            .offset(offset)
            .limit(limit)
        )
        return [
            Attention(
                household, due, due is not None and due < today, open_changes or 0, last, bool(late)
            )
            for household, due, open_changes, last, late in await self.session.execute(query)
        ]

    async def open_cases(self, household: Household) -> list[Case]:
        """The open cases about the household (any category), oldest first."""
        query = (
            select(Case)
            .where(Case.household_id == household.id, Case.status.in_(OPEN_STATUSES))
            .order_by(Case.created_at, Case.id)
        )
        return list((await self.session.scalars(query)).all())

    async def bindings(self, household: Household) -> int:
        """How many accounts are linked to the household now."""
        query = (
            select(func.count())
            .select_from(HouseholdBinding)
            .where(
                HouseholdBinding.household_id == household.id,
                HouseholdBinding.unbound_at.is_(None),
            )
        )
        return await self.session.scalar(query) or 0

    async def add_visit(
        self, household: Household, on: date, checklist: list[str], note: str | None, by: str
    ) -> HouseholdVisit:
        visit = HouseholdVisit(
            household_id=household.id,
            visited_on=on,
            checklist=checklist,
            note=note,
            visited_by=by[:50],
        )
        self.session.add(visit)
        await self.session.commit()
        return visit
