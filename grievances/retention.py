"""Retention: closed cases lose what identifies the reporter or repeats their words after N months.

What stays is what the statistics need: category, place, unit, dates, deadlines, outcome and
rating, the cadres' actions. What goes: the description, every note, the structured details and
the household link, photos' file ids and locations, the reporter's id (0; the column is not
nullable) wherever it appears, and the texts of the case's notifications. An anonymised case
keeps the marker as its description, so a second run skips it.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from db.models import Case, CaseEvent, CaseStatus, OutboxMessage

MARKER = "[已匿名化 anonymised]"
NOBODY = 0  # Case.reporter_id is not nullable
BATCH = 200
# Events whose data repeats what was reported (a household change's fields).
PERSONAL_DATA_EVENTS = frozenset({"change_confirmed"})


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the 31st → the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _due(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Case.status == CaseStatus.CLOSED,
        Case.closed_at < cutoff,
        Case.description != MARKER,
    )


async def count_due(session: AsyncSession, cutoff: datetime) -> int:
    """How many closed cases, closed before ``cutoff``, still hold personal data."""
    return await session.scalar(select(func.count()).select_from(Case).where(*_due(cutoff))) or 0


async def anonymise_closed(session: AsyncSession, cutoff: datetime) -> int:
    """Anonymise every closed case closed before ``cutoff``, a batch per transaction; returns
    how many were changed."""
    changed = 0
    while True:
        cases = list(
            await session.scalars(
                select(Case)
                .where(*_due(cutoff))
                .order_by(Case.id)
                .limit(BATCH)
                .options(selectinload(Case.events), selectinload(Case.attachments))
            )
        )
        if not cases:
            return changed
        for case in cases:
            _anonymise(case)
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.case_id.in_([case.id for case in cases]))
            .values(text=MARKER, reply_markup=None)
        )
        await session.commit()
        changed += len(cases)


def _anonymise(case: Case) -> None:
    reporter = case.reporter_id
    for event in case.events:
        _anonymise_event(event, reporter)
    for attachment in case.attachments:
        attachment.file_id = MARKER if attachment.file_id is not None else None
        attachment.latitude = attachment.longitude = None
    case.description = MARKER
    case.details = None
    case.household_id = None
    case.reporter_id = NOBODY
    case.source_update_id = None  # with reporter 0, the (reporter, update) pair must not clash


def _anonymise_event(event: CaseEvent, reporter: int) -> None:
    if event.note is not None:
        event.note = MARKER
    if event.actor_id == reporter:
        event.actor_id = NOBODY
    if event.kind in PERSONAL_DATA_EVENTS:
        event.data = None
