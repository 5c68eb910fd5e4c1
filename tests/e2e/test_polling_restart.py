"""Long polling over the fake Bot API: an update is confirmed to Telegram only once handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.runners import polling
from bot.runners.polling import poll
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer

USER = 4242


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


def instance(
    telegram: FakeTelegramServer, gate: asyncio.Event, started: asyncio.Event | None = None
) -> tuple[Bot, Dispatcher]:
    """One bot process: "slow" (setting ``started``) waits for the gate before it answers,
    anything else is echoed."""
    bot = Bot(
        DEFAULT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    )
    dispatcher = Dispatcher()

    @dispatcher.message(F.text == "slow")
    async def slow(message: Message) -> None:
        if started is not None:
            started.set()
        await gate.wait()
        await message.answer("slow done")

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text}")

    return bot, dispatcher


def pending_ids(telegram: FakeTelegramServer) -> set[int]:
    return {update["update_id"] for update in telegram.pending_updates}


async def test_an_update_being_handled_when_the_process_dies_comes_again(
    telegram: FakeTelegramServer,
) -> None:
    bot, dispatcher = instance(telegram, asyncio.Event())  # "slow" never finishes here
    first = asyncio.create_task(poll(bot, dispatcher, timeout=1))
    slow = telegram.send_text(USER, "slow")["update_id"]
    telegram.send_text(USER, "fast")
    # A later update is handled while the slow one is still running...
    await telegram.wait_for("sendMessage", lambda call: call.params["text"] == "echo fast")
    since = telegram.mark()
    await telegram.wait_for("getUpdates", since=since)  # ...and a poll has confirmed what it could
    assert slow in pending_ids(telegram)  # the slow one is not confirmed

    first.cancel()  # the process dies in the middle of the slow handler
    await asyncio.gather(first, return_exceptions=True)
    await bot.session.close()

    gate = asyncio.Event()
    gate.set()
    bot, dispatcher = instance(telegram, gate)
    since = telegram.mark()
    second = asyncio.create_task(poll(bot, dispatcher, timeout=1))
    await telegram.wait_for(
        "sendMessage", lambda call: call.params["text"] == "slow done", since=since
    )
    stop = telegram.mark()
    await telegram.wait_for("getUpdates", since=stop)
    assert pending_ids(telegram) == set()  # handled, then confirmed
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    await bot.session.close()


async def test_a_clean_stop_lets_handlers_finish_and_confirms_them(
    telegram: FakeTelegramServer,
) -> None:
    gate, started = asyncio.Event(), asyncio.Event()
    bot, dispatcher = instance(telegram, gate, started)
    stop = asyncio.Event()
    running = asyncio.create_task(poll(bot, dispatcher, stop=stop, timeout=1))
    telegram.send_text(USER, "slow")
    await asyncio.wait_for(started.wait(), 5)
    stop.set()  # SIGTERM while "slow" is being handled
    await asyncio.sleep(0.1)
    gate.set()
    await asyncio.wait_for(running, 5)
    assert telegram.sent_texts(USER) == ["slow done"]
    assert pending_ids(telegram) == set()  # nothing handled twice after the restart
    await bot.session.close()


async def test_a_stuck_handler_does_not_hold_up_other_users(
    telegram: FakeTelegramServer,
) -> None:
    gate = asyncio.Event()
    bot, dispatcher = instance(telegram, gate)
    running = asyncio.create_task(poll(bot, dispatcher, timeout=1))
    telegram.send_text(USER, "slow")
    for user in range(1, 41):
        telegram.send_text(USER + user, f"hi {user}")
    for user in range(1, 41):
        await telegram.wait_for(
            "sendMessage", lambda call, u=user: call.params["text"] == f"echo hi {u}"
        )
    assert telegram.sent_texts(USER) == []
    gate.set()
    await telegram.wait_for("sendMessage", lambda call: call.params["text"] == "slow done")
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await bot.session.close()


async def test_a_handler_stuck_for_good_is_given_up_and_the_rest_go_on(
    telegram: FakeTelegramServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Updates are confirmed only below the oldest one running: without a time limit, one
    handler that never ends would stop the bot after the next 99 updates."""
    # Long enough for the echoes on a busy machine (0.5 s gave up some of them in CI), far
    # shorter than the real two minutes.
    monkeypatch.setattr(polling, "HANDLER_SECONDS", 3)
    bot, dispatcher = instance(telegram, asyncio.Event())  # "slow" never finishes
    running = asyncio.create_task(poll(bot, dispatcher, timeout=1))
    telegram.send_text(USER, "slow")
    for user in range(1, 151):
        telegram.send_text(USER + user, f"hi {user}")
    await telegram.wait_for(
        "sendMessage", lambda call: call.params["text"] == "echo hi 150", timeout=30
    )
    assert len(telegram.sent_texts()) == 150
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await bot.session.close()
