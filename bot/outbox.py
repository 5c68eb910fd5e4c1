"""The outbox worker: sends the notifications the case lifecycle committed, with retries.

A notification is delayed by an outage, never dropped:

* Telegram down, a network error, a 5xx, any unexpected error: retried with exponential backoff
  (2, 4, 8 … seconds, then every 5 minutes) for ``give_up_after`` (HUHUQING_OUTBOX_GIVE_UP_DAYS)
  from when it was written; the area's admins are told of rows still unsent after an hour
  (bot/outbox_alerts.py). A 429 waits ``retry_after`` and is no failure.
* An error that can never succeed — a Bad Request other than "message is too long" or "retry",
  a row whose keyboard cannot be read — is given up at once.
* A chat Telegram refuses (403: a group that removed the bot, a user who blocked it or never
  opened it; 400 "chat not found") is marked, and what was pending for it is re-routed at once:
  a unit's group's notices go to the unit's cadres privately, a cadre's to the unit's other
  cadres — failing those, up the regions (CaseService.unit_recipients), then to the area's
  admins. A villager's own notices (their cases, their reminders) go to nobody else.

Each row is leased to one instance (db/outbox.py) for LEASE; a heartbeat extends the lease of
the rows still being sent (a lane whose heartbeat cannot renew it stops before it runs out, so
that a replica taking the rows over never sends them twice), and an instance releases its own
leases when it starts. Each chat is
sent to in a lane of its own, so that one chat's pace (a group's 20 messages a minute, a 429)
holds up no other chat.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_alerts import StuckAlerts
from bot.waiting import wait_set
from db.models import Case, OutboxMessage, User, utcnow
from db.outbox import LEASE, NOTICE, ROLE, DeadChat, OutboxRepo
from db.regions import RegionRepo
from grievances.service import CaseService

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

TELEGRAM_LIMIT = 4096
BATCH = 20  # rows claimed at a time by send_due (the console, tests)
# A lane stops this long before its lease would run out unrenewed (its heartbeat failing): past
# it, another replica may have taken the rows, and sending them here too would send them twice.
LEASE_MARGIN = timedelta(seconds=5)
LANES = 50  # chats the running worker sends to at once, each at its own pace
MAX_BACKOFF = timedelta(minutes=5)
ALERT_CHECK = timedelta(minutes=1)
_RETRYABLE = re.compile(r"message is too long|retry", re.IGNORECASE)
_CHAT_GONE = re.compile(r"chat not found", re.IGNORECASE)


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Pieces under the limit, cut at a line break where possible, never inside an HTML tag,
    an element (<b>…</b>) or an entity (&amp;), so that every piece is valid HTML."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        cut = _safe_cut(text, cut)
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    pieces.append(text)
    return pieces


_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def _safe_cut(text: str, cut: int) -> int:
    opening = text.rfind("<", 0, cut)
    if opening > text.rfind(">", 0, cut):
        cut = opening  # inside a tag
    entity = text.rfind("&", 0, cut)
    if entity > text.rfind(";", 0, cut):
        cut = entity  # inside an entity
    unclosed: list[int] = []  # start of each element still open at the cut
    for tag in _TAG.finditer(text, 0, cut):
        if tag.group(1):
            if unclosed:
                unclosed.pop()
        else:
            unclosed.append(tag.start())
    return unclosed[0] if unclosed and unclosed[0] > 0 else cut


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds after each failed attempt, at most MAX_BACKOFF."""
    return min(timedelta(seconds=2 ** min(attempts, 20)), MAX_BACKOFF)


def _render_nothing(notice: object) -> tuple[str, None]:
    raise AssertionError("the outbox only asks CaseService for recipients")


class OutboxWorker:
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = 1.0,
        *,
        instance: str | None = None,
        give_up_after: timedelta = timedelta(days=7),
        default_locale: str = "zh_Hans",
        i18n: I18n | None = None,
        heartbeat_seconds: float = LEASE.total_seconds() / 3,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.instance = instance or socket.gethostname()[:100]
        self.give_up_after = give_up_after
        self.default_locale = default_locale
        self.heartbeat_seconds = heartbeat_seconds
        self.i18n = i18n
        self.alerts = StuckAlerts(i18n, default_locale, give_up_after)
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._lane_closed = asyncio.Event()

    @classmethod
    def from_settings(
        cls,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        i18n: I18n | None = None,
    ) -> OutboxWorker:
        return cls(
            bot,
            sessionmaker,
            instance=settings.instance_name,
            give_up_after=timedelta(days=settings.outbox_give_up_days),
            default_locale=settings.default_locale,
            i18n=i18n,
        )

    async def run(self) -> None:
        """Send for ever: each chat's due rows in a lane of their own (oldest first), up to
        LANES chats at once, so that one chat's pace (a group's 20 a minute, a 429) holds up
        nobody else's."""
        started = False
        next_check = self.clock() + ALERT_CHECK  # a backlog is sent before it is reported
        while True:
            try:
                if not started:
                    await self.release_own()
                    started = True
                if self.clock() >= next_check:
                    next_check = self.clock() + ALERT_CHECK
                    await self.alert_stuck()
                if not await self._open_lanes():
                    await wait_set(self._lane_closed, self.poll_seconds)
                    self._lane_closed.clear()
            except asyncio.CancelledError:
                for lane in self._lanes.values():
                    lane.cancel()
                raise
            except Exception:  # the worker must outlive any one bad row or a database blip
                log.exception("outbox worker error")
                await asyncio.sleep(self.poll_seconds)

    async def _open_lanes(self) -> int:
        """Claim due rows for chats without a lane and start their lanes; how many rows."""
        free = LANES - len(self._lanes)
        if free <= 0:
            return 0
        async with self.sessionmaker() as session:
            messages = await OutboxRepo(session).claim(
                self.clock(), free, self.instance, busy=self._lanes.keys()
            )
        for chat_id, ids in _ids_by_chat(messages).items():
            lane = asyncio.create_task(self._send_chat(ids))
            self._lanes[chat_id] = lane
            lane.add_done_callback(lambda _, chat_id=chat_id: self._close_lane(chat_id))
        return len(messages)

    def _close_lane(self, chat_id: int) -> None:
        self._lanes.pop(chat_id, None)
        self._lane_closed.set()  # that chat may have more rows due

    async def release_own(self) -> int:
        """Take back at once the rows this instance was sending when it last stopped."""
        async with self.sessionmaker() as session:
            released = await OutboxRepo(session).release(self.instance)
            await session.commit()
        if released:
            log.info("outbox: %d rows leased before a restart are due again", released)
        return released

    async def alert_stuck(self) -> int:
        """Tell the areas' admins about notifications unsent for an hour; returns how many
        alerts were queued."""
        async with self.sessionmaker() as session:
            return await self.alerts.queue(session, self.clock())

    async def send_due(self, chat_id: int | None = None) -> int:
        """Send one batch of what is due now (only to ``chat_id`` if given), the chats side by
        side; return how many messages were handled."""
        async with self.sessionmaker() as session:
            messages = await OutboxRepo(session).claim(self.clock(), BATCH, self.instance, chat_id)
        lanes = _ids_by_chat(messages).values()
        await asyncio.gather(*(self._send_chat(ids) for ids in lanes))
        return len(messages)

    async def _send_chat(self, ids: list[int]) -> None:
        """One chat's claimed rows, in order, each committed once sent (or rescheduled), so that
        a crash in the middle of a batch sends none of the earlier rows again. No connection is
        held while Telegram is waited for."""
        lease = _Lease(self.clock() + LEASE - LEASE_MARGIN)
        heartbeat = asyncio.create_task(self._heartbeat(ids, lease))
        try:
            async with self.sessionmaker() as session:
                repo = OutboxRepo(session)
                query = select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                messages = list((await session.scalars(query.order_by(OutboxMessage.id))).all())
                await session.commit()
                for message in messages:
                    if self.clock() >= lease.until:
                        log.warning(
                            "outbox: a lease ran out unrenewed; the next round sends the rest"
                        )
                        break
                    if message.failed_at is None:  # not re-routed with an earlier one
                        await self._send(session, repo, message)
                        await session.commit()
        except Exception:  # the lease runs out and another round sends what is left
            log.exception("outbox: sending to one chat failed")
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)  # never hides our own cancel

    async def _heartbeat(self, ids: Sequence[int], lease: _Lease) -> None:
        """While a batch is being sent (a slow network, the rate limiter), keep its lease."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            until = self.clock() + LEASE
            try:
                async with self.sessionmaker() as session:
                    await OutboxRepo(session).extend(ids, self.instance, until)
                    await session.commit()
                lease.until = until - LEASE_MARGIN
            except Exception as error:  # the next beat tries again
                log.warning("outbox lease heartbeat failed (%s)", type(error).__name__)

    async def _send(self, session: AsyncSession, repo: OutboxRepo, message: OutboxMessage) -> None:
        now = self.clock()
        message.attempts += 1
        message.locked_until = message.locked_by = None
        try:
            await self._deliver(message)
            message.sent_at = now
            if message.kind == ROLE:
                await self._refresh_menu(session, message.chat_id)
        except TelegramRetryAfter as error:
            message.next_attempt_at = now + timedelta(seconds=error.retry_after)
            message.attempts -= 1  # Telegram's pacing is not a failure
        except TelegramMigrateToChat as error:
            # The township's group became a supergroup: follow it, and send again at once.
            await repo.move_chat(message.chat_id, error.migrate_to_chat_id)
            message.chat_id = error.migrate_to_chat_id
            message.attempts -= 1
        except TelegramForbiddenError:
            await self._unreachable(session, repo, message, now, "403")
        except TelegramBadRequest as error:
            if _CHAT_GONE.search(error.message):
                await self._unreachable(session, repo, message, now, "chat not found")
            elif _RETRYABLE.search(error.message):
                self._retry(message, now, error)
            else:
                self._give_up(message, now, f"{type(error).__name__}: {error.message}")
        except ValidationError as error:  # a row that cannot be read is never sendable
            self._give_up(message, now, type(error).__name__)
        except Exception as error:  # an outage, a 5xx, a bug: later, until the horizon
            self._retry(message, now, error)

    async def _refresh_menu(self, session: AsyncSession, chat_id: int) -> None:
        """Give a person told of a new role the command menu of the role they have now."""
        from handlers.admin import update_menu  # handlers import this module

        user = await session.get(User, chat_id)
        if user is None or self.i18n is None:
            return
        try:
            await update_menu(self.bot, self.i18n, user, RegionRepo(session))
        except Exception as error:  # the notice arrived; the menu follows at their next /start
            log.warning("outbox: a role's menu not refreshed (%s)", type(error).__name__)

    def _retry(self, message: OutboxMessage, now: datetime, error: Exception) -> None:
        name = type(error).__name__
        if now - message.created_at >= self.give_up_after:
            self._give_up(message, now, f"{name}, still after {self.give_up_after.days} days")
        else:
            message.last_error = name
            message.next_attempt_at = now + backoff(message.attempts)

    def _give_up(self, message: OutboxMessage, now: datetime, why: str) -> None:
        message.failed_at = now
        message.last_error = why[:300]
        log.warning("outbox %d: gave up (%s)", message.id, why.split(":")[0])

    async def _unreachable(
        self,
        session: AsyncSession,
        repo: OutboxRepo,
        message: OutboxMessage,
        now: datetime,
        why: str,
    ) -> None:
        """The chat refuses the bot: mark it, and re-route what it was still to receive."""
        dead = await repo.block_chat(message.chat_id, now)
        log.info("outbox %d: the chat refused the bot (%s)", message.id, why)
        for row in await repo.pending_to(message.chat_id, now, self.instance):
            row.failed_at = now
            row.locked_until = row.locked_by = None
            row.last_error = f"{why}; {await self._reroute(session, repo, row, dead)}"[:300]

    async def _reroute(
        self, session: AsyncSession, repo: OutboxRepo, row: OutboxMessage, dead: DeadChat
    ) -> str:
        """Queue the row's text for whoever stands in for the dead chat; says where it went."""
        case = await session.get(Case, row.case_id) if row.case_id is not None else None
        unit = _stand_in_unit(row, case, dead)
        if unit is None or case is None:
            return "not re-routed (the recipient's own notice)"
        service = CaseService(session, _render_nothing, self.default_locale)
        chats = [chat for chat, _ in await service.unit_recipients(unit, groups=case.about is None)]
        if not chats:
            path = [region.code for region in await RegionRepo(session).path(unit)]
            chats = [admin.telegram_id for admin in await repo.admins_for(path)]
        already = await repo.chats_with(row)
        fresh = [chat for chat in dict.fromkeys(chats) if chat not in already]
        for chat in fresh:
            session.add(
                OutboxMessage(
                    chat_id=chat,
                    text=row.text,
                    reply_markup=row.reply_markup,
                    case_id=row.case_id,
                    created_at=self.clock(),
                    next_attempt_at=self.clock(),
                )
            )
        if fresh:
            return f"re-routed ({unit}) to {', '.join(map(str, fresh))}"
        if chats:
            return f"re-routed ({unit}): {', '.join(map(str, chats))} already have it"
        log.warning("outbox %d: nobody to re-route it to at %s or above", row.id, unit)
        return f"nobody to re-route it to at {unit} or above"

    async def _deliver(self, message: OutboxMessage) -> None:
        """Send the pieces not sent yet: a retry does not repeat what already arrived."""
        pieces = split_text(message.text)
        markup = (
            InlineKeyboardMarkup.model_validate(message.reply_markup)
            if message.reply_markup
            else None
        )
        for number in range(message.pieces_sent, len(pieces)):
            last = number == len(pieces) - 1
            await self.bot.send_message(
                message.chat_id, pieces[number], reply_markup=markup if last else None
            )
            message.pieces_sent = number + 1


class SendNow:
    """Sends at once, from a handler, what it has just committed for one chat (a tracking
    number): the user need not wait for the worker. What cannot go now stays in the outbox,
    and the worker sends it when Telegram answers again."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings

    async def __call__(self, bot: Bot, chat_id: int) -> None:
        worker = OutboxWorker.from_settings(bot, self.sessionmaker, self.settings)
        while await worker.send_due(chat_id=chat_id):
            pass


class _Lease:
    """Until when a lane's rows are surely still its own: moved on by each heartbeat."""

    def __init__(self, until: datetime) -> None:
        self.until = until


def _ids_by_chat(messages: Sequence[OutboxMessage]) -> dict[int, list[int]]:
    lanes: dict[int, list[int]] = {}
    for message in messages:
        lanes.setdefault(message.chat_id, []).append(message.id)
    return lanes


def _stand_in_unit(row: OutboxMessage, case: Case | None, dead: DeadChat) -> str | None:
    """The unit whose people receive the row instead of the dead chat, or None when nobody
    should: a reporter's own notices, reminders, admins' alerts."""
    if case is None or row.kind != NOTICE or case.reporter_id == row.chat_id:
        return None
    if dead.unit_code is not None:  # the unit's linked group
        return dead.unit_code
    if dead.user is not None and dead.user.area_code is not None:  # a cadre: their unit
        return dead.user.area_code
    return case.unit_code  # a group no longer linked, a cadre without an area
