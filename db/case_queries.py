"""The console's case list and export: the cases of an area narrowed by filters, newest first.
Every query starts from the area (a prefix of the unit's path), as db/cases.py does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Case, Region, RegionLevel
from grievances.stats import overdue, townships_under


@dataclass(frozen=True)
class CaseFilter:
    """What the list is narrowed to; None (or False) leaves a filter out."""

    statuses: tuple[str, ...] | None = None
    category: str | None = None
    township: str | None = None  # the township of the case's place, as statistics count it
    overdue: bool = False
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive


@dataclass(frozen=True)
class ListedCase:
    case: Case
    late: bool  # open and past the deadline that counts now (grievances.stats.overdue)


def _conditions(area: str, filters: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    conditions = [Case.unit_path.startswith(area, autoescape=True)]
    if filters.statuses is not None:
        conditions.append(Case.status.in_(filters.statuses))
    if filters.category is not None:
        conditions.append(Case.category == filters.category)
    if filters.township is not None:
        conditions.append(Case.township_code == filters.township)
    if filters.overdue:
        conditions.append(overdue(now))
    if filters.created_from is not None:
        conditions.append(Case.created_at >= filters.created_from)
    if filters.created_before is not None:
        conditions.append(Case.created_at < filters.created_before)
    return conditions


async def count_cases(session: AsyncSession, area: str, filters: CaseFilter, now: datetime) -> int:
    query = select(func.count()).select_from(Case).where(*_conditions(area, filters, now))
    return await session.scalar(query) or 0


async def find_cases(
    session: AsyncSession,
    area: str,
    filters: CaseFilter,
    now: datetime,
    offset: int = 0,
    limit: int | None = None,
) -> list[ListedCase]:
    """The area's cases that pass the filters, newest first (all of them when no ``limit``)."""
    query = (
        select(Case, overdue(now).label("late"))
        .where(*_conditions(area, filters, now))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [ListedCase(case, bool(late)) for case, late in (await session.execute(query)).all()]


async def region_names(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, str]:
    """The short names of these regions (红星村, 以古镇), in one query."""
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    query = select(Region.code, Region.name).where(Region.code.in_(wanted))
    return {code: name for code, name in (await session.execute(query)).all()}


async def townships_in_area(session: AsyncSession, area_code: str | None) -> list[Region]:
    """The townships at or below the area (every township for an admin of everything)."""
    codes = await townships_under(session, area_code)
    query = select(Region).where(Region.level == RegionLevel.TOWNSHIP).order_by(Region.code)
    if codes is not None:
        query = query.where(Region.code.in_(codes))
    return list((await session.scalars(query)).all())


async def is_overdue(session: AsyncSession, case_id: int, now: datetime) -> bool:
    """Whether one case is overdue now, by the rule the list and the statistics use."""
    return bool(await session.scalar(select(overdue(now)).where(Case.id == case_id)))
