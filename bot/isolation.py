"""Per-user event isolation in Redis that a dead instance does not keep for long.

aiogram's RedisEventIsolation holds each lock for 60 s, so after kill -9 the user is not served
for up to a minute. Here a lock expires LOCK_SECONDS after its holder stopped renewing it; a live
holder renews it every LOCK_SECONDS / 3 for as long as its handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from bot.waiting import wait_set

log = logging.getLogger(__name__)
LOCK_SECONDS = 5.0


class RenewedRedisIsolation(RedisEventIsolation):
    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        name = self.key_builder.build(key, "lock")
        lock = self.redis.lock(name, timeout=LOCK_SECONDS, sleep=0.05, lock_class=Lock)
        await lock.acquire()
        done = asyncio.Event()
        renewal = asyncio.create_task(_renew(lock, done))
        try:
            yield None
        finally:
            # Stopped by the event, not by cancelling: a cancellation swallowed inside the Redis
            # client once kept a renewal (and so the handler, and the user) waiting for ever.
            done.set()
            await asyncio.wait({renewal}, timeout=LOCK_SECONDS)
            try:
                await lock.release()
            except LockError:  # expired meanwhile (Redis unreachable): the update was handled
                log.warning("an isolation lock expired before its update was handled")


async def _renew(lock: Lock, done: asyncio.Event) -> None:
    """Extend the lock every LOCK_SECONDS / 3 until ``done`` is set."""
    while True:
        if await wait_set(done, LOCK_SECONDS / 3):
            return
        await lock.reacquire()
