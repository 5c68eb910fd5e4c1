"""Case queries. Every query a cadre makes goes through an area filter: the cases whose unit
lies at or below the cadre's area (a prefix of the unit's code path)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, CaseStatus, UnitChat

MAX_ID = 2**31 - 1


def _case_key(number_or_id: str | int) -> ColumnElement[bool]:
    """A case id (a forged or mistyped huge one matches nothing) or a tracking number."""
    text = str(number_or_id)
    if text.isascii() and text.isdecimal():
        number = int(text)
        return Case.id == number if number <= MAX_ID else false()
    return Case.number == text


class CaseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def in_area(self, area_path: str, number_or_id: str | int) -> Case | None:
        """One case by tracking number or id, or None when it is outside the area."""
        key = _case_key(number_or_id)
        query = (
            select(Case)
            .where(key, Case.unit_path.startswith(area_path, autoescape=True))
            .options(selectinload(Case.events), selectinload(Case.attachments))
        )
        return await self.session.scalar(query)

    async def open_in_area(self, area_path: str, offset: int, limit: int) -> tuple[list[Case], int]:
        """A page of the area's open cases, the most urgent deadline first, and their count."""
        where = (
            Case.unit_path.startswith(area_path, autoescape=True),
            Case.status.in_(OPEN_STATUSES),
        )
        total = await self.session.scalar(select(func.count()).select_from(Case).where(*where))
        query = (
            select(Case)
            .where(*where)
            .order_by(Case.resolve_due, Case.id)
            .offset(offset)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all()), total or 0

    async def of_reporter(self, reporter_id: int, reporter_case: str | int) -> Case | None:
        key = (
            Case.id == int(reporter_case)
            if str(reporter_case).isdigit()
            else (Case.number == str(reporter_case))
        )
        query = (
            select(Case)
            .where(key, Case.reporter_id == reporter_id)
            .options(selectinload(Case.events))
        )
        return await self.session.scalar(query)

    async def reported_by(self, reporter_id: int, limit: int = 10) -> list[Case]:
        query = (
            select(Case)
            .where(Case.reporter_id == reporter_id)
            .order_by(Case.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def first_reported_after(
        self, reporter_id: int, since: datetime, within: timedelta
    ) -> Case | None:
        """The reporter's first case submitted in ``within`` after ``since`` (the moment the
        report's summary was shown: the case its ✅ Submit button sent)."""
        query = (
            select(Case)
            .where(
                Case.reporter_id == reporter_id,
                Case.created_at >= since,
                Case.created_at < since + within,
            )
            .order_by(Case.id)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def needing_reminder(
        self, accept_before: datetime, resolve_before: datetime
    ) -> list[Case]:
        query = select(Case).where(
            or_(
                (Case.status.in_(WAITING_STATUSES))
                & (Case.accept_due <= accept_before)
                & ~Case.accept_reminded,
                (Case.status.in_(OPEN_STATUSES))
                & (Case.resolve_due <= resolve_before)
                & ~Case.resolve_reminded,
            )
        )
        return list((await self.session.scalars(query)).all())

    async def overdue(self, now: datetime) -> list[Case]:
        query = select(Case).where(
            or_(
                Case.status.in_(WAITING_STATUSES) & (Case.accept_due < now),
                Case.status.in_(OPEN_STATUSES) & (Case.resolve_due < now),
            )
        )
        return list((await self.session.scalars(query)).all())

    async def unrated_since(self, resolved_before: datetime) -> list[Case]:
        query = select(Case).where(
            Case.status == CaseStatus.RESOLVED, Case.resolved_at < resolved_before
        )
        return list((await self.session.scalars(query)).all())

    async def unit_chats(self, unit_codes: list[str]) -> set[int]:
        """The group chats linked to these units."""
        query = select(UnitChat.chat_id).where(UnitChat.region_code.in_(unit_codes))
        return set((await self.session.scalars(query)).all())
