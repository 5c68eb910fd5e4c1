"""Drop an update that was already handled: Telegram redelivers a webhook update it did not get
a 200 for, and a restarted poller may see the last batch again."""

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
    """Remembers update ids (in Redis when the conversation state is there, shared by replicas)."""

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
        bot_id = data["bot"].id
        if not isinstance(event, Update):
            return await handler(event, data)
        if not await self._first_time(bot_id, event.update_id):
            log.info("update %d seen before: skipped", event.update_id)
            return UNHANDLED
        try:
            return await handler(event, data)
        except BaseException:
            # Not handled after all: Telegram's retry of it must get through.
            await self._forget(bot_id, event.update_id)
            raise

    async def _forget(self, bot_id: int, update_id: int) -> None:
        if self.redis is not None:
            await self.redis.delete(f"{self.prefix}:update:{bot_id}:{update_id}")
        else:
            self._seen.pop((bot_id, update_id), None)

    async def _first_time(self, bot_id: int, update_id: int) -> bool:
        """Update ids are per bot: the key names both (and the storage's key prefix)."""
        if self.redis is not None:
            key = f"{self.prefix}:update:{bot_id}:{update_id}"
            return bool(await self.redis.set(key, 1, nx=True, ex=REMEMBER_SECONDS))
        if (bot_id, update_id) in self._seen:
            return False
        self._seen[bot_id, update_id] = None
        if len(self._seen) > REMEMBER_IN_MEMORY:
            self._seen.popitem(last=False)
        return True
