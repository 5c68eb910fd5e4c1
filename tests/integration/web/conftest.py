"""The web console against a real database (SQLite; PostgreSQL too in `both_databases`
modules), through aiohttp's test client: cookies, redirects and forms as a browser sends them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.i18n import create_i18n
from db.models import Role, utcnow
from db.session import Database
from db.users import UserRepo
from db.web_access import create_sign_in
from grievances.service import CaseService, Report
from handlers.notices import NoticeRenderer
from web.app import create_app

REPORTER = 987_650_001  # anonymous: this id must appear on no page and in no export
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
# The sample regions (db/data/sample_regions.yaml): a province, a county, two of its townships
# (以古镇, 塘房镇), a village of the first, and a county of another province (农安县, 吉林).
YUNNAN, ZHENXIONG, YIGU, TANGFANG, HONGXING, NONGAN = (
    "530000", "530627", "530627101", "530627102", "530627101201", "220122"
)  # fmt: skip


class Console:
    """One browser signed in (or not) to the console."""

    def __init__(self, client: TestClient, database: Database) -> None:
        self.client = client
        self.database = database
        self.csrf = ""

    async def sign_in(self, telegram_id: int) -> ClientResponse:
        """Open a fresh link from /web and press its button, as the cadre would."""
        async with self.database.sessionmaker() as session:
            token = await create_sign_in(session, telegram_id)
        await self.client.get(f"/signin/{token}")
        response = await self.client.post(f"/signin/{token}")
        if response.status == 200:
            await self.refresh_csrf()
        return response

    async def refresh_csrf(self) -> None:
        page = await (await self.client.get("/")).text()
        found = CSRF_FIELD.search(page)
        self.csrf = found.group(1) if found else ""

    def session_cookie(self) -> str:
        [cookie] = [c for c in self.client.session.cookie_jar if c.key == "huhuqing_session"]
        return cookie.value

    def set_session_cookie(self, value: str) -> None:
        """As a thief with a copy of it (or a forger) would send it."""
        self.client.session.cookie_jar.clear()
        self.client.session.cookie_jar.update_cookies(
            {"huhuqing_session": value}, self.client.make_url("/")
        )

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.client.get(path, **kwargs)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> ClientResponse:
        """A form post with the page's CSRF token, as the page's own form sends it."""
        return await self.client.post(path, data={"csrf": self.csrf, **(data or {})}, **kwargs)

    async def text(self, path: str) -> str:
        response = await self.client.get(path)
        return await response.text()


@pytest.fixture
async def web_client(settings: Settings, database: Database) -> AsyncIterator[TestClient]:
    app = await create_app(settings, database)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
def console(web_client: TestClient, database: Database) -> Console:
    return Console(web_client, database)


@pytest.fixture
async def second_console(settings: Settings, database: Database) -> AsyncIterator[Console]:
    """Another browser (its own cookies), on a second instance of the console."""
    app = await create_app(settings, database)
    async with TestClient(TestServer(app)) as client:
        yield Console(client, database)


async def give_role(
    database: Database, telegram_id: int, role: Role, area_code: str | None
) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(telegram_id, role, area_code)
        await session.commit()


async def make_case(
    database: Database,
    place: str = HONGXING,
    category: str = "water",
    *,
    created: datetime | None = None,
    description: str = "村里的自来水停了三天",
    photos: tuple[str, ...] = (),
    location: tuple[float, float] | None = None,
    reporter_id: int = REPORTER,
) -> str:
    """A villager's report (anonymous, in English), submitted as the bot submits it; its
    number."""
    moment = created or utcnow()
    async with database.sessionmaker() as session:
        reporter = await UserRepo(session).touch(reporter_id)
        reporter.locale = "en"
        service = CaseService(session, NoticeRenderer(create_i18n("zh_Hans")), clock=lambda: moment)
        report = Report(reporter, "en", category, place, description, True, None, list(photos),
                        location)  # fmt: skip
        return (await service.submit(report)).number
