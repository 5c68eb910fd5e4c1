"""Alerts about stuck notifications: the area's admins are told, through the outbox, of the
notifications still unsent an hour after they were written.

Each stuck row is reported once. A row's area is its case's unit (Case.unit_path); a row
without a case (a loan reminder) belongs to its recipient's village. The admins told are those
of the nearest area on that path that has admins, else the admins with no area (they see
everything). An admin gets one digest at a time: no new one while the last is unsent (so an
outage does not pile alerts up behind it), and at most one an hour.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LOCALES
from bot.i18n import create_i18n
from db.models import Case, OutboxMessage, User
from db.outbox import ALERT, OutboxRepo
from db.regions import RegionRepo

log = logging.getLogger(__name__)

ALERT_AFTER = timedelta(hours=1)
SCAN = 500  # rows looked at per round; the rest are reported in the next rounds
LISTED = 20  # case numbers named in one alert


class StuckAlerts:
    def __init__(self, i18n: I18n | None, default_locale: str, give_up_after: timedelta) -> None:
        self._i18n = i18n
        self.default_locale = default_locale
        self.give_up_after = give_up_after

    @property
    def i18n(self) -> I18n:
        if self._i18n is None:  # loaded only when there is something to say
            self._i18n = create_i18n(self.default_locale)
        return self._i18n

    async def queue(self, session: AsyncSession, now: datetime) -> int:
        """Queue one alert per admin for the rows stuck since an hour; returns how many."""
        repo = OutboxRepo(session)
        rows = await repo.stuck(now - ALERT_AFTER, SCAN)
        if not rows:
            return 0
        digests: dict[int, tuple[User, list[tuple[OutboxMessage, str | None]]]] = {}
        allowed: dict[int, bool] = {}
        unheard: list[int] = []
        for row in rows:
            path, number = await self._area(session, row)
            admins = await repo.admins_for(path)
            if not admins:
                unheard.append(row.id)
            for admin in admins:
                chat = admin.telegram_id
                if chat not in allowed:
                    allowed[chat] = await repo.alert_allowed(chat, now - ALERT_AFTER)
                if allowed[chat]:
                    digests.setdefault(chat, (admin, []))[1].append((row, number))
        wanted = unheard + [row.id for _admin, items in digests.values() for row, _n in items]
        marked = await repo.mark_alerted(wanted, now)
        if unheard:
            log.warning("outbox: %d notifications stuck and no admin to tell", len(unheard))
        queued = 0
        for admin, items in digests.values():
            mine = [(row, number) for row, number in items if row.id in marked]
            if mine:
                session.add(
                    OutboxMessage(
                        chat_id=admin.telegram_id,
                        kind=ALERT,
                        text=self._render(mine, admin.locale),
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
                queued += 1
        await session.commit()
        if queued:
            log.warning("outbox: %d rows stuck, %d admins alerted", len(marked), queued)
        return queued

    async def _area(
        self, session: AsyncSession, row: OutboxMessage
    ) -> tuple[list[str], str | None]:
        """The region codes (top down) the row belongs to, and its case's number."""
        if row.case_id is not None:
            case = await session.get(Case, row.case_id)
            if case is not None:
                return [code for code in case.unit_path.split("/") if code], case.number
        recipient = await session.get(User, row.chat_id)
        if recipient is None or recipient.region_code is None:
            return [], None
        return [
            region.code for region in await RegionRepo(session).path(recipient.region_code)
        ], None

    def _render(self, items: list[tuple[OutboxMessage, str | None]], locale: str | None) -> str:
        chosen = locale if locale in LOCALES else self.default_locale
        numbers = sorted({number for _, number in items if number})
        errors = sorted({row.last_error for row, _ in items if row.last_error})
        others = sum(1 for _row, number in items if not number)
        with self.i18n.context(), self.i18n.use_locale(chosen):
            heading = _("Notifications not delivered for over an hour: {count}")
            lines = [
                "⚠️ <b>" + heading.format(count=len(items)) + "</b>",
                _("Each one is retried until it is {days} days old.").format(
                    days=self.give_up_after.days
                ),
            ]
            if numbers:
                listed = ", ".join(numbers[:LISTED]) + (" …" if len(numbers) > LISTED else "")
                lines.append(_("Cases: {numbers}").format(numbers=listed))
            if others:
                lines.append(_("Other notices (reminders): {count}").format(count=others))
            if errors:
                lines.append(_("Errors: {errors}").format(errors=", ".join(errors[:3])))
        return "\n".join(lines)
