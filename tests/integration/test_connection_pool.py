"""A burst of villagers cannot drain the connection pool while Telegram is slow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import SendMessage, TelegramMethod

from bot.app import prepare
from bot.config import Settings
from db.session import Database, open_database
from db.users import UserRepo
from tests.harness import BotHarness

VILLAGERS = range(9001, 9017)  # 16 villagers of 红星村
SLOW_SECONDS = 1.0
APOLOGY = "出了点问题"


async def slow_telegram(
    make_request: NextRequestMiddlewareType, bot: Bot, method: TelegramMethod
) -> object:
    """Each reply takes a second to go out (a slow network, or the rate limiter's wait)."""
    if isinstance(method, SendMessage):
        await asyncio.sleep(SLOW_SECONDS)
    return await make_request(bot, method)


@pytest.fixture
async def small_pool(settings: Settings, database: Database) -> AsyncIterator[Database]:
    """Two connections and no overflow; a handler waits 2 s for one before it gives up."""
    tight = settings.model_copy(
        update={"database_pool_size": 2, "database_pool_overflow": 0, "database_pool_timeout": 2}
    )
    async with database.sessionmaker() as session:
        for villager in VILLAGERS:
            (await UserRepo(session).touch(villager)).region_code = "530627101201"
        await session.commit()
    pooled = await open_database(tight.database_url, **tight.database_pool())
    yield pooled
    await pooled.close()


async def test_sixteen_villagers_asking_at_once_all_get_answers(
    settings: Settings, small_pool: Database
) -> None:
    harness = BotHarness(settings, small_pool)
    await prepare(harness.dispatcher)
    harness.bot.session.middleware(slow_telegram)
    harness.dispatcher["knowledge"].check_seconds = 0  # every question checks for a new revision

    replies = await asyncio.gather(*(harness.send(user, "贷款要抵押吗") for user in VILLAGERS))

    for calls in replies:
        texts = [call.text for call in calls if call.method == "sendMessage"]
        assert texts
        assert not any(APOLOGY in text for text in texts), texts
        assert "抵押" in texts[0]
