"""Every setting that is wrong, or names a service that is down, stops a command with one line
that names the setting and what to do, and exit code 2 — never a traceback."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.conftest import ROOT, huhuqing
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer
from tests.services import IN_CI, POSTGRES_URL, postgres_problem


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit code 2 and one line on stdout and stderr together, holding every needle."""
    said = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, said
    assert "Traceback" not in said
    assert len(said.splitlines()) == 1, said
    for needle in needles:
        assert needle in said
    return said


HTTPS_ONLY = "must be the public https:// address"


@pytest.fixture
def bot_env(cli_env: dict[str, str]) -> dict[str, str]:
    """A migrated SQLite database and a token of the fake Bot API."""
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    return {**cli_env, "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN}


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("HUHUQING_REDIS_URL", "127.0.0.1:6379", "must start with redis://"),
        ("HUHUQING_HOTLINE", "", "must be the complaint hotline's number"),
        ("HUHUQING_HOTLINE", "   ", "must be the complaint hotline's number"),
        ("HUHUQING_TELEGRAM_API_URL", "localhost8081", "must be an http:// or https:// URL"),
        ("HUHUQING_WEBHOOK_URL", "http://bot.example.org/hook", HTTPS_ONLY),
        ("HUHUQING_WEBHOOK_URL", "bot.example.org", HTTPS_ONLY),
        ("HUHUQING_WEBHOOK_SECRET", "has spaces!", "must be 1-256 letters, digits"),
        ("HUHUQING_WEB_URL", "console.example.org", "must be the console's http:// or https://"),
        ("HUHUQING_WEB_SECRET", "short", "must be at least 32 characters"),
    ],
)
def test_a_bad_setting_is_one_line(
    bot_env: dict[str, str], variable: str, value: str, needle: str
) -> None:
    result = huhuqing("run", env={**bot_env, variable: value})
    assert_one_line(result, f"{variable}: {needle}")


def test_telegram_unreachable_is_one_line_after_the_retries(bot_env: dict[str, str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = {**bot_env, "HUHUQING_TELEGRAM_API_URL": closed, "HUHUQING_STARTUP_RETRY_SECONDS": "0"}
    said = assert_one_line(huhuqing("run", env=env), "cannot reach the Telegram Bot API", closed)
    assert "HUHUQING_TELEGRAM_API_URL" in said
    assert "HUHUQING_STARTUP_RETRY_SECONDS" in said


async def test_a_refused_token_is_one_line(bot_env: dict[str, str]) -> None:
    async with FakeTelegramServer() as telegram:
        env = {
            **bot_env,
            "HUHUQING_TELEGRAM_API_URL": telegram.base_url,
            "HUHUQING_BOT_TOKEN": "123456:revoked-or-mistyped",
        }
        result = await asyncio.to_thread(huhuqing, "run", env=env)
    said = assert_one_line(result, "HUHUQING_BOT_TOKEN", "401", "@BotFather")
    assert "revoked-or-mistyped" not in said


def test_redis_down_is_one_line(bot_env: dict[str, str]) -> None:
    env = {**bot_env, "HUHUQING_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    assert_one_line(huhuqing("run", env=env), "HUHUQING_REDIS_URL: Redis does not answer")


@pytest.mark.parametrize("command", [("run",), ("db", "upgrade"), ("users", "list")])
def test_postgresql_down_is_one_line(cli_env: dict[str, str], command: tuple[str, ...]) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    env = {**cli_env, "HUHUQING_DATABASE_URL": url, "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN}
    assert_one_line(huhuqing(*command, env=env), "HUHUQING_DATABASE_URL", "nothing answers")


async def _postgres_or_skip() -> None:
    problem = await postgres_problem()
    if problem and not IN_CI:
        pytest.skip(problem)
    assert problem is None, problem


@pytest.mark.parametrize(
    ("part", "needle"),
    [("database", 'database "no_such_db" does not exist'), ("user", 'role "no_such_user"')],
)
async def test_unknown_postgresql_database_or_user_is_one_line(
    cli_env: dict[str, str], part: str, needle: str
) -> None:
    await _postgres_or_skip()
    parts = urlsplit(POSTGRES_URL)
    if part == "database":
        url = urlunsplit(parts._replace(path="/no_such_db"))
    else:
        netloc = "no_such_user@" + parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=netloc))
    env = {**cli_env, "HUHUQING_DATABASE_URL": url, "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN}
    for command in (("run",), ("db", "upgrade")):
        said = assert_one_line(await asyncio.to_thread(huhuqing, *command, env=env), needle)
        assert "HUHUQING_DATABASE_URL" in said


async def test_webhook_address_in_use_is_one_line(bot_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        async with FakeTelegramServer() as telegram:
            env = {
                **bot_env,
                "HUHUQING_TELEGRAM_API_URL": telegram.base_url,
                "HUHUQING_WEBHOOK_URL": "https://bot.example.org/hook",
                "HUHUQING_WEBHOOK_SECRET": "s3cret",
                "HUHUQING_WEBHOOK_LISTEN": listen,
            }
            result = await asyncio.to_thread(huhuqing, "run", "--webhook", env=env)
    assert_one_line(result, f"HUHUQING_WEBHOOK_LISTEN: cannot listen on {listen}")


async def test_run_waits_for_telegram_and_says_so_once(bot_env: dict[str, str]) -> None:
    """The network is down when the bot starts, then comes up: the bot connects and answers."""
    port = free_port()
    env = {**bot_env, "HUHUQING_TELEGRAM_API_URL": f"http://127.0.0.1:{port}"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        first = await asyncio.wait_for(process.stderr.readline(), 60)
        assert b"cannot reach the Telegram Bot API" in first
        await asyncio.sleep(3)  # a few retries while it is down
        async with FakeTelegramServer(port=port) as telegram:
            telegram.send_text(7, "/start")
            await telegram.wait_for("sendMessage", timeout=60)
    finally:
        process.terminate()
        _, rest = await process.communicate()
    said = (first + rest).decode()
    assert said.count("cannot reach the Telegram Bot API") == 1, said
    assert "reached the Telegram Bot API" in said
    assert "Traceback" not in said
