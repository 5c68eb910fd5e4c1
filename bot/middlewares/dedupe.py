"""Drop an update that was already handled.

Telegram delivers an update again when it was not confirmed: a webhook request that got no 200
(the instance died or timed out), or, with long polling, an update above the last confirmed
offset (bot/runners/polling.py confirms an update only once it and every older one finished, so
after a crash the updates that finished above the oldest unfinished one come again too).

An update is marked done only after its handler returned, so a copy of an update whose handler
never finished (kill -9) is handled. Two copies of one update never run at once: they come from
the same user and chat, and this middleware runs inside the per-user isolation lock (aiogram's
FSM middleware, registered by the Dispatcher before any other), so the second copy waits for the
first and then finds it done.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import TelegramObject, Update

log = logging.getLogger(__name__)
REMEMBER_SECONDS = 24 * 3600
REMEMBER_IN_MEMORY = 10_000


class DedupeMiddleware(BaseMiddleware):
    """Remembers handled update ids (in Redis when the conversation state is there, shared by
    replicas and surviving a restart; else in memory, for this process only)."""

    def __init__(self, storage: BaseStorage) -> None:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        self.redis = storage.redis if isinstance(storage, RedisStorage) else None
        builder = getattr(storage, "key_builder", None)
        self.prefix = builder.prefix if isinstance(builder, DefaultKeyBuilder) else "fsm"
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot_id = data["bot"].id
        if await self._done(bot_id, event.update_id):
            log.info("update %d handled before: skipped", event.update_id)
            return UNHANDLED
        result = await handler(event, data)
        await self._mark_done(bot_id, event.update_id)
        return result

    def _key(self, bot_id: int, update_id: int) -> str:
        """Update ids are per bot: the key names both (and the storage's key prefix)."""
        return f"{self.prefix}:update:{bot_id}:{update_id}"

    async def _done(self, bot_id: int, update_id: int) -> bool:
        if self.redis is not None:
            return bool(await self.redis.exists(self._key(bot_id, update_id)))
        return (bot_id, update_id) in self._seen

    async def _mark_done(self, bot_id: int, update_id: int) -> None:
        if self.redis is not None:
            await self.redis.set(self._key(bot_id, update_id), 1, ex=REMEMBER_SECONDS)
            return
        self._seen[bot_id, update_id] = None
        if len(self._seen) > REMEMBER_IN_MEMORY:
            self._seen.popitem(last=False)
