"""Rate limits a user notices: a reply that met a 429 still arrives, a flooding user is told once
and then ignored, a sixth report in a day is refused politely; several instances share them."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiogram import Bot
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Update
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.app import create_bot, create_dispatcher, prepare
from bot.config import Settings
from bot.local_session import LocalSession
from bot.middlewares.flood import FloodMiddleware
from bot.ratelimit import RateLimiter, RedisBuckets
from db.models import Case
from db.session import Database
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer
from tests.harness import BotHarness, alerts_of, texts_of
from tests.integration.conftest import villager_and_cadre
from tests.services import REDIS_URL

TOO_FAST = "您发得太快了，请稍等一会儿再发。"
VILLAGER = 710  # 红星村
CADRE = 810  # 以古镇


async def limited_harness(
    settings: Settings, database: Database, storage: RedisStorage | None = None, **limits: int
) -> BotHarness:
    harness = BotHarness(settings.model_copy(update=limits), database, storage)
    await prepare(harness.dispatcher)
    return harness


def flood_of(harness: BotHarness) -> FloodMiddleware:
    return next(
        m for m in harness.dispatcher.update.outer_middleware if isinstance(m, FloodMiddleware)
    )


async def test_a_reply_that_meets_a_429_arrives_after_retry_after(
    settings: Settings, database: Database
) -> None:
    async with FakeTelegramServer() as server:
        live = settings.model_copy(
            update={"telegram_api_url": server.base_url, "bot_token": SecretStr(DEFAULT_TOKEN)}
        )
        bot = create_bot(live)
        dispatcher = create_dispatcher(live, database, MemoryStorage())
        server.fail_next("sendMessage", 429, retry_after=1)
        update = server.send_text(1001, "/start")
        try:
            await dispatcher.feed_update(bot, Update.model_validate(update, context={"bot": bot}))
        finally:
            await bot.session.close()
    failed, sent, *_ = [call for call in server.calls if call.method == "sendMessage"]
    assert failed.status == 429
    assert sent.ok
    assert sent.params["text"] == failed.params["text"]  # the reply itself, no apology
    assert sent.at - failed.at >= 1


async def test_a_flooding_user_is_told_once_then_ignored_until_the_next_minute(
    settings: Settings, database: Database
) -> None:
    harness = await limited_harness(settings, database, updates_per_minute=3)
    for _ in range(3):
        assert TOO_FAST not in texts_of(await harness.send(701, "/help"))
    assert texts_of(await harness.send(701, "/help")) == TOO_FAST
    assert await harness.send(701, "/help") == []
    [tap] = await harness.press_data(701, "rs:start")
    assert (tap.method, tap.params.get("text")) == ("answerCallbackQuery", None)  # no spinning
    assert TOO_FAST not in texts_of(await harness.send(702, "/help"))  # others are served
    flood = flood_of(harness)
    flood.clock = lambda: time.time() + 60
    calls = await harness.send(701, "/help")
    assert texts_of(calls)
    assert TOO_FAST not in texts_of(calls)


async def test_a_tap_over_the_limit_is_answered_with_the_reason(
    settings: Settings, database: Database
) -> None:
    harness = await limited_harness(settings, database, updates_per_minute=1)
    await harness.send(701, "/help", lang="en")
    [tap] = await harness.press_data(701, "rs:start")
    assert tap.params["text"] == "You are sending too fast. Please wait a moment and send again."


@pytest.fixture
async def people(database: Database) -> None:
    await villager_and_cadre(database, VILLAGER, CADRE)


async def submit_report(harness: BotHarness, text: str) -> list:
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:housing")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, text)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    return await harness.press_prefix(VILLAGER, "rs:submit")


async def test_reports_over_the_daily_limit_are_refused_politely(
    settings: Settings, database: Database, people: None
) -> None:
    harness = await limited_harness(settings, database, reports_per_day=2)
    for text in ("房子漏雨", "路灯坏了"):
        assert "tracking number" in texts_of(await submit_report(harness, text))
    refused = await submit_report(harness, "水管破了")
    assert "tracking number" not in texts_of(refused)
    assert alerts_of(refused) == [
        "You have already sent 2 reports today. Please try again tomorrow, or call 12317."
    ]
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 2


@pytest.mark.redis
async def test_instances_sharing_redis_count_a_user_together(
    settings: Settings, database: Database
) -> None:
    storages = [RedisStorage.from_url(REDIS_URL) for _ in range(2)]
    first, second = [
        await limited_harness(settings, database, storage, updates_per_minute=3)
        for storage in storages
    ]
    user = 10_000 + uuid.uuid4().int % 1_000_000
    try:
        for harness in (first, second, first):
            assert TOO_FAST not in texts_of(await harness.send(user, "/help"))
        assert texts_of(await second.send(user, "/help")) == TOO_FAST
        assert await first.send(user, "/help") == []
    finally:
        for storage in storages:
            await storage.close()


@pytest.mark.redis
async def test_two_instances_sharing_redis_keep_to_30_a_second_together() -> None:
    prefix = f"huhuqing-test:{uuid.uuid4().hex}"
    clients = [Redis.from_url(REDIS_URL) for _ in range(2)]
    started = time.monotonic()
    sent_at: list[float] = []
    bots = []
    for client in clients:
        session = LocalSession(on_call=lambda _: sent_at.append(time.monotonic() - started))
        session.middleware(RateLimiter(buckets=RedisBuckets(client, prefix)))
        bots.append(Bot("1:test", session=session))
    try:
        await asyncio.gather(
            *(bot.send_message(chat, "hi") for bot in bots for chat in range(1, 31))
        )
    finally:
        for client in clients:
            await client.aclose()
    assert len(sent_at) == 60
    assert sum(1 for at in sent_at if at < 1) <= 30
    assert max(sent_at) < 3
