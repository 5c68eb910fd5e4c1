"""Outbound rate limits, as a Bot API request middleware: aiogram has none.

Telegram allows about one message a second per chat (short bursts pass), 20 a minute per group
and 30 a second in all; beyond that it answers 429. Each limit is a GCRA bucket (a "theoretical
arrival time" per key): a request reserves the next free slot, then sleeps until it. Kept in
Redis when configured (one Lua call, the server's clock), so that every instance shares them.
Within one process the sends also leave at least ``Limits.spacing`` apart (28 a second), timed
when they actually leave, so that late wake-ups in a busy process do not bunch them.
A 429 that comes anyway is waited out and the request sent again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response
    from redis.asyncio import Redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``period`` seconds, evenly spaced after a burst of ``burst``.

    With ``burst=1`` no window of ``period`` seconds ever holds more than ``count`` requests.
    """

    count: int
    period: float
    burst: int = 1

    @property
    def interval_us(self) -> int:
        """Microseconds between two requests, rounded up: 30 of them never fit in one second."""
        return math.ceil(self.period * 1_000_000 / self.count)

    @property
    def tolerance_us(self) -> int:
        return (self.burst - 1) * self.interval_us


@dataclass(frozen=True)
class Limits:
    per_chat: Rate = Rate(1, 1, burst=3)
    per_group: Rate = Rate(20, 60)
    overall: Rate = Rate(30, 1)
    # Sends leaving this process are at least this far apart, measured when they leave: a busy
    # event loop that wakes several waiting sends late does not let them out together.
    spacing: float = 1 / 28
    remembered_chats: int = 10_000
    max_retry_after: float = 30  # a longer 429 is raised: the outbox reschedules it
    retries: int = 2


class MemoryBuckets:
    """GCRA buckets of one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, size: int = 10_000) -> None:
        self.clock = clock
        self.size = size
        self._arrival: OrderedDict[str, int] = OrderedDict()

    async def reserve(self, key: str, rate: Rate) -> float:
        """Take the next slot of ``key``'s bucket; returns the seconds to wait for it."""
        now = int(self.clock() * 1_000_000)
        arrival = max(self._arrival.get(key, now), now)
        self._arrival[key] = arrival + rate.interval_us
        self._arrival.move_to_end(key)
        if len(self._arrival) > self.size:
            self._arrival.popitem(last=False)
        return max(0, arrival - rate.tolerance_us - now) / 1_000_000


# Times in microseconds of the Redis server's clock, the one clock every instance shares.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local arrival = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local following = arrival + interval
redis.call('SET', KEYS[1], string.format('%.0f', following),
           'PX', math.ceil((following - now) / 1000) + 1000)
return math.max(0, arrival - tolerance - now)
"""


class RedisBuckets:
    """GCRA buckets shared by every instance through Redis; in memory while Redis fails."""

    def __init__(self, redis: Redis, prefix: str = "huhuqing:rate") -> None:
        self.prefix = prefix
        self._script = redis.register_script(_RESERVE)
        self._fallback = MemoryBuckets()

    async def reserve(self, key: str, rate: Rate) -> float:
        from redis.exceptions import RedisError

        try:
            waited = await self._script(
                keys=[f"{self.prefix}:{key}"],
                args=[rate.interval_us, rate.tolerance_us],
            )
        except RedisError as error:
            log.warning("rate limit kept in memory, Redis failed: %s", type(error).__name__)
            return await self._fallback.reserve(key, rate)
        return int(waited) / 1_000_000


class RateLimiter(BaseRequestMiddleware):
    """Delays a request that carries a chat_id until the chat's and the bot's budgets allow it,
    and sends a request again after a 429's ``retry_after``. With ``pace=False`` (benchmarks) only
    the 429s are waited out."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        buckets: MemoryBuckets | RedisBuckets | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        pace: bool = True,
    ) -> None:
        self.limits = limits or Limits()
        self.pace = pace
        self.clock = clock
        self._leaving = asyncio.Lock()
        self._last_left = -math.inf
        self.buckets = buckets or MemoryBuckets(size=self.limits.remembered_chats)
        self.sleep = sleep

    async def _wait_turn(self, bot_id: int, chat_id: Any) -> None:
        group = isinstance(chat_id, str) or int(chat_id) < 0
        rate = self.limits.per_group if group else self.limits.per_chat
        # The chat first: the overall slot is taken only when this request can use it at once.
        for key, limit in ((f"{bot_id}:chat:{chat_id}", rate), (f"{bot_id}", self.limits.overall)):
            if (delay := await self.buckets.reserve(key, limit)) > 0:
                await self.sleep(delay)
        async with self._leaving:
            if (gap := self._last_left + self.limits.spacing - self.clock()) > 0:
                await self.sleep(gap)
            self._last_left = self.clock()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        retries = 0
        while True:
            if self.pace and chat_id is not None:
                await self._wait_turn(bot.id, chat_id)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                retries += 1
                if retries > self.limits.retries or error.retry_after > self.limits.max_retry_after:
                    raise
                log.warning(
                    "429 on %s: sent again in %d s", method.__api_method__, error.retry_after
                )
                await self.sleep(error.retry_after)
