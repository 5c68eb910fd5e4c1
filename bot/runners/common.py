"""What every Telegram runner does around its loop: connect, announce the menu, run the outbox
and deadline workers, serve /metrics and /healthz, and clean up."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiohttp import web

from bot.app import create_bot, create_dispatcher, create_storage, prepare
from bot.background import watch_deadlines
from bot.commands import set_default_commands
from bot.config import Settings, StartupError
from bot.i18n import create_i18n
from bot.loan_reminders import watch_loans
from bot.metrics import OpsEndpoints, instrument, serve
from bot.outbox import OutboxWorker
from db.session import open_database

log = logging.getLogger(__name__)
CONNECT_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.6, jitter=0.1)


@asynccontextmanager
async def running_bot(
    settings: Settings, app: web.Application | None = None
) -> AsyncIterator[tuple[Bot, Dispatcher]]:
    """The bot, ready to take updates. /metrics and /healthz are added to ``app`` (the webhook's
    server) and, when HUHUQING_METRICS_PORT is set, served on that port."""
    database = await open_database(settings.database_url, **settings.database_pool())
    i18n = create_i18n(settings.default_locale)
    storage = create_storage(settings)
    bot = create_bot(settings)
    dispatcher = create_dispatcher(settings, database, storage, i18n)
    workers: list[asyncio.Task[None]] = []
    ops_server: web.AppRunner | None = None
    instrument(bot, dispatcher)
    ops = OpsEndpoints(database.sessionmaker, getattr(storage, "redis", None))
    if app is not None:
        ops.add_routes(app)
    try:
        await check_redis(settings, storage)
        me = await connect(bot, settings)
        log.info("connected as @%s", me.username)
        await prepare(dispatcher)
        # Start-up's long-lived objects (the search index, catalogs) out of the collector's way:
        # a full collection otherwise paused answers for ~300 ms (bench/README.md, households).
        gc.freeze()
        await set_default_commands(bot, i18n)
        workers = [
            asyncio.create_task(
                OutboxWorker.from_settings(bot, database.sessionmaker, settings, i18n).run()
            ),
            asyncio.create_task(
                watch_deadlines(
                    database.sessionmaker, dispatcher["render"], settings.default_locale
                )
            ),
            asyncio.create_task(
                watch_loans(
                    database.sessionmaker, dispatcher["knowledge"], i18n, settings.default_locale
                )
            ),
        ]
        if settings.metrics_port:
            ops_server = await serve(ops, settings.metrics_port)
            log.info("serving /metrics and /healthz on port %d", settings.metrics_port)
        yield bot, dispatcher
    finally:
        if ops_server is not None:
            await ops_server.cleanup()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await bot.session.close()
        await storage.close()
        await database.close()


async def check_redis(settings: Settings, storage: object) -> None:
    """A Redis that does not answer stops the start with one line, not at the first update."""
    redis = getattr(storage, "redis", None)
    if redis is None:
        return
    from redis.exceptions import RedisError

    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        url = urlsplit(settings.redis_url or "")
        where = f"{url.hostname or url.path}:{url.port or 6379}" if url.hostname else url.path
        raise StartupError(
            f"HUHUQING_REDIS_URL: Redis does not answer at {where} ({_one_line(error)}); "
            "start Redis or fix HUHUQING_REDIS_URL (leave it empty to run one instance without)"
        ) from None


async def connect(bot: Bot, settings: Settings) -> User:
    """getMe: a refused token stops the start; an unreachable Telegram is tried again with
    backoff (said once) for HUHUQING_STARTUP_RETRY_SECONDS, then stops the start."""
    server = settings.telegram_api_url or "https://api.telegram.org"
    loop = asyncio.get_running_loop()
    give_up = loop.time() + settings.startup_retry_seconds
    backoff = Backoff(config=CONNECT_BACKOFF)
    told = False
    while True:
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise StartupError(
                "HUHUQING_BOT_TOKEN: Telegram refused the token (401 Unauthorized): it is wrong "
                "or was revoked; copy the current one from @BotFather (/mybots → API Token)"
            ) from None
        except (TelegramNetworkError, TelegramServerError, OSError) as error:
            if loop.time() + backoff.next_delay > give_up:
                setting = " or HUHUQING_TELEGRAM_API_URL" if settings.telegram_api_url else ""
                raise StartupError(
                    f"cannot reach the Telegram Bot API at {server} ({_one_line(error)}); check "
                    f"the network{setting}, or wait longer with HUHUQING_STARTUP_RETRY_SECONDS "
                    f"(now {settings.startup_retry_seconds})"
                ) from None
            if not told:
                log.warning(
                    "cannot reach the Telegram Bot API at %s (%s); trying again with backoff "
                    "for up to %d s",
                    server,
                    _one_line(error),
                    settings.startup_retry_seconds,
                )
                told = True
            await backoff.asleep()
            continue
        if told:
            log.warning("reached the Telegram Bot API at %s", server)
        return me


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] or type(error).__name__
