"""Reminders before each deadline and escalation after a missed one, run every minute."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.cases import CaseRepo
from db.models import WAITING_STATUSES, Case
from grievances.catalog import rating_window, reminder_lead
from grievances.service import CaseError, CaseService, Renderer

log = logging.getLogger(__name__)


@dataclass
class DeadlineReport:
    reminded: int = 0
    escalated: int = 0
    closed: int = 0


def _which_reminder(case: Case, accept_horizon: datetime) -> str:
    waiting = case.status in WAITING_STATUSES and not case.accept_reminded
    return "accept" if waiting and case.accept_due <= accept_horizon else "resolve"


def missed_deadline(case: Case, now: datetime) -> str:
    return "accept" if case.status in WAITING_STATUSES and case.accept_due < now else "resolve"


async def check_deadlines(
    sessionmaker: async_sessionmaker[AsyncSession],
    render: Renderer,
    now: datetime,
    default_locale: str = "zh_Hans",
) -> DeadlineReport:
    """Escalate what is overdue, remind what is due soon, close what was never rated; one
    transaction per case."""
    report = DeadlineReport()
    lead = reminder_lead()
    async with sessionmaker() as session:
        service = CaseService(session, render, default_locale, clock=lambda: now)
        repo = CaseRepo(session)
        # Another replica may handle the same case at the same moment: its change wins, ours is
        # undone (CaseError) and this round's list is stale, so the round stops; the next one
        # starts from fresh rows.
        try:
            for case in await repo.overdue(now):
                await service.escalate(case, missed_deadline(case, now))
                report.escalated += 1
            for case in await repo.needing_reminder(now + lead.accept, now + lead.resolve):
                await service.remind(case, _which_reminder(case, now + lead.accept))
                report.reminded += 1
            for case in await repo.unrated_since(now - rating_window()):
                await service.close_unrated(case)
                report.closed += 1
        except CaseError:
            log.info("deadlines: a case changed meanwhile; the rest waits for the next round")
    if report.escalated or report.reminded or report.closed:
        log.info("deadlines: %s", report)
    return report
