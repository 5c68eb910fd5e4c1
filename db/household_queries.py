"""What the web console asks of the household registry beyond the bot's screens: a searched,
filtered, paged list of an area's households; the villages of an area; the households of one
village with their unused binding codes; the rows of an import file that lie outside an area;
and one transaction around the repositories' own commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.cadre_households import LOAN_WINDOW, OVERDUE_WINDOW
from db.household_template import column_for
from db.households import HouseholdRepo
from db.models import BindingCode, Household, HouseholdBenefit, HouseholdVisit, Region, utcnow
from db.regions import RegionRepo
from db.spreadsheets import open_table

_CHUNK = 500


@dataclass(frozen=True)
class HouseholdFilter:
    """What the list is narrowed to: ``search`` is part of a number or of the head's name."""

    search: str = ""
    status: str = ""
    loan_due_soon: bool = False


@dataclass(frozen=True)
class ListedHousehold:
    household: Household
    village: str
    last_visit: date | None
    loan_due: date | None  # the soonest due date within the bot's reminder window


class CachedRegionNames(HouseholdRepo):
    """The registry as HouseholdRepo reads it, with each village's names looked up once: a page
    of profiles costs one query per village, not per household."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._names: dict[tuple[str, str], list[str]] = {}

    async def region_names(self, household: Household) -> list[str]:
        key = (household.region_code, household.region_path)
        if key not in self._names:
            self._names[key] = await super().region_names(household)
        return self._names[key]


def _conditions(area: str, wanted: HouseholdFilter, today: date) -> list[ColumnElement[bool]]:
    where = [Household.region_path.startswith(area, autoescape=True)]
    if wanted.search:
        where.append(
            Household.number.icontains(wanted.search, autoescape=True)
            | Household.head_name.contains(wanted.search, autoescape=True)
        )
    if wanted.status:
        where.append(Household.status == wanted.status)
    if wanted.loan_due_soon:
        where.append(
            Household.id.in_(_loans(today).with_only_columns(HouseholdBenefit.household_id))
        )
    return where


def _loans(today: date) -> Select:
    """Loans due within the bot's window (or overdue within its grace), by household."""
    return (
        select(HouseholdBenefit.household_id, func.min(HouseholdBenefit.due).label("due"))
        .where(HouseholdBenefit.due.between(today - OVERDUE_WINDOW, today + LOAN_WINDOW))
        .group_by(HouseholdBenefit.household_id)
    )


async def count_households(
    session: AsyncSession, area: str, wanted: HouseholdFilter, today: date
) -> int:
    query = select(func.count()).select_from(Household).where(*_conditions(area, wanted, today))
    return await session.scalar(query) or 0


async def list_households(
    session: AsyncSession,
    area: str,
    wanted: HouseholdFilter,
    today: date,
    *,
    offset: int = 0,
    limit: int | None = None,
    ids: Sequence[int] | None = None,
) -> list[ListedHousehold]:
    """The area's households matching the filter in number order, with their village's name,
    last visit and soonest loan due; ``ids``: only these."""
    loans = _loans(today).subquery()
    visits = (
        select(HouseholdVisit.household_id, func.max(HouseholdVisit.visited_on).label("last"))
        .join(Household, Household.id == HouseholdVisit.household_id)
        .where(Household.region_path.startswith(area, autoescape=True))
        .group_by(HouseholdVisit.household_id)
        .subquery()
    )
    query = (
        select(Household, Region.name, visits.c.last, loans.c.due)
        .join(Region, Region.code == Household.region_code)
        .outerjoin(visits, visits.c.household_id == Household.id)
        .outerjoin(loans, loans.c.household_id == Household.id)
        .where(*_conditions(area, wanted, today))
        .order_by(Household.number)
        .offset(offset)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(Household.id.in_(ids))
    rows = await session.execute(query)
    return [
        ListedHousehold(household, village, last, due) for household, village, last, due in rows
    ]


async def matching_ids(
    session: AsyncSession, area: str, wanted: HouseholdFilter, today: date
) -> AsyncIterator[list[int]]:
    """The ids of the matching households in number order, a chunk at a time."""
    query = select(Household.id).where(*_conditions(area, wanted, today)).order_by(Household.number)
    ids = iter((await session.scalars(query)).all())
    while chunk := list(islice(ids, _CHUNK)):
        yield chunk


async def households_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Household]:
    query = select(Household).where(Household.id.in_(ids)).order_by(Household.number)
    return list((await session.scalars(query)).all())


async def villages_in_area(session: AsyncSession, area: str) -> list[tuple[str, str, int]]:
    """(code, name, households) of the area's villages that have households, by code."""
    query = (
        select(Region.code, Region.name, func.count(Household.id))
        .join(Household, Household.region_code == Region.code)
        .where(Household.region_path.startswith(area, autoescape=True))
        .group_by(Region.code, Region.name)
        .order_by(Region.code)
    )
    return [(code, name, count) for code, name, count in await session.execute(query)]


async def households_of_village(session: AsyncSession, village_code: str) -> list[Household]:
    query = select(Household).where(Household.region_code == village_code)
    return list((await session.scalars(query.order_by(Household.number))).all())


async def open_code_times(
    session: AsyncSession, household_ids: Sequence[int], now: datetime | None = None
) -> dict[int, datetime]:
    """When each of these households' newest still usable binding code was made."""
    now = now or utcnow()
    query = (
        select(BindingCode.household_id, func.max(BindingCode.created_at))
        .where(
            BindingCode.household_id.in_(household_ids),
            BindingCode.used_at.is_(None),
            BindingCode.revoked_at.is_(None),
            BindingCode.expires_at > now,
        )
        .group_by(BindingCode.household_id)
    )
    return {household_id: made for household_id, made in await session.execute(query)}


@dataclass(frozen=True)
class OutsideRow:
    """A row of an import file about a household outside the importer's area."""

    row: int
    column: str  # the file's header of the offending column
    value: str  # the village code, or the number of a household stored elsewhere


async def rows_outside_area(session: AsyncSession, path: Path, area: str) -> list[OutsideRow]:
    """The rows whose village is known and outside the area, or whose number belongs to a
    stored household outside it (an import must not move one in). Unknown villages and other
    problems are the import's own to report. Raises db.spreadsheets.SpreadsheetError."""
    with open_table(path) as table:
        columns = {}
        for index, header in enumerate(table.header):
            column = column_for(header) if header else None
            if column is not None and column.name in ("number", "village"):
                columns.setdefault(column.name, (index, header))
        if len(columns) < 2:
            return []  # the import reports the missing column
        (number_at, number_header), (village_at, village_header) = (
            columns["number"],
            columns["village"],
        )
        rows = [
            (row, _cell(cells, number_at), _cell(cells, village_at)) for row, cells in table.rows
        ]
    paths = await _village_paths(session, {village for _, _, village in rows if village})
    stored = await _stored_paths(session, {number for _, number, _ in rows if number})
    outside = []
    for row, number, village in rows:
        if village in paths and not paths[village].startswith(area):
            outside.append(OutsideRow(row, village_header, village))
        elif number in stored and not stored[number].startswith(area):
            outside.append(OutsideRow(row, number_header, number))
    return outside


def _cell(cells: list[str], index: int) -> str:
    return cells[index].strip() if index < len(cells) else ""


async def _village_paths(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    repo = HouseholdRepo(session)
    found = {}
    for code in sorted(codes):
        if (region := await RegionRepo(session).get(code)) is not None:
            found[code] = await repo.area_path(region.code) or ""
    return found


async def _stored_paths(session: AsyncSession, numbers: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    ordered = iter(sorted(numbers))
    while chunk := list(islice(ordered, _CHUNK)):
        query = select(Household.number, Household.region_path).where(Household.number.in_(chunk))
        found.update({number: path for number, path in await session.execute(query)})
    return found
