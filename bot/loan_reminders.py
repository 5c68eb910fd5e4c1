"""The loan reminder job: 30 days before a microcredit loan falls due, each bound member who
has not turned reminders off (/notify off) gets one message, in their language, with the
loan, the days left and the rules of the household's region with their sources.

The job only writes outbox rows (bot/outbox.py sends them). A reminder is queued once per
household and due date (db/loan_reminders.py): a member who binds after it was queued gets none
(the household was told; "我家贷款啥时候到期" answers any time), while a household nobody
listens to yet is looked at again every round. A re-import that changes the due date makes a new
reminder for the new date. A loan already past due gets none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import LOCALES
from db.households import HouseholdRepo, data_of
from db.loan_reminders import LoanReminderRepo
from db.models import Household, utcnow
from db.regions import RegionRepo
from handlers.ask import localized
from handlers.households import household_label
from handlers.notices import LOCAL_TIME
from handlers.own_household import render_loan
from knowledge.entries import Entry
from knowledge.households import BenefitKind, HouseholdProfile
from knowledge.service import KnowledgeBase

log = logging.getLogger(__name__)

LEAD = timedelta(days=30)
CHECK_SECONDS = 3600  # a member who binds or turns reminders on is seen within the hour


def render_reminder(
    household: Household,
    label: str,
    profile: HouseholdProfile,
    due: date,
    entries: Sequence[Entry],
    locale: str,
    today: date,
) -> str:
    """The reminder in the current locale: the loans due that day, the days left, and the
    region's rules with their sources (handlers/own_household.render_loan)."""
    data = data_of(household)
    loans = tuple(b for b in data.benefits if b.kind == BenefitKind.MICROCREDIT and b.due == due)
    return "\n".join(
        [
            "<b>⏰ " + _("Your household's small loan falls due soon") + "</b>",
            localized(_("Household {household}").format(household=label), locale),
            render_loan(replace(data, benefits=loans), profile, entries, locale, today),
            "",
            _(
                "If you cannot repay in time, talk to the lending bank or your township "
                "before the due date."
            ),
            "",
            _("/notify off — no more reminders like this"),
        ]
    )


class LoanReminders:
    """Queues the reminders due on a given day, one transaction per household and due date."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], i18n: I18n, default_locale: str
    ) -> None:
        self.sessionmaker = sessionmaker
        self.i18n = i18n
        self.default_locale = default_locale

    async def queue(
        self, entries: Sequence[Entry], today: date, now: datetime | None = None
    ) -> int:
        """Queue what is due; return how many messages were queued."""
        queued = 0
        async with self.sessionmaker() as session:
            repo = LoanReminderRepo(session)
            for household_id, due in await repo.due(today, LEAD):
                try:
                    queued += await self._queue_one(
                        session, household_id, due, entries, today, now or utcnow()
                    )
                except Exception:  # one bad household must not hold back the others
                    await session.rollback()
                    log.exception("loan reminder for household %d failed", household_id)
        if queued:
            log.info("loan reminders: %d messages queued", queued)
        return queued

    async def _queue_one(
        self,
        session: AsyncSession,
        household_id: int,
        due: date,
        entries: Sequence[Entry],
        today: date,
        now: datetime,
    ) -> int:
        repo = LoanReminderRepo(session)
        household = await session.get_one(Household, household_id)
        profile = await HouseholdRepo(session).profile(household)
        label = await household_label(household, RegionRepo(session))
        messages = []
        for chat_id, chosen in await repo.recipients(household_id):
            locale = chosen if chosen in LOCALES else self.default_locale
            with self.i18n.context(), self.i18n.use_locale(locale):
                text = render_reminder(household, label, profile, due, entries, locale, today)
            messages.append((chat_id, text))
        if not messages:
            return 0
        if not await repo.queue(household_id, due, messages, now):
            log.info("loan reminder for household %d was queued by another run", household_id)
            return 0
        return len(messages)


def china_today() -> date:
    """Due dates are China's calendar days, whatever the server's clock zone."""
    return datetime.now(LOCAL_TIME).date()


async def watch_loans(
    sessionmaker: async_sessionmaker[AsyncSession],
    knowledge: KnowledgeBase,
    i18n: I18n,
    default_locale: str,
    every: float = CHECK_SECONDS,
) -> None:
    job = LoanReminders(sessionmaker, i18n, default_locale)
    while True:
        try:
            await job.queue((await knowledge.index()).entries, china_today())
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed round must not stop the job
            log.exception("loan reminders failed")
        await asyncio.sleep(every)
