"""With Redis, two replicas share conversations and know which updates were handled."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage

from bot.config import Settings
from db.models import User
from db.session import Database
from tests import services
from tests.harness import BotHarness, texts_of

pytestmark = pytest.mark.redis


@pytest.fixture
async def replicas(
    settings: Settings, database: Database
) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    """Two bot instances on one Redis (under a key prefix of this test's own)."""
    prefix = f"huhuqing-test-{uuid.uuid4().hex[:8]}"
    storages = [
        RedisStorage.from_url(services.REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix))
        for _ in range(2)
    ]
    first, second = (BotHarness(settings, database, storage) for storage in storages)
    second.updates = first.updates  # one Telegram numbers the updates both replicas get
    yield first, second
    keys = await storages[0].redis.keys(f"{prefix}:*")
    if keys:
        await storages[0].redis.delete(*keys)
    for storage in storages:
        await storage.close()


async def test_village_choice_continues_on_another_instance(
    replicas: tuple[BotHarness, BotHarness], database: Database
) -> None:
    first, second = replicas
    await first.send(7, "/start")  # the picker state is written to Redis
    reply = texts_of(await second.send(7, "红星村"))  # another replica gets the answer
    assert "已保存" in reply
    async with database.sessionmaker() as session:
        assert (await session.get(User, 7)).region_code == "530627101201"


async def test_an_update_seen_by_one_replica_is_skipped_by_another(
    replicas: tuple[BotHarness, BotHarness],
) -> None:
    first, second = replicas
    update = first.updates.text(first._user(8, "en"), "/help")
    await first.dispatcher.feed_update(first.bot, update)
    await second.dispatcher.feed_update(second.bot, update)  # redelivered elsewhere
    assert len(first.session.calls) == 1
    assert second.session.calls == []
