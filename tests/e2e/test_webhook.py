"""The real `huhuqing run --webhook` process: it registers its webhook with the secret, answers an
update posted to it, and refuses a post without the secret."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.conftest import ROOT, huhuqing
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer

SECRET = "s3cret-token_123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


async def test_webhook_process(telegram: FakeTelegramServer, cli_env: dict[str, str]) -> None:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    port = free_port()
    url = "https://bot.example.org/telegram/hook"  # public; a reverse proxy forwards to us
    local = f"http://127.0.0.1:{port}/telegram/hook"
    env = {
        **cli_env,
        "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN,
        "HUHUQING_TELEGRAM_API_URL": telegram.base_url,
        "HUHUQING_WEBHOOK_URL": url,
        "HUHUQING_WEBHOOK_SECRET": SECRET,
        "HUHUQING_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--webhook", cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        registered = await telegram.wait_for("setWebhook", timeout=30)
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == SECRET
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1, "date": 0, "text": "/help",
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "A", "language_code": "en"},
            },
        }  # fmt: skip
        refused = None
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the server starts listening just after setWebhook
                try:
                    refused = await http.post(local, json=update)
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            assert refused is not None
            assert refused.status == 401
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            accepted = await http.post(local, json=update, headers=headers)
            assert accepted.status == 200
            # Processed before the 200: Telegram has the answer already, without waiting (the
            # in-process test of the same, whatever the timing: test_webhook_app.py).
            [answer] = telegram.calls_of("sendMessage")  # the refused post did nothing
        assert answer.params["chat_id"] in (42, "42")
        assert "/report" in answer.params["text"]
    finally:
        process.terminate()
        _, err = await process.communicate()
    assert SECRET not in err.decode()
    assert DEFAULT_TOKEN.split(":")[1] not in err.decode()


def test_webhook_without_its_settings_is_refused(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN}
    result = huhuqing("run", "--webhook", env=env)
    assert result.returncode == 2
    assert "HUHUQING_WEBHOOK_URL" in result.stderr
