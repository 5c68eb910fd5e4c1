"""Statistics per township and period: 响应率, 解决率, 按期办结率, 满意率, overdue now.

The bot's /stats, `huhuqing cases stats` and the console's /stats page all count here, with the
same area rule (`townships_under`) and the same period rule (`Period`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, Region, RegionLevel

SATISFIED = ("satisfied", "basically")
FIXED = ("fixed", "partly_fixed")
DEFAULT_DAYS = 30  # the period when none is given: the bot's, the command's and the page's
LOCAL_TIME = ZoneInfo("Asia/Shanghai")  # a period's dates are days in Beijing
WEEK = timedelta(days=7)


class _Rates:
    """The four rates of a row of counts (a township's, a week's)."""

    cases: int
    accepted_in_time: int
    fixed: int
    resolved_in_time: int
    rated: int
    satisfied: int

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    @property
    def response_rate(self) -> float | None:  # 响应率: accepted within the deadline
        return self._rate(self.accepted_in_time, self.cases)

    @property
    def resolution_rate(self) -> float | None:  # 解决率: fixed or partly fixed
        return self._rate(self.fixed, self.cases)

    @property
    def on_time_rate(self) -> float | None:  # 按期办结率
        return self._rate(self.resolved_in_time, self.cases)

    @property
    def satisfaction_rate(self) -> float | None:  # 满意率: 满意 or 基本满意 among ratings
        return self._rate(self.satisfied, self.rated)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {  # type: ignore[call-overload]
            "response_rate": self.response_rate,
            "resolution_rate": self.resolution_rate,
            "on_time_rate": self.on_time_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


@dataclass(frozen=True)
class TownshipStats(_Rates):
    township_code: str | None
    township: str
    cases: int
    accepted_in_time: int
    resolved: int  # 办结: handled to an outcome, whatever it was
    fixed: int  # the outcome was "fixed" or "partly fixed": closed is not fixed
    resolved_in_time: int
    rated: int
    satisfied: int
    overdue_now: int


@dataclass(frozen=True)
class WeekStats(_Rates):
    """The cases of an area created in one week of a period (the last week may be shorter)."""

    since: datetime
    until: datetime
    cases: int
    accepted_in_time: int
    resolved: int
    fixed: int
    resolved_in_time: int
    rated: int
    satisfied: int
    overdue_now: int


COUNTS = tuple(field.name for field in fields(WeekStats))[2:]  # what is counted, in order


@dataclass(frozen=True)
class Period:
    """Cases created in [since, until)."""

    since: datetime
    until: datetime

    @classmethod
    def last_days(cls, days: int, now: datetime) -> Period:
        """The last ``days`` days up to this moment (the default of every statistics view)."""
        return cls(now - timedelta(days=days), now)

    @classmethod
    def of_dates(cls, first: date, last: date) -> Period:
        """From the start of ``first`` to the end of ``last``, both days in Beijing."""
        return cls(_local_midnight(first), _local_midnight(last + timedelta(days=1)))

    @property
    def first_day(self) -> date:
        return self.since.astimezone(LOCAL_TIME).date()

    @property
    def last_day(self) -> date:
        return (self.until - timedelta(microseconds=1)).astimezone(LOCAL_TIME).date()

    def weeks(self) -> list[tuple[datetime, datetime]]:
        """Seven-day steps from ``since``; the last one ends at ``until``."""
        starts = []
        start = self.since
        while start < self.until:
            starts.append(start)
            start += WEEK
        return [(start, min(start + WEEK, self.until)) for start in starts]


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TIME).astimezone(UTC)


def overdue(now: datetime) -> ColumnElement[bool]:
    """An open case past its deadline: not accepted in time, or not resolved in time."""
    waiting = Case.status.in_(WAITING_STATUSES)
    return and_(
        Case.status.in_(OPEN_STATUSES),
        (waiting & (Case.accept_due < now)) | (Case.resolve_due < now),
    )


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counted(now: datetime) -> list[object]:
    """The COUNTS of a group of cases, as SQL aggregates.

    Timeliness is judged against the first deadlines a case was given, not the fresh ones an
    escalation grants: a case the township never accepted does not count as accepted in time.
    """
    resolved = Case.resolved_at.is_not(None)
    first_accept = func.coalesce(Case.first_accept_due, Case.accept_due)
    first_resolve = func.coalesce(Case.first_resolve_due, Case.resolve_due)
    return [
        func.count(),
        _count(and_(Case.accepted_at.is_not(None), Case.accepted_at <= first_accept)),
        _count(resolved),
        _count(and_(resolved, Case.outcome.in_(FIXED))),
        _count(and_(resolved, Case.resolved_at <= first_resolve)),
        _count(Case.rating.is_not(None)),
        _count(Case.rating.in_(SATISFIED)),
        _count(overdue(now)),
    ]


class _WeekOf(FunctionElement[int]):
    """How many whole weeks after a moment (given in days since 1970) a timestamp falls."""

    type = Float()
    inherit_cache = True


@compiles(_WeekOf, "sqlite")
def _week_of_sqlite(element: _WeekOf, compiler: Any, **kw: Any) -> str:
    moment, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST((julianday({moment}) - 2440587.5 - {start}) / 7 AS INTEGER)"


@compiles(_WeekOf, "postgresql")
def _week_of_postgresql(element: _WeekOf, compiler: Any, **kw: Any) -> str:
    moment, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(floor((extract(epoch FROM {moment}) / 86400.0 - {start}) / 7) AS INTEGER)"


async def _tally(
    session: AsyncSession,
    townships: list[str] | None,
    period: Period,
    now: datetime,
    weekly: bool,
) -> list[tuple[Any, ...]]:
    """(township code, [week number,] *COUNTS) of the cases created in the period."""
    keys: list[Any] = [Case.township_code]
    if weekly:
        keys.append(_WeekOf(Case.created_at, period.since.timestamp() / 86400))
    query = (
        select(*keys, *_counted(now))
        .where(Case.created_at >= period.since, Case.created_at < period.until)
        .group_by(*keys)
    )
    if townships is not None:
        query = query.where(Case.township_code.in_(townships))
    return [tuple(row) for row in (await session.execute(query)).all()]


async def _named(session: AsyncSession, counts: dict[str | None, list[int]]) -> list[TownshipStats]:
    codes = [code for code in counts if code]
    names = dict(
        (
            await session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
        ).all()
    )
    return sorted(
        (
            TownshipStats(code, names.get(code, code or "-"), *values)
            for code, values in counts.items()
        ),
        key=lambda stats: stats.township_code or "",
    )


async def township_stats(
    session: AsyncSession,
    townships: list[str] | None,
    since: datetime,
    until: datetime,
    now: datetime,
) -> list[TownshipStats]:
    """One row per township with cases created in [since, until); ``townships`` None = all."""
    rows = await _tally(session, townships, Period(since, until), now, weekly=False)
    return await _named(session, {code: list(map(int, values)) for code, *values in rows})


@dataclass(frozen=True)
class AreaStats:
    """An area's figures for a period: per township, and per week for the whole area."""

    period: Period
    townships: list[TownshipStats]
    weeks: list[WeekStats]

    @property
    def total(self) -> WeekStats:
        """The whole area for the whole period."""
        counts = [sum(getattr(week, name) for week in self.weeks) for name in COUNTS]
        return WeekStats(self.period.since, self.period.until, *counts)


async def area_stats(
    session: AsyncSession, area_code: str | None, period: Period, now: datetime
) -> AreaStats:
    """The townships at or below ``area_code`` (None: all), each and week by week, counted in
    one pass: the townships' rows are the sums of their weeks, so both always agree."""
    rows = await _tally(session, await townships_under(session, area_code), period, now, True)
    weeks = period.weeks()
    per_township: dict[str | None, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    per_week = [[0] * len(COUNTS) for _ in weeks]
    for code, week, *values in rows:
        index = min(max(int(week), 0), len(weeks) - 1)  # float rounding at a week's edge
        for totals in (per_township[code], per_week[index]):
            for position, value in enumerate(values):
                totals[position] += int(value)
    return AreaStats(
        period,
        await _named(session, per_township),
        [
            WeekStats(since, until, *counts)
            for (since, until), counts in zip(weeks, per_week, strict=True)
        ],
    )


async def townships_under(session: AsyncSession, area_code: str | None) -> list[str] | None:
    """The township codes at or below an area (None: no limit, for admins of everything)."""
    if area_code is None:
        return None
    area = await session.get(Region, area_code)
    if area is None:
        return []
    if area.level == RegionLevel.TOWNSHIP:
        return [area.code]
    frontier, townships = [area.code], []
    while frontier:
        children = (
            await session.execute(
                select(Region.code, Region.level).where(Region.parent_code.in_(frontier))
            )
        ).all()
        townships += [code for code, level in children if level == RegionLevel.TOWNSHIP]
        frontier = [code for code, level in children if level != RegionLevel.TOWNSHIP]
    return townships
