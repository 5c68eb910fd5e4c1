"""An update survives the failures around it: a failed commit is apologised for in the user's
language, a double tap is not an error, and a killed instance's Redis leftovers neither drop the
redelivered update nor keep the user waiting."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import select

import bot.isolation
from bot.config import Settings
from db import migrate
from db.models import User
from db.session import Database, open_database
from tests import services
from tests.harness import BotHarness, alerts_of, texts_of

SORRY_EN = "Sorry, something went wrong. Please try again in a moment."
SORRY_HANT = "抱歉，出了點問題，請稍後再試。"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
USER = 5101


@pytest.fixture
async def any_bot(database_url: str) -> AsyncIterator[BotHarness]:
    """The real dispatcher on SQLite and on PostgreSQL."""
    await migrate.upgrade_async(database_url)
    settings = Settings(_env_file=None, database_url=database_url, bot_token=None)  # type: ignore[call-arg]
    database = await open_database(database_url)
    yield BotHarness(settings, database)
    await database.close()


def engine_of(harness: BotHarness) -> Any:
    return harness.dispatcher["knowledge"].sessionmaker.kw["bind"]


@pytest.fixture
async def failing_commits(any_bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """While the list holds a number, that many more COMMITs fail in the driver, as "database
    is locked" does: the driver's transaction stays open, SQLAlchemy expires the session's
    objects."""
    engine = engine_of(any_bot)
    async with engine.connect() as connection:
        driver = type((await connection.get_raw_connection()).dbapi_connection)
    real_commit = driver.commit
    remaining: list[int] = []

    def commit(self: Any) -> None:
        if remaining and remaining[0] > 0:
            remaining[0] -= 1
            raise engine.dialect.loaded_dbapi.OperationalError("database is locked")
        real_commit(self)

    monkeypatch.setattr(driver, "commit", commit)
    return remaining


async def locale_of(harness: BotHarness, user_id: int) -> str | None:
    async with harness.dispatcher["knowledge"].sessionmaker() as session:
        return await session.scalar(select(User.locale).where(User.telegram_id == user_id))


async def choose_language(harness: BotHarness, label: str) -> None:
    await harness.send(USER, "/language", lang="zh-hans")
    await harness.press(USER, label)


async def test_a_failed_commit_on_a_tap_answers_it_in_the_users_language(
    any_bot: BotHarness, failing_commits: list[int]
) -> None:
    await choose_language(any_bot, "English")
    assert await locale_of(any_bot, USER) == "en"

    failing_commits.append(1000)  # the database stays locked
    calls = await any_bot.press(USER, "繁體中文")
    assert alerts_of(calls) == [SORRY_EN]  # the tap is answered, in the language they chose
    assert all(
        call.params.get("show_alert") for call in calls if call.method == "answerCallbackQuery"
    )

    failing_commits[0] = 1  # once: the next tap finds it free again
    await any_bot.press(USER, "繁體中文")
    assert await locale_of(any_bot, USER) == "en"  # the failed commit changed nothing
    calls = await any_bot.press(USER, "繁體中文")
    assert "語言" in texts_of(calls)
    assert await locale_of(any_bot, USER) == "zh_Hant"


async def test_a_failed_commit_on_a_message_is_apologised_for_in_the_users_language(
    any_bot: BotHarness, failing_commits: list[int]
) -> None:
    await choose_language(any_bot, "繁體中文")  # their phone is set to simplified Chinese
    failing_commits.append(1)
    calls = await any_bot.send(USER, "/notify off")
    assert texts_of(calls) == SORRY_HANT
    calls = await any_bot.send(USER, "/notify off")  # trying again works
    assert "提醒" in texts_of(calls)
    assert SORRY_HANT not in texts_of(calls)


async def test_a_busy_sqlite_database_is_waited_for(
    harness: BotHarness, settings: Settings
) -> None:
    """Another writer holds the database for a moment (a backup, an import): the bot waits
    for it (busy_timeout) instead of failing."""
    await harness.send(USER, "/notify on", lang="en")
    path = settings.database_url.removeprefix("sqlite+aiosqlite:///")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(1.0, other.execute, "COMMIT")
    started = time.monotonic()
    calls = await harness.send(USER, "/notify off")
    other.close()
    assert time.monotonic() - started >= 0.9  # it did wait for the other writer
    assert "Reminders are off" in texts_of(calls)


@pytest.mark.parametrize(("first", "again"), [("English", "English"), ("繁體中文", "繁體中文")])
async def test_a_double_tap_is_not_an_error(harness: BotHarness, first: str, again: str) -> None:
    await choose_language(harness, first)
    # The second tap would show what the message already shows: Telegram refuses the edit.
    harness.session.fail_next("editMessageText", 400, NOT_MODIFIED)
    calls = await harness.press(USER, again)
    assert [call.method for call in calls if call.method == "answerCallbackQuery"] == [
        "answerCallbackQuery"
    ]
    assert alerts_of(calls) == []  # answered silently: no "出了点问题"
    assert not any(call.method == "sendMessage" for call in calls)


async def test_a_double_tap_on_the_village_picker_is_not_an_error(harness: BotHarness) -> None:
    await harness.send(USER, "/start", lang="zh-hans")
    await harness.press(USER, "云南省")
    harness.session.fail_next("editMessageText", 400, NOT_MODIFIED)
    calls = await harness.press(USER, "云南省")  # the same button under the old message
    assert alerts_of(calls) == []
    assert "出了点问题" not in texts_of(calls)
    assert any(call.method == "answerCallbackQuery" for call in calls)


# ---------------------------------------------------------------- Redis leftovers after kill -9


@pytest.fixture
async def replicas(settings: Settings, database: Database) -> AsyncIterator[list[BotHarness]]:
    """Two bot instances on one Redis (under a key prefix of this test's own)."""
    prefix = f"huhuqing-test-{uuid.uuid4().hex[:8]}"
    storages = [
        RedisStorage.from_url(services.REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix))
        for _ in range(2)
    ]
    instances = [BotHarness(settings, database, storage) for storage in storages]
    instances[1].updates = instances[0].updates  # one Telegram numbers the updates
    yield instances
    keys = await storages[0].redis.keys(f"{prefix}:*")
    if keys:
        await storages[0].redis.delete(*keys)
    for storage in storages:
        await storage.close()


def freeze_sending(harness: BotHarness) -> None:
    """Every Bot API call of this instance hangs: its handlers stop half-way."""

    async def hang(*_: Any, **__: Any) -> Any:
        await asyncio.Event().wait()

    harness.session.make_request = hang  # type: ignore[method-assign]


def kill_renewals() -> None:
    """What kill -9 does to a process's isolation locks: nobody renews them any more."""
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__ == "_renew":  # type: ignore[union-attr]
            task.cancel()


@pytest.mark.redis
async def test_a_killed_instances_update_is_handled_again_within_seconds(
    replicas: list[BotHarness],
) -> None:
    dead, alive = replicas
    await alive.send(USER, "/notify on", lang="en")
    freeze_sending(dead)
    update = dead.updates.text(dead._user(USER, "en"), "/notify off")
    handling = asyncio.create_task(dead.dispatcher.feed_update(dead.bot, update))
    await asyncio.sleep(0.3)  # the handler is sending its reply when the instance "dies"
    assert not handling.done()
    kill_renewals()
    redis = alive.dispatcher.storage.redis  # type: ignore[attr-defined]
    assert await redis.keys(f"*:update:*:{update.update_id}") == []  # not marked handled

    started = time.monotonic()
    await asyncio.wait_for(alive.dispatcher.feed_update(alive.bot, update), 15)
    waited = time.monotonic() - started
    assert "Reminders are off" in texts_of(alive.session.calls[-2:])
    assert waited <= bot.isolation.LOCK_SECONDS + 1  # the dead instance's lock expired
    assert bot.isolation.LOCK_SECONDS <= 5
    # Handled now: a further copy is skipped.
    before = len(alive.session.calls)
    await alive.dispatcher.feed_update(alive.bot, update)
    assert len(alive.session.calls) == before
    handling.cancel()
    await asyncio.gather(handling, return_exceptions=True)


@pytest.mark.redis
async def test_a_live_handler_keeps_its_lock_past_the_timeout(
    replicas: list[BotHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.isolation, "LOCK_SECONDS", 0.5)
    first, second = replicas
    await first.send(USER, "/notify on", lang="en")
    slow = asyncio.Event()
    real = first.session.make_request

    async def slow_reply(*args: Any, **kwargs: Any) -> Any:
        await slow.wait()
        return await real(*args, **kwargs)

    first.session.make_request = slow_reply  # type: ignore[method-assign]
    handling = asyncio.create_task(first.send(USER, "/notify off"))
    await asyncio.sleep(0.2)
    other = asyncio.create_task(second.send(USER, "/notify on", lang="en"))
    await asyncio.sleep(1.5)  # three lock timeouts: renewed all along
    assert not other.done()  # the same user's next update still waits its turn
    slow.set()
    assert "Reminders are off" in texts_of(await handling)
    assert "Reminders are on" in texts_of(await asyncio.wait_for(other, 5))


@pytest.mark.redis
async def test_a_renewal_stuck_in_the_redis_client_does_not_hold_the_user_for_ever(
    replicas: list[BotHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a burst, a lock's renewal was stuck inside the Redis client, which swallowed its
    cancellation: the handler never finished and every later update of that user waited."""
    monkeypatch.setattr(bot.isolation, "LOCK_SECONDS", 0.3)

    async def stuck_reacquire(self: object) -> bool:
        with contextlib.suppress(asyncio.CancelledError):  # swallowed, as the client did
            await asyncio.sleep(3)
        return True

    monkeypatch.setattr(bot.isolation.Lock, "reacquire", stuck_reacquire)
    first, _ = replicas
    slow = asyncio.Event()
    real = first.session.make_request

    async def slow_reply(*args: Any, **kwargs: Any) -> Any:
        await slow.wait()
        return await real(*args, **kwargs)

    first.session.make_request = slow_reply  # type: ignore[method-assign]
    handling = asyncio.create_task(first.send(USER, "/notify off", lang="en"))
    await asyncio.sleep(0.3)  # the renewal is now inside reacquire
    slow.set()
    await asyncio.wait({handling}, timeout=2)  # not wait_for: it would wait out a stuck cancel
    assert handling.done(), "the handler is still holding the user's lock"
    assert "Reminders are off" in texts_of(handling.result())
