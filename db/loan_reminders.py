"""Loan reminders: which loans fall due soon, who hears of it, and queueing it exactly once.

The reminder of a (household, due date) is recorded in loan_reminders together with its outbox
rows, in one transaction: the primary key makes a second run, or a second instance, fail to
record it again, and then none of its messages is written either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import HouseholdBenefit, HouseholdBinding, LoanReminder, OutboxMessage, User
from knowledge.households import BenefitKind


def _listening(household_id: ColumnElement[int] | int) -> Select[tuple[int, str | None]]:
    """The household's bound members who want reminders and have not blocked the bot."""
    return (
        select(User.telegram_id, User.locale)
        .join(HouseholdBinding, HouseholdBinding.telegram_id == User.telegram_id)
        .where(
            HouseholdBinding.household_id == household_id,
            HouseholdBinding.unbound_at.is_(None),
            User.household_notices.is_(True),
            User.blocked_at.is_(None),
        )
    )


class LoanReminderRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, today: date, lead: timedelta) -> list[tuple[int, date]]:
        """(household id, due date) of the microcredit loans due from today to today + lead
        that someone would hear of and that were not reminded of yet."""
        reminded = select(LoanReminder.household_id).where(
            LoanReminder.household_id == HouseholdBenefit.household_id,
            LoanReminder.due == HouseholdBenefit.due,
        )
        rows = await self.session.execute(
            select(HouseholdBenefit.household_id, HouseholdBenefit.due)
            .where(
                HouseholdBenefit.kind == BenefitKind.MICROCREDIT,
                HouseholdBenefit.due.between(today, today + lead),
                _listening(HouseholdBenefit.household_id).exists(),
                ~reminded.exists(),
            )
            .distinct()
            .order_by(HouseholdBenefit.household_id, HouseholdBenefit.due)
        )
        return [(household_id, due) for household_id, due in rows if due is not None]

    async def recipients(self, household_id: int) -> list[tuple[int, str | None]]:
        """(Telegram id, chosen locale or None) of the members to tell, first bound first."""
        rows = await self.session.execute(_listening(household_id).order_by(HouseholdBinding.id))
        return [(telegram_id, locale) for telegram_id, locale in rows]

    async def queue(
        self, household_id: int, due: date, messages: Sequence[tuple[int, str]], now: datetime
    ) -> bool:
        """Record the reminder and its messages (chat id, text) in one commit; False, with
        nothing written, when it was recorded already (another run or instance was first)."""
        self.session.add(LoanReminder(household_id=household_id, due=due, queued_at=now))
        self.session.add_all(
            OutboxMessage(chat_id=chat_id, text=text) for chat_id, text in messages
        )
        try:
            await self.session.commit()
        except IntegrityError:
            await self.session.rollback()
            return False
        return True
