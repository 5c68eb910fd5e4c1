"""Keep one user from flooding the bot (and the township behind it): at most N updates a minute.

The first update over the limit gets a polite answer, the rest of the minute is dropped before
it reaches the database. Counters are in Redis when the conversation state is (shared by the
instances), else in memory.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import locale_for_language_code

log = logging.getLogger(__name__)
REMEMBER_IN_MEMORY = 10_000


class FloodMiddleware(BaseMiddleware):
    """Counts each user's updates in fixed windows of ``window`` seconds."""

    def __init__(
        self,
        limit: int,
        i18n: I18n,
        storage: BaseStorage,
        window: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from aiogram.fsm.storage.redis import RedisStorage

        self.limit = limit
        self.i18n = i18n
        self.window = window
        self.clock = clock
        self.redis = storage.redis if isinstance(storage, RedisStorage) else None
        self._counts: OrderedDict[int, tuple[int, int]] = OrderedDict()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot or not isinstance(event, Update):
            return await handler(event, data)
        count = await self._count(user.id)
        if count <= self.limit:
            return await handler(event, data)
        log.info("update %d dropped: its sender is over the flood limit", event.update_id)
        await self._answer(event, data["bot"], user, polite=count == self.limit + 1)
        return UNHANDLED

    async def _count(self, user_id: int) -> int:
        """This user's updates in the current window, this one included."""
        window = int(self.clock() // self.window)
        if self.redis is not None:
            from redis.exceptions import RedisError

            key = f"huhuqing:flood:{user_id}:{window}"
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    count, _ = await pipe.incr(key).expire(key, self.window + 5).execute()
                return int(count)
            except RedisError as error:
                log.warning("flood limit not counted, Redis failed: %s", type(error).__name__)
                return 0
        seen_window, count = self._counts.get(user_id, (window, 0))
        count = count + 1 if seen_window == window else 1
        self._counts[user_id] = (window, count)
        self._counts.move_to_end(user_id)
        if len(self._counts) > REMEMBER_IN_MEMORY:
            self._counts.popitem(last=False)
        return count

    async def _answer(self, update: Update, bot: Bot, user: User, polite: bool) -> None:
        """Say it once a window; a tap is always answered, or the user's button keeps spinning."""
        locale = locale_for_language_code(user.language_code, self.i18n.default_locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            text = _("You are sending too fast. Please wait a moment and send again.")
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text=text if polite else None)
        elif polite and update.message is not None:
            await bot.send_message(update.message.chat.id, text)
