"""At most HUHUQING_REPORTS_PER_DAY reports from one user in 24 hours, so that one user cannot
flood a township; the database counts them, so every instance agrees and restarts forget nothing."""

from __future__ import annotations

from datetime import timedelta

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db.models import Case, User, utcnow


async def refuse_extra_report(
    query: CallbackQuery, session: AsyncSession, reporter: User, settings: Settings
) -> bool:
    """True, after telling the user why, when ``reporter`` used up the day's reports."""
    recent = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.reporter_id == reporter.telegram_id,
            Case.created_at >= utcnow() - timedelta(days=1),
        )
    )
    if (recent or 0) < settings.reports_per_day:
        return False
    await session.commit()  # the connection goes back to the pool before the bot sends
    await query.answer(
        _(
            "You have already sent {count} reports today. Please try again tomorrow, "
            "or call {hotline}."
        ).format(count=settings.reports_per_day, hotline=settings.hotline),
        show_alert=True,
    )
    return True
