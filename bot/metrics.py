"""Operations: Prometheus metrics at /metrics and a health check at /healthz.

Counters live in prometheus_client's default registry (with its process metrics: memory, CPU,
open files); what the database knows (cases by state, the outbox backlog) is read at scrape
time. Nothing here carries a text, a user id, a URL or a token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as prometheus_text
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Case, CaseStatus, OutboxMessage

if TYPE_CHECKING:
    from aiogram.methods import Response
    from redis.asyncio import Redis

UPDATES = Counter(
    "huhuqing_updates", "Telegram updates handled, by type and outcome", ["type", "outcome"]
)
UPDATE_SECONDS = Histogram(
    "huhuqing_update_seconds",
    "Time to handle an update (routers, handlers and their database work)",
    ["type"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ANSWERS = Counter(
    "huhuqing_answers",
    "Questions searched in the knowledge base, by its decision "
    "(answer, unsure, other_region, out_of_scope, particular, grievance, empty)",
    ["decision"],
)
RETRY_AFTER = Counter(
    "huhuqing_telegram_retry_after", "429 Too Many Requests answers from the Bot API", ["method"]
)
CASES = Gauge("huhuqing_cases", "Grievance cases by state (read at scrape time)", ["state"])
OUTBOX_PENDING = Gauge(
    "huhuqing_outbox_pending", "Notifications neither sent nor given up (read at scrape time)"
)
OUTBOX_OLDEST = Gauge(
    "huhuqing_outbox_oldest_pending_seconds",
    "Age of the oldest pending notification, 0 when none (read at scrape time)",
)
CHECK_SECONDS = 2.0
log = logging.getLogger(__name__)


class UpdateMetrics(BaseMiddleware):
    """Counts every update by type and outcome and times it. An outer update middleware sits
    inside aiogram's error middleware, so it sees the exception an apology later answers."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "ok"
            return result
        finally:
            UPDATE_SECONDS.labels(kind).observe(time.perf_counter() - started)
            UPDATES.labels(kind, outcome).inc()


class RetryAfterCounter(BaseRequestMiddleware):
    """Counts Telegram's 429s on every request: direct replies and the outbox alike."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            RETRY_AFTER.labels(method.__api_method__).inc()
            raise


def instrument(bot: Bot, dispatcher: Dispatcher) -> None:
    """Count and time the dispatcher's updates and the bot's 429s."""
    dispatcher.update.outer_middleware(UpdateMetrics())
    bot.session.middleware(RetryAfterCounter())


class OpsEndpoints:
    """The /metrics and /healthz handlers of one running bot."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis | None,
        timeout: float = CHECK_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.timeout = timeout

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/healthz", self.healthz)

    async def metrics(self, request: web.Request) -> web.Response:
        """The counters, with the database's figures read now (an old value if it is down)."""
        try:
            async with asyncio.timeout(self.timeout):
                await self._read_database()
        except Exception as error:  # the counters are still worth serving; /healthz says why
            log.warning("metrics: the database could not be read (%s)", type(error).__name__)
        return web.Response(
            body=prometheus_text(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _read_database(self) -> None:
        async with self.sessionmaker() as session:
            rows = await session.execute(select(Case.status, func.count()).group_by(Case.status))
            counts = {status: count for status, count in rows.all()}
            pending, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
                    )
                )
            ).one()
        for status in {*CaseStatus, *counts}:
            CASES.labels(str(status)).set(counts.get(status, 0))
        OUTBOX_PENDING.set(pending)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0
        OUTBOX_OLDEST.set(max(age, 0))

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the database (and Redis, if configured) answer within the timeout, else 503
        naming the part that failed and how (a timeout, or the error's type: never its text)."""
        database, redis = await asyncio.gather(self._check_database(), self._check_redis())
        report = {"database": database, "redis": redis}
        healthy = database == "ok" and redis in ("ok", "off")
        return web.Response(
            text=json.dumps(report),
            status=200 if healthy else 503,
            content_type="application/json",
        )

    async def _check_database(self) -> str:
        async def probe() -> None:
            async with self.sessionmaker() as session:
                await session.execute(text("SELECT 1"))

        return await self._check(probe)

    async def _check_redis(self) -> str:
        if self.redis is None:
            return "off"
        redis = self.redis
        return await self._check(lambda: redis.ping())

    async def _check(self, probe: Callable[[], Awaitable[Any]]) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await probe()
        except TimeoutError:
            return "timeout"
        except Exception as error:
            return f"error: {type(error).__name__}"
        return "ok"


async def serve(endpoints: OpsEndpoints, port: int, host: str = "0.0.0.0") -> web.AppRunner:
    """A small server of its own, for polling (the webhook's server has the routes too)."""
    app = web.Application()
    endpoints.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
