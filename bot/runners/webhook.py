"""`huhuqing run --webhook`: Telegram posts updates to HUHUQING_WEBHOOK_URL.

Each update is processed before Telegram gets its 200 (aiogram's default answers first;
add_webhook turns that off), so a report is committed before Telegram considers it delivered;
a failure makes Telegram retry, and a repeated update never makes a second case (cases remember
their update id). The same server answers GET /metrics and /healthz (bot/metrics.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings, StartupError, check_listen
from bot.runners.common import running_bot

log = logging.getLogger(__name__)
WEBHOOK_LOCK_SECONDS = 60


async def run_webhook(settings: Settings, url: str, secret: str) -> None:
    path = urlsplit(url).path or "/"
    check_listen(settings.webhook_listen, "HUHUQING_WEBHOOK_LISTEN")
    app = web.Application()  # /metrics and /healthz are served next to the webhook
    async with running_bot(settings, app) as (bot, dispatcher):
        if await _first_replica(settings):
            try:
                await bot.set_webhook(
                    url,
                    secret_token=secret,
                    allowed_updates=dispatcher.resolve_used_update_types(),
                    drop_pending_updates=False,
                )
            except TelegramBadRequest as error:
                raise StartupError(
                    f"HUHUQING_WEBHOOK_URL: Telegram refused {url} ({error.message}); it must be "
                    "a public https:// address on port 443, 80, 88 or 8443 with a valid "
                    "certificate"
                ) from None
        add_webhook(app, bot, dispatcher, path, secret)
        runner = web.AppRunner(app)
        await runner.setup()
        host, _, port = settings.webhook_listen.rpartition(":")
        await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
        log.info("listening for updates on %s%s", settings.webhook_listen, path)
        try:
            await _until_stopped()
        finally:
            await runner.cleanup()


def add_webhook(
    app: web.Application, bot: Bot, dispatcher: Dispatcher, path: str, secret: str
) -> None:
    """Take Telegram's posts at ``path`` (refused without ``secret``): each update is processed
    before the 200 is sent (tests/integration/test_webhook_app.py)."""
    SimpleRequestHandler(dispatcher, bot, secret_token=secret, handle_in_background=False).register(
        app, path=path
    )


async def _first_replica(settings: Settings) -> bool:
    """With Redis, only the replica that takes the lock calls setWebhook (once a minute)."""
    if not settings.redis_url:
        return True
    from redis.asyncio import Redis

    async with Redis.from_url(settings.redis_url) as redis:
        return bool(await redis.set("huhuqing:set-webhook", "1", nx=True, ex=WEBHOOK_LOCK_SECONDS))


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await stop.wait()
