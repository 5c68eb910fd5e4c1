"""Statistics per township and period: 响应率, 解决率, 按期办结率, 满意率, overdue now."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, Region, RegionLevel

SATISFIED = ("satisfied", "basically")
FIXED = ("fixed", "partly_fixed")


@dataclass(frozen=True)
class TownshipStats:
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

    def as_dict(self) -> dict:
        return asdict(self) | {
            "response_rate": self.response_rate,
            "resolution_rate": self.resolution_rate,
            "on_time_rate": self.on_time_rate,
            "satisfaction_rate": self.satisfaction_rate,
        }


def overdue(now: datetime) -> ColumnElement[bool]:
    """An open case past its deadline: not accepted in time, or not resolved in time."""
    waiting = Case.status.in_(WAITING_STATUSES)
    return and_(
        Case.status.in_(OPEN_STATUSES),
        (waiting & (Case.accept_due < now)) | (Case.resolve_due < now),
    )


def _count(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def township_stats(
    session: AsyncSession,
    townships: list[str] | None,
    since: datetime,
    until: datetime,
    now: datetime,
) -> list[TownshipStats]:
    """One row per township with cases created in [since, until); ``townships`` None = all.

    Timeliness is judged against the first deadlines a case was given, not the fresh ones an
    escalation grants: a case the township never accepted does not count as accepted in time.
    """
    resolved = Case.resolved_at.is_not(None)
    first_accept = func.coalesce(Case.first_accept_due, Case.accept_due)
    first_resolve = func.coalesce(Case.first_resolve_due, Case.resolve_due)
    query = (
        select(
            Case.township_code,
            func.count(),
            _count(and_(Case.accepted_at.is_not(None), Case.accepted_at <= first_accept)),
            _count(resolved),
            _count(and_(resolved, Case.outcome.in_(FIXED))),
            _count(and_(resolved, Case.resolved_at <= first_resolve)),
            _count(Case.rating.is_not(None)),
            _count(Case.rating.in_(SATISFIED)),
            _count(overdue(now)),
        )
        .where(Case.created_at >= since, Case.created_at < until)
        .group_by(Case.township_code)
    )
    if townships is not None:
        query = query.where(Case.township_code.in_(townships))
    rows = (await session.execute(query)).all()
    names = dict(
        (await session.execute(select(Region.code, Region.name).where(
            Region.code.in_([row[0] for row in rows if row[0]])
        ))).all()
    )  # fmt: skip
    return sorted(
        (
            TownshipStats(code, names.get(code, code or "-"), *map(int, values))
            for code, *values in rows
        ),
        key=lambda stats: stats.township_code or "",
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
