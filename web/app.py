"""The web console's application: `create_app` for tests and both ways of running it,
`serving` to run it next to the bot (`huhuqing run --web`), `run_web` on its own."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from itsdangerous import Signer

from bot.config import Settings, StartupError, check_listen
from bot.i18n import create_i18n
from db.session import Database, open_database
from db.web_access import cookie_secret
from knowledge.service import KnowledgeBase
from web.context import DATABASE, I18N, KNOWLEDGE, SETTINGS
from web.pages import all_routes
from web.security import SIGNER, security

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


async def create_app(settings: Settings, database: Database) -> web.Application:
    # A county's household registry as XLSX runs to megabytes: uploads up to 32 MB.
    app = web.Application(middlewares=[security], client_max_size=32 * 1024 * 1024)
    app[SETTINGS] = settings
    app[DATABASE] = database
    app[I18N] = create_i18n(settings.default_locale)
    app[KNOWLEDGE] = KnowledgeBase(database.sessionmaker)
    await app[KNOWLEDGE].seed()
    if settings.web_secret is not None:
        secret = settings.web_secret.get_secret_value()
    else:
        async with database.sessionmaker() as session:
            secret = await cookie_secret(session)
    app[SIGNER] = Signer(secret, salt="huhuqing-web-session")
    for routes in all_routes():
        app.router.add_routes(routes)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/healthz", _healthz)
    return app


async def _healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[None]:
    """The console listening on HUHUQING_WEB_LISTEN until the block ends."""
    check_listen(settings.web_listen, "HUHUQING_WEB_LISTEN")
    host, _, port = settings.web_listen.rpartition(":")
    database = await open_database(settings.database_url, **settings.database_pool())
    runner = web.AppRunner(await create_app(settings, database), access_log=None)
    try:
        await runner.setup()
        try:
            await web.TCPSite(runner, host.strip("[]") or "0.0.0.0", int(port)).start()
        except OSError as error:
            raise StartupError(
                f"HUHUQING_WEB_LISTEN: cannot listen on {settings.web_listen} "
                f"({error.strerror or error}); choose a free port or an address of this machine"
            ) from None
        log.info("web console on %s (links: %s)", settings.web_listen, settings.web_url)
        yield
    finally:
        await runner.cleanup()
        await database.close()


async def run_web(settings: Settings) -> None:
    """`huhuqing web`: the console alone, until SIGINT or SIGTERM."""
    async with serving(settings):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        await stop.wait()
