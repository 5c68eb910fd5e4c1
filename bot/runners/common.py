"""What every Telegram runner does around its loop: connect, announce the menu, run the outbox
and deadline workers, serve /metrics and /healthz, and clean up."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.app import create_bot, create_dispatcher, create_storage, prepare
from bot.background import watch_deadlines
from bot.commands import set_default_commands
from bot.config import Settings
from bot.i18n import create_i18n
from bot.loan_reminders import watch_loans
from bot.metrics import OpsEndpoints, instrument, serve
from bot.outbox import OutboxWorker
from db.session import open_database

log = logging.getLogger(__name__)


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
        await prepare(dispatcher)
        # Start-up's long-lived objects (the search index, catalogs) out of the collector's way:
        # a full collection otherwise paused answers for ~300 ms (bench/README.md, households).
        gc.freeze()
        me = await bot.get_me()
        log.info("connected as @%s", me.username)
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
