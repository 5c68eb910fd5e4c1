"""Operations: /metrics and /healthz (on the webhook's server and on the polling port),
`huhuqing db backup` on PostgreSQL, and `huhuqing cases anonymise` (retention)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.__main__ import main
from bot.config import Settings
from bot.metrics import OpsEndpoints, instrument
from bot.runners.common import running_bot
from bot.runners.webhook import run_webhook
from db import migrate
from db.models import Case, CaseAttachment, CaseEvent, CaseStatus, OutboxMessage, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, create_engine, create_sessionmaker, open_database
from grievances.retention import MARKER, months_before
from tests import services
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer
from tests.harness import BotHarness, texts_of

VILLAGE = "530627101201"  # 红星村, 以古镇
TOWNSHIP = "530627101"
PATH = "530000/530600/530627/530627101/"
REPORTER = 700
CADRE = 800
SECRET = "s3cret-token_123"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page, by name and labels (parsed as Prometheus would)."""
    return {
        (item.name, tuple(sorted(item.labels.items()))): item.value
        for family in text_string_to_metric_families(body)
        for item in family.samples
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def client_of(endpoints: OpsEndpoints) -> AsyncIterator[TestClient]:
    app = web.Application()
    endpoints.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def any_database(database_url: str) -> AsyncIterator[Database]:
    await migrate.upgrade_async(database_url)
    database = await open_database(database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
    yield database
    await database.close()


def new_case(number: str, status: str, *, reporter: int = REPORTER, **fields: object) -> Case:
    now = utcnow()
    values: dict[str, object] = {
        "number": number,
        "reporter_id": reporter,
        "reporter_locale": "zh_Hans",
        "category": "road",
        "place_code": VILLAGE,
        "township_code": TOWNSHIP,
        "unit_code": TOWNSHIP,
        "unit_path": PATH,
        "status": status,
        "description": f"{number} 村口的路坏了，电话13800000000",
        "created_at": now,
        "accept_due": now + timedelta(days=1),
        "resolve_due": now + timedelta(days=7),
    }
    return Case(**{**values, **fields})


# --- /metrics and /healthz ------------------------------------------------------------------


async def test_updates_answers_errors_and_429s_are_counted(harness: BotHarness) -> None:
    instrument(harness.bot, harness.dispatcher)
    ok = sample("huhuqing_updates_total", type="message", outcome="ok")
    failed = sample("huhuqing_updates_total", type="message", outcome="error")
    answered = sample("huhuqing_answers_total", decision="answer")
    timed = sample("huhuqing_update_seconds_count", type="message")
    limited = sample("huhuqing_telegram_retry_after_total", method="sendMessage")

    reply = texts_of(await harness.send(REPORTER, "小额信贷能贷多少钱？"))
    assert "5万元" in reply
    assert sample("huhuqing_answers_total", decision="answer") == answered + 1
    assert sample("huhuqing_updates_total", type="message", outcome="ok") == ok + 1

    # The reply fails: the user gets the apology, the update counts as an error.
    harness.session.fail_next("sendMessage", 400, "Bad Request: something odd")
    calls = await harness.send(REPORTER, "小额信贷能贷多少钱？")
    assert "Sorry" in texts_of(calls) or "抱歉" in texts_of(calls)
    assert sample("huhuqing_updates_total", type="message", outcome="error") == failed + 1

    harness.session.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    await harness.send(REPORTER, "/help")
    assert sample("huhuqing_telegram_retry_after_total", method="sendMessage") == limited + 1
    assert sample("huhuqing_update_seconds_count", type="message") == timed + 3


async def test_metrics_read_cases_and_outbox_at_scrape_time(any_database: Database) -> None:
    now = utcnow()
    async with any_database.sessionmaker() as session:
        session.add_all(
            [
                new_case("C1", CaseStatus.SUBMITTED),
                new_case("C2", CaseStatus.SUBMITTED),
                new_case("C3", CaseStatus.CLOSED, closed_at=now),
                OutboxMessage(chat_id=1, text="a", created_at=now - timedelta(minutes=10)),
                OutboxMessage(chat_id=1, text="b", created_at=now - timedelta(minutes=1)),
                OutboxMessage(chat_id=1, text="c", created_at=now - timedelta(days=3), sent_at=now),
                OutboxMessage(
                    chat_id=1, text="d", created_at=now - timedelta(days=9), failed_at=now
                ),
            ]
        )
        await session.commit()
    async with client_of(OpsEndpoints(any_database.sessionmaker, None)) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        metrics = scraped(await response.text())
    assert metrics["huhuqing_cases", (("state", "submitted"),)] == 2
    assert metrics["huhuqing_cases", (("state", "closed"),)] == 1
    assert metrics["huhuqing_cases", (("state", "accepted"),)] == 0  # every state, always
    assert metrics["huhuqing_outbox_pending", ()] == 2  # neither the sent nor the given up
    assert 600 <= metrics["huhuqing_outbox_oldest_pending_seconds", ()] < 700
    assert any(name == "process_resident_memory_bytes" for name, _ in metrics)

    async with any_database.sessionmaker() as session:  # the next scrape sees the change
        for row in await session.scalars(select(OutboxMessage)):
            row.sent_at = now
        await session.commit()
    async with client_of(OpsEndpoints(any_database.sessionmaker, None)) as client:
        metrics = scraped(await (await client.get("/metrics")).text())
    assert metrics["huhuqing_outbox_pending", ()] == 0
    assert metrics["huhuqing_outbox_oldest_pending_seconds", ()] == 0


async def test_healthz_without_redis(database: Database) -> None:
    async with client_of(OpsEndpoints(database.sessionmaker, None)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"database": "ok", "redis": "off"}


@pytest.mark.redis
async def test_healthz_with_redis(database: Database) -> None:
    redis = Redis.from_url(services.REDIS_URL)
    async with redis, client_of(OpsEndpoints(database.sessionmaker, redis)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"database": "ok", "redis": "ok"}


async def test_healthz_names_a_hanging_redis_within_its_timeout(database: Database) -> None:
    """A Redis that accepts the connection and never answers: 503 in about the timeout."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with Redis.from_url(f"redis://127.0.0.1:{port}/0") as redis:
            endpoints = OpsEndpoints(database.sessionmaker, redis, timeout=0.3)
            async with client_of(endpoints) as client:
                started = time.monotonic()
                response = await client.get("/healthz")
                assert time.monotonic() - started < 2
                assert response.status == 503
                assert await response.json() == {"database": "ok", "redis": "timeout"}
    finally:
        silent.close()


async def test_healthz_names_an_unreachable_database_and_no_password() -> None:
    engine = create_engine(f"postgresql+asyncpg://huhuqing:pa55-word@127.0.0.1:{free_port()}/x")
    try:
        endpoints = OpsEndpoints(create_sessionmaker(engine), None, timeout=1)
        async with client_of(endpoints) as client:
            response = await client.get("/healthz")
            body = await response.text()
            assert response.status == 503
            assert json.loads(body)["database"].startswith("error: ")
            assert json.loads(body)["redis"] == "off"
            assert "pa55-word" not in body
            assert "huhuqing" not in body
            metrics = await client.get("/metrics")  # the counters are served all the same
            assert metrics.status == 200
            assert "pa55-word" not in await metrics.text()
    finally:
        await engine.dispose()


@pytest.fixture
def bot_settings(settings: Settings, seeded_template: Path) -> Settings:
    shutil.copyfile(seeded_template, settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    return settings


async def wait_listening(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
    for _ in range(100):
        try:
            return await http.get(url)
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens at {url}")


async def test_the_webhook_serves_metrics_and_health(bot_settings: Settings) -> None:
    port, metrics_port = free_port(), free_port()
    async with FakeTelegramServer() as telegram:
        settings = bot_settings.model_copy(
            update={
                "bot_token": SecretStr(DEFAULT_TOKEN),
                "telegram_api_url": telegram.base_url,
                "webhook_listen": f"127.0.0.1:{port}",
                "metrics_port": metrics_port,
            }
        )
        before = sample("huhuqing_updates_total", type="message", outcome="ok")
        task = asyncio.create_task(
            run_webhook(settings, "https://bot.example.org/telegram/hook", SECRET)
        )
        try:
            async with aiohttp.ClientSession() as http:
                health = await wait_listening(http, f"http://127.0.0.1:{port}/healthz")
                assert health.status == 200
                assert await health.json() == {"database": "ok", "redis": "off"}
                update = {
                    "update_id": 1,
                    "message": {
                        "message_id": 1, "date": 0, "text": "/help",
                        "chat": {"id": 42, "type": "private"},
                        "from": {"id": 42, "is_bot": False, "first_name": "A"},
                    },
                }  # fmt: skip
                posted = await http.post(
                    f"http://127.0.0.1:{port}/telegram/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                assert posted.status == 200
                page = await (await http.get(f"http://127.0.0.1:{port}/metrics")).text()
                counted = scraped(page)[
                    "huhuqing_updates_total", (("outcome", "ok"), ("type", "message"))
                ]
                assert counted == before + 1
                assert SECRET not in page
                assert DEFAULT_TOKEN.split(":")[1] not in page
                # The port of its own (the one polling uses) answers the same.
                separate = await http.get(f"http://127.0.0.1:{metrics_port}/healthz")
                assert separate.status == 200
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    with socket.socket() as probe:  # stopped with the bot
        assert probe.connect_ex(("127.0.0.1", metrics_port)) != 0


async def test_polling_serves_them_on_the_metrics_port(bot_settings: Settings) -> None:
    """Polling has no server of its own: HUHUQING_METRICS_PORT (off by default) gives it one."""
    assert bot_settings.metrics_port is None
    port = free_port()
    async with FakeTelegramServer() as telegram:
        settings = bot_settings.model_copy(
            update={
                "bot_token": SecretStr(DEFAULT_TOKEN),
                "telegram_api_url": telegram.base_url,
                "metrics_port": port,
            }
        )
        async with running_bot(settings), aiohttp.ClientSession() as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
            assert (health.status, await health.json()) == (200, {"database": "ok", "redis": "off"})
            metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
            assert "huhuqing_outbox_pending 0.0" in await metrics.text()


# --- huhuqing db backup -----------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("HUHUQING_RETENTION_MONTHS", raising=False)
    return tmp_path


async def huhuqing(database_url: str, *argv: str, env: dict[str, str] | None = None) -> int:
    """`huhuqing` in-process (in a thread: it runs its own loop) on the given database."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"HUHUQING_DATABASE_URL": database_url, **(env or {})}.items():
            patch.setenv(name, value)
        return await asyncio.to_thread(main, list(argv))


@pytest.mark.postgres
async def test_backup_of_postgresql_with_pg_dump(
    postgres_url: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await migrate.upgrade_async(postgres_url)
    database = await open_database(postgres_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        session.add(new_case("B1", CaseStatus.SUBMITTED, description="备份里的那条路"))
        await session.commit()
    await database.close()

    target = cli / "backups" / "huhuqing.dump"
    assert await huhuqing(postgres_url, "db", "backup", str(target)) == 0
    assert f"backup written to {target}" in capsys.readouterr().out
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    restore = await asyncio.create_subprocess_exec(
        "pg_restore", "--file=-", str(target), stdout=asyncio.subprocess.PIPE
    )
    restored, _ = await restore.communicate()
    assert restore.returncode == 0
    assert "备份里的那条路" in restored.decode()


@pytest.mark.postgres
async def test_backup_failures_are_one_clear_line(
    postgres_url: str,
    cli: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    target = cli / "x.dump"
    assert await huhuqing(missing, "db", "backup", str(target)) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("huhuqing: pg_dump failed (exit 1): ")
    assert "no_such_database" in error
    assert "\n" not in error
    assert not target.exists()

    monkeypatch.setenv("PATH", str(cli))  # no pg_dump here
    assert await huhuqing(postgres_url, "db", "backup", str(target)) == 1
    error = capsys.readouterr().err.strip()
    assert error == (
        "huhuqing: pg_dump was not found on PATH: install PostgreSQL's client tools "
        "(Debian: apt install postgresql-client)"
    )


async def test_backup_of_sqlite_still_copies_the_file(
    settings: Settings, database: Database, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = cli / "copy.db"
    assert await huhuqing(settings.database_url, "db", "backup", str(target)) == 0
    assert f"backup written to {target}" in capsys.readouterr().out
    copy = await open_database(f"sqlite+aiosqlite:///{target}")  # a database at the schema
    await copy.close()


# --- huhuqing cases anonymise -----------------------------------------------------------------


async def old_cases(database: Database) -> None:
    """OLD1/OLD2 closed 25 and 30 months ago; RECENT closed 23 months ago; OPEN submitted 30
    months ago and still open."""
    now = utcnow()

    def closed(number: str, months: int, reporter: int, update_id: int) -> Case:
        at = months_before(now, months)
        case = new_case(
            number,
            CaseStatus.CLOSED,
            reporter=reporter,
            created_at=at - timedelta(days=20),
            closed_at=at,
            outcome="fixed",
            rating="satisfied",
            assignee_id=CADRE,
            source_update_id=update_id,
            details={"benefit": "小额信贷", "member": "张三"},
        )
        case.events = [
            CaseEvent(kind="submitted", actor_id=reporter, actor_role="villager", at=at,
                      data={"unit": TOWNSHIP}),
            CaseEvent(kind="info_added", actor_id=reporter, actor_role="villager", at=at,
                      note="我家在村口第三户"),
            CaseEvent(kind="replied", actor_id=CADRE, actor_role="cadre", at=at,
                      note="下周修"),
            CaseEvent(kind="resolved", actor_id=CADRE, actor_role="cadre", at=at,
                      note="已修好", data={"outcome": "fixed"}),
            CaseEvent(kind="change_confirmed", actor_id=CADRE, actor_role="cadre", at=at,
                      data={"member": "张三"}),
        ]  # fmt: skip
        case.attachments = [
            CaseAttachment(kind="photo", file_id=f"AgACAgphoto-{number}"),
            CaseAttachment(kind="location", latitude=28.1, longitude=103.6),
        ]
        return case

    async with database.sessionmaker() as session:
        cases = [
            closed("OLD1", 25, REPORTER, 1001),
            closed("OLD2", 30, REPORTER + 1, 1002),
            closed("RECENT", 23, REPORTER, 1003),
            new_case("OPEN", CaseStatus.SUBMITTED, created_at=months_before(now, 30)),
        ]
        session.add_all(cases)
        await session.flush()
        session.add(OutboxMessage(chat_id=REPORTER, text="OLD1 村口的路坏了", case_id=cases[0].id))
        await session.commit()


async def case_rows(database: Database) -> dict[str, Case]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(
            select(Case).options(selectinload(Case.events), selectinload(Case.attachments))
        )
        return {case.number: case for case in rows}


async def test_anonymise_closed_cases(
    any_database: Database, database_url: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await old_cases(any_database)
    before = await case_rows(any_database)

    assert await huhuqing(database_url, "cases", "anonymise", "--dry-run") == 0
    output = capsys.readouterr().out
    assert output.startswith("would anonymise 2 cases closed before ")
    assert "(24 months ago); nothing changed (dry run)" in output
    unchanged = await case_rows(any_database)
    assert {n: c.description for n, c in unchanged.items()} == {
        n: c.description for n, c in before.items()
    }

    assert await huhuqing(database_url, "cases", "anonymise") == 0
    assert capsys.readouterr().out.startswith("anonymised 2 cases closed before ")
    after = await case_rows(any_database)
    for number in ("OLD1", "OLD2"):
        case, was = after[number], before[number]
        assert case.description == MARKER
        assert case.reporter_id == 0
        assert case.source_update_id is None
        assert case.details is None
        assert case.household_id is None
        assert [e.note for e in case.events] == [None, MARKER, MARKER, MARKER, None]
        assert [e.actor_id for e in case.events] == [0, 0, CADRE, CADRE, CADRE]
        assert [e.data for e in case.events] == [
            {"unit": TOWNSHIP}, None, None, {"outcome": "fixed"}, None
        ]  # fmt: skip
        assert [(a.kind, a.file_id, a.latitude, a.longitude) for a in case.attachments] == [
            ("photo", MARKER, None, None),
            ("location", None, None, None),
        ]
        # What the statistics read stays.
        kept = ("category", "place_code", "township_code", "unit_code", "status", "outcome",
                "rating", "assignee_id", "created_at", "closed_at", "number")  # fmt: skip
        assert {f: getattr(case, f) for f in kept} == {f: getattr(was, f) for f in kept}
    for number in ("RECENT", "OPEN"):
        assert after[number].description == before[number].description
        assert after[number].reporter_id == before[number].reporter_id
    async with any_database.sessionmaker() as session:
        assert list(await session.scalars(select(OutboxMessage.text))) == [MARKER]

    assert await huhuqing(database_url, "cases", "anonymise") == 0  # safe to run again
    assert capsys.readouterr().out.startswith("anonymised 0 cases")

    # The period comes from HUHUQING_RETENTION_MONTHS, and --older-than-months overrides it.
    env = {"HUHUQING_RETENTION_MONTHS": "22"}
    assert await huhuqing(database_url, "cases", "anonymise", "--dry-run", env=env) == 0
    assert capsys.readouterr().out.startswith("would anonymise 1 case closed before")
    args = ("cases", "anonymise", "--older-than-months", "40")
    assert await huhuqing(database_url, *args, env=env) == 0
    assert capsys.readouterr().out.startswith("anonymised 0 cases")
    assert (await case_rows(any_database))["RECENT"].description != MARKER


async def test_anonymise_refuses_a_period_under_a_month(
    migrated_sqlite: str, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await huhuqing(migrated_sqlite, "cases", "anonymise", "--older-than-months", "0") == 2
    assert "at least 1" in capsys.readouterr().err


def test_months_before_keeps_the_day_or_the_months_end() -> None:
    assert months_before(datetime(2026, 3, 31, 8, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 8, tzinfo=UTC
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )
