"""The real `huhuqing run` process, long polling a fake Telegram Bot API over HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.conftest import ROOT, huhuqing
from tests.e2e.test_setup_errors import free_port
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer

USER = 777


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture
async def bot_process(telegram: FakeTelegramServer, cli_env: dict[str, str]):
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    assert huhuqing("demo", env=cli_env).returncode == 0
    env = {
        **cli_env,
        "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN,
        "HUHUQING_TELEGRAM_API_URL": telegram.base_url,
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    yield process
    process.terminate()
    try:  # in a thread: the fake Telegram, on this event loop, answers the bot's last polls
        _, err = await asyncio.to_thread(process.communicate, timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    assert DEFAULT_TOKEN.split(":")[1] not in err  # the token never reaches the logs


async def test_villager_talks_to_the_running_bot(
    telegram: FakeTelegramServer, bot_process: subprocess.Popen
) -> None:
    started = time.monotonic()
    # On start-up the bot drops any webhook and registers its menu in every language.
    await telegram.wait_for("getUpdates", timeout=30)
    menus = {
        call.params.get("language_code", ""): call.params["commands"]
        for call in telegram.calls_of("setMyCommands")
    }
    assert set(menus) >= {"", "zh", "en"}
    assert json.dumps(menus["en"]).count("village") == 1
    assert "选择所在村" in json.dumps(menus["zh"], ensure_ascii=False)

    since = telegram.mark()
    telegram.send_text(USER, "/start", language_code="zh-hans")
    greeting = await telegram.wait_for(
        "sendMessage", lambda call: "请选择您所在的省" in call.params.get("text", ""),
        since=since, timeout=15,
    )  # fmt: skip
    first_answer = time.monotonic() - started

    # Press "云南省" under that message: the bot edits it into the next level.
    message_id = greeting.result["message_id"]
    markup = greeting.params["reply_markup"]
    data = next(
        button["callback_data"]
        for row in markup["inline_keyboard"] for button in row if button["text"] == "云南省"
    )  # fmt: skip
    since = telegram.mark()
    telegram.press_button(USER, data, message_id=message_id)
    edit = await telegram.wait_for("editMessageText", since=since, timeout=10)
    assert "请选择您所在的市" in edit.params["text"]
    await telegram.wait_for("answerCallbackQuery", since=since, timeout=10)

    since = telegram.mark()
    telegram.send_text(USER, "紅星村")
    saved = await telegram.wait_for("sendMessage", since=since, timeout=10)
    assert "已保存。您所在的村：云南省昭通市镇雄县以古镇红星村" in saved.params["text"]
    assert first_answer < 30


async def test_run_with_web_serves_the_console_beside_the_bot(
    telegram: FakeTelegramServer, cli_env: dict[str, str]
) -> None:
    """`huhuqing run --web`: one process polls Telegram and serves the console; an admin's
    /web link, sent by that bot, signs in to that console."""
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    assert huhuqing("users", "grant", str(USER), "admin", env=cli_env).returncode == 0
    port = free_port()
    env = {
        **cli_env,
        "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN,
        "HUHUQING_TELEGRAM_API_URL": telegram.base_url,
        "HUHUQING_WEB_LISTEN": f"127.0.0.1:{port}",
        "HUHUQING_WEB_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not wait
        [sys.executable, "-m", "bot", "run", "--web"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        await telegram.wait_for("getUpdates", timeout=30)
        since = telegram.mark()
        telegram.send_text(USER, "/web", language_code="zh-hans")
        sent = await telegram.wait_for(
            "sendMessage", lambda call: "/signin/" in call.params.get("text", ""),
            since=since, timeout=15,
        )  # fmt: skip
        link = sent.params["text"].split('href="')[1].split('"')[0]
        assert link.startswith(f"http://127.0.0.1:{port}/signin/")
        jar = aiohttp.CookieJar(unsafe=True)  # a browser keeps cookies of an IP address too
        async with aiohttp.ClientSession(cookie_jar=jar) as browser, browser.post(link) as page:
            assert page.status == 200
            assert "概览" in await page.text()
    finally:
        process.terminate()
        _, err = await asyncio.to_thread(process.communicate, timeout=15)
    token = link.rpartition("/")[2]
    assert token not in err  # a sign-in link is a password for ten minutes: never logged
