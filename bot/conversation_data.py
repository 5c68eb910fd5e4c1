"""How long what users type is kept: the conversation state's expiry, and the question behind each
answer (for a 👎 to be stored with it), kept only a short while."""

from __future__ import annotations

import time
from datetime import timedelta

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage

REMEMBERED_QUESTIONS = 20  # per user, in memory
_SCAN = 500  # keys per SCAN step


def _prefix(storage: RedisStorage) -> str:
    builder = storage.key_builder
    return builder.prefix if isinstance(builder, DefaultKeyBuilder) else "fsm"


async def remember_question(
    state: FSMContext, message_id: int, question: str, keep: timedelta
) -> None:
    """Keep ``question`` behind the bot's answer ``message_id`` for ``keep``: in Redis, one key
    per answer that expires; in memory (one process, nothing written), in the state's data."""
    storage, key = state.storage, state.key
    if isinstance(storage, RedisStorage):
        name = f"{_prefix(storage)}:question:{key.bot_id}:{key.chat_id}:{message_id}"
        await storage.redis.set(name, question, ex=keep)
        return
    now = time.time()
    asked: dict[str, list] = (await state.get_data()).get("asked", {})
    kept = {k: v for k, v in asked.items() if v[0] > now}
    kept[str(message_id)] = [now + keep.total_seconds(), question]
    await state.update_data(asked=dict(list(kept.items())[-REMEMBERED_QUESTIONS:]))


async def recall_question(state: FSMContext, message_id: int) -> str | None:
    """The question behind the answer ``message_id``, if it is still kept."""
    storage, key = state.storage, state.key
    if isinstance(storage, RedisStorage):
        name = f"{_prefix(storage)}:question:{key.bot_id}:{key.chat_id}:{message_id}"
        value = await storage.redis.get(name)
        return value.decode() if isinstance(value, bytes) else value
    kept = (await state.get_data()).get("asked", {}).get(str(message_id))
    return kept[1] if isinstance(kept, list) and kept[0] > time.time() else None


async def expire_untimed(storage: BaseStorage, ttl: timedelta) -> int:
    """Conversation keys written before they had an expiry get one, and lose the questions that
    older versions kept in them for good ("asked"); returns how many keys were changed."""
    if not isinstance(storage, RedisStorage):
        return 0
    redis, cursor, changed = storage.redis, 0, 0
    while True:
        cursor, found = await redis.scan(cursor, match=f"{_prefix(storage)}:*", count=_SCAN)
        names = [name for name in found if name.endswith((b":state", b":data"))]
        async with redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.ttl(name)
            left = await pipe.execute()
        for name in (name for name, seconds in zip(names, left, strict=True) if seconds == -1):
            changed += 1
            if name.endswith(b":state"):
                await redis.expire(name, ttl)
                continue
            data = storage.json_loads(await redis.get(name) or "{}")
            data.pop("asked", None)
            if data:
                await redis.set(name, storage.json_dumps(data), ex=ttl)
            else:
                await redis.delete(name)
        if cursor == 0:
            return changed
