"""What users type stays out of the logs at every level; the token stays out of every output; what
they type is kept in Redis only for a while."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import select

from bot.__main__ import main
from bot.app import create_storage, prepare
from bot.config import Settings
from bot.logging_setup import configure_logging
from db.models import AnswerFeedback, Case
from db.session import Database
from handlers.keyboards import CaseAction, CaseOutcome, CaseRate
from tests import services
from tests.harness import BotHarness
from tests.integration.conftest import villager_and_cadre

VILLAGER = 720  # 红星村
CADRE = 820  # 以古镇
QUESTION = "小额信贷能贷多少钱"
PHONE = "13912345678"
DESCRIPTION = f"自来水停了五天，我的电话{PHONE}"
REPLY_NOTE = "后天派人来修水管"
RESOLVE_NOTE = "水管已经换新的了"
TOKEN = "123456789:AAE-secretPart_0123456789abcdefghijk"
SECRET = TOKEN.partition(":")[2]


@pytest.fixture
async def people(database: Database) -> None:
    await villager_and_cadre(database, VILLAGER, CADRE)


async def whole_conversation(harness: BotHarness, database: Database) -> None:
    """A question and its 👎, a report with a phone number, a cadre's reply and resolution,
    the rating."""
    await harness.send(VILLAGER, QUESTION, lang="en")
    await harness.press(VILLAGER, "👎")
    await harness.send(VILLAGER, "/report")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, DESCRIPTION)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:named")
    await harness.press_prefix(VILLAGER, "rs:submit")
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case))
    assert case.description == DESCRIPTION
    await harness.deliver()
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="accept").pack())
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="reply").pack())
    await harness.send(CADRE, REPLY_NOTE)
    await harness.press_data(CADRE, CaseOutcome(case_id=case.id, outcome="fixed").pack())
    await harness.send(CADRE, RESOLVE_NOTE)
    await harness.deliver()
    await harness.press_data(VILLAGER, CaseRate(case_id=case.id, rating="satisfied").pack())
    await harness.send(VILLAGER, "/mycases")
    await harness.send(CADRE, f"/case {case.number}")
    async with database.sessionmaker() as session:
        assert (await session.get(Case, case.id)).status == "closed"


@pytest.mark.parametrize(
    ("level", "library_level", "sure_to_show"),
    [
        ("DEBUG", "WARNING", "submitted to 530627101"),  # HUHUQING_LOG_LEVEL=DEBUG
        ("INFO", "WARNING", "submitted to 530627101"),
        ("DEBUG", "DEBUG", "sqlalchemy.engine.Engine: INSERT INTO cases"),  # everything asked
    ],
)
async def test_no_text_a_user_sent_is_logged_at_any_level(
    harness: BotHarness,
    database: Database,
    people: None,
    logged: io.StringIO,
    settings: Settings,
    level: str,
    library_level: str,
    sure_to_show: str,
) -> None:
    configure_logging(
        settings.model_copy(update={"log_level": level, "library_log_level": library_level})
    )
    await whole_conversation(harness, database)
    out = logged.getvalue()
    assert sure_to_show in out  # the capture works and the level was applied
    for sent in (QUESTION, PHONE, DESCRIPTION, REPLY_NOTE, RESOLVE_NOTE):
        assert sent not in out


def test_a_malformed_api_url_stops_the_command_line_without_the_token(
    migrated_sqlite: str, tmp_path: Path
) -> None:
    """The process's whole output (the unit tests cover more malformed URLs in-process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUHUQING_")}
    env |= {"HUHUQING_BOT_TOKEN": TOKEN, "HUHUQING_TELEGRAM_API_URL": "localhost:8081"}
    env["HUHUQING_DATABASE_URL"] = migrated_sqlite  # the old code got as far as the Bot API
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # this tree's bot; no .env
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "huhuqing: configuration error: HUHUQING_TELEGRAM_API_URL: must be an http:// or "
        "https:// URL, like http://127.0.0.1:8081\n"
    )
    assert SECRET not in result.stdout + result.stderr


def test_an_unreachable_api_stops_the_bot_with_one_line_and_no_token(
    migrated_sqlite: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    logged: io.StringIO,
) -> None:
    """`huhuqing run` in this process (a new one spends seconds importing aiogram), everything
    on: its output and every log line."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": migrated_sqlite,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{closed}",
        "LOG_LEVEL": "DEBUG",
        "LIBRARY_LOG_LEVEL": "DEBUG",
        "STARTUP_RETRY_SECONDS": "0",  # give up at once (the retries: tests/e2e)
    }.items():
        monkeypatch.setenv(f"HUHUQING_{name}", value)
    assert main(["run"]) == 2
    out, err = capfd.readouterr()
    assert err.startswith("huhuqing: cannot reach the Telegram Bot API at http://127.0.0.1:")
    assert err.count("\n") == 1
    assert "sqlalchemy.engine" in logged.getvalue()  # the logs (all of them) were captured
    assert SECRET not in out + err + logged.getvalue()


@pytest.fixture
async def redis_harness(
    settings: Settings, database: Database
) -> AsyncIterator[tuple[BotHarness, RedisStorage]]:
    """The bot's own Redis storage (two days for conversations), under a key prefix of this
    test's own; an old-format conversation, without expiry, is there before it starts."""
    settings = settings.model_copy(
        update={"redis_url": services.REDIS_URL, "conversation_ttl_days": 2}
    )
    storage = create_storage(settings)
    assert isinstance(storage, RedisStorage)
    storage.key_builder = DefaultKeyBuilder(prefix=f"huhuqing-test-{uuid.uuid4().hex[:8]}")
    prefix = storage.key_builder.prefix
    old = {"asked": {"5": "去年问的问题"}, "report_category": "water"}
    await storage.redis.set(f"{prefix}:99:99:data", json.dumps(old))
    await storage.redis.set(f"{prefix}:99:99:state", "ReportFlow:describing")
    harness = BotHarness(settings, database, storage)
    await prepare(harness.dispatcher)
    yield harness, storage
    keys = await storage.redis.keys(f"{prefix}:*")
    if keys:
        await storage.redis.delete(*keys)
    await storage.close()


@pytest.mark.redis
async def test_conversation_data_in_redis_expires(
    redis_harness: tuple[BotHarness, RedisStorage], database: Database, people: None
) -> None:
    harness, storage = redis_harness
    redis, prefix = storage.redis, storage.key_builder.prefix
    await harness.send(VILLAGER, QUESTION)
    await harness.press(VILLAGER, "👎")
    async with database.sessionmaker() as session:
        assert (await session.scalar(select(AnswerFeedback.question))) == QUESTION
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, DESCRIPTION)  # the report being written is in the state's data

    two_days = timedelta(days=2).total_seconds()
    keys = {key.decode(): await redis.ttl(key) for key in await redis.keys(f"{prefix}:*")}
    conversation = {key: ttl for key, ttl in keys.items() if key.endswith((":state", ":data"))}
    assert f"{prefix}:{VILLAGER}:{VILLAGER}:data" in conversation
    assert f"{prefix}:99:99:state" in conversation  # written before expiries: given one
    assert all(two_days - 60 < ttl <= two_days for ttl in conversation.values())
    [question_key] = [key for key in keys if ":question:" in key]
    assert 0 < keys[question_key] <= timedelta(days=1).total_seconds()
    assert all(ttl > 0 for ttl in keys.values())  # nothing is kept for ever
    # The question's text is kept under its own short-lived key only.
    for key in conversation:
        value = (await redis.get(key) or b"").decode()
        assert QUESTION not in value
        assert "去年问的问题" not in value
    assert (await redis.get(question_key)).decode() == QUESTION
