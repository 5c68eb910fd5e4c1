"""The outbox worker: sends the notifications the case lifecycle committed, with retries.

A message is sent, retried with exponential backoff (or after Telegram's retry_after), split
under Telegram's 4,096-character limit, or given up: after MAX_ATTEMPTS, or at once when the
user blocked the bot (403), in which case the user is marked and nothing more is tried.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OutboxMessage, utcnow
from db.outbox import OutboxRepo

log = logging.getLogger(__name__)

TELEGRAM_LIMIT = 4096
MAX_ATTEMPTS = 8
BATCH = 5  # small: every message of a batch must go out within the claim's lease


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


class OutboxWorker:
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = 1.0,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.poll_seconds = poll_seconds

    async def run(self) -> None:
        while True:
            try:
                if not await self.send_due():
                    await asyncio.sleep(self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive any one bad row or a database blip
                log.exception("outbox worker error")
                await asyncio.sleep(self.poll_seconds)

    async def send_due(self) -> int:
        """Send what is due now; return how many messages were handled."""
        async with self.sessionmaker() as session:
            repo = OutboxRepo(session)
            messages = await repo.claim(self.clock(), BATCH)
            for message in messages:
                await self._send(repo, message)
                await session.commit()
        return len(messages)

    async def _send(self, repo: OutboxRepo, message: OutboxMessage) -> None:
        now = self.clock()
        message.attempts += 1
        message.locked_until = None
        try:
            await self._deliver(message)
            message.sent_at = now
        except TelegramRetryAfter as error:
            message.next_attempt_at = now + timedelta(seconds=error.retry_after)
            message.attempts -= 1  # Telegram's pacing is not a failure
        except TelegramMigrateToChat as error:
            # The township's group became a supergroup: follow it, and send again at once.
            await repo.move_chat(message.chat_id, error.migrate_to_chat_id)
            message.chat_id = error.migrate_to_chat_id
            message.attempts -= 1
        except TelegramForbiddenError:
            log.info("outbox %d: the chat blocked or removed the bot, not retried", message.id)
            await repo.block_chat(message.chat_id, now)
            message.failed_at = now
            message.last_error = "blocked by the user or removed from the group"
        except Exception as error:  # a bad row must not be retried for ever, nor stop the rest
            message.last_error = type(error).__name__
            permanent = isinstance(error, TelegramBadRequest | ValidationError)
            if message.attempts >= MAX_ATTEMPTS or permanent:
                message.failed_at = now
                log.warning("outbox %d: gave up (%s)", message.id, message.last_error)
            else:
                message.next_attempt_at = now + timedelta(seconds=2**message.attempts)

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
