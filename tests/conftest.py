"""Shared fixtures. PostgreSQL and Redis tests skip locally when the servers are absent and make
the whole run fail at once in CI (CI=true), so that a green CI always means they ran."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import knowledge.service
from bot.config import Settings
from bot.logging_setup import FLOORS, FORMAT, PROJECT_LOGGERS
from db import migrate
from knowledge.entries import Entry
from knowledge.search import KnowledgeIndex
from knowledge.service import entry_content
from tests import services

_PROBLEMS: dict[str, str | None] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _PROBLEMS.update(services.problems())
    broken = {name: why for name, why in _PROBLEMS.items() if why}
    if broken and services.IN_CI:
        lines = "; ".join(f"{name}: {why}" for name, why in broken.items())
        pytest.exit(f"CI=true but required services are unreachable — {lines}", returncode=3)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for service in ("postgres", "redis"):
            if service in item.keywords and _PROBLEMS.get(service):
                item.add_marker(pytest.mark.skip(reason=f"{service}: {_PROBLEMS[service]}"))


@pytest.fixture(autouse=True, scope="session")
def _one_index_per_knowledge_base() -> Iterator[None]:
    """Every test's bot builds its search index from the same bundled entries: build it once per
    distinct set of entries (an index is not changed after it is built). Not under mutation
    testing (TESTING.md): there each test must build the index with the mutant in it."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        yield
        return
    built: dict[tuple[int, str], KnowledgeIndex] = {}

    def index(entries: Sequence[Entry], version: int = 0) -> KnowledgeIndex:
        key = (version, json.dumps([entry_content(e) for e in entries], sort_keys=True))
        if key not in built:
            built[key] = KnowledgeIndex(entries, version=version)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(knowledge.service, "KnowledgeIndex", index)
        yield


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'huhuqing.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"huhuqing_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{services.POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def admin(statement: str) -> None:
    """Run a statement on the PostgreSQL server's maintenance connection."""
    import asyncpg

    connection = await asyncpg.connect(services.POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """An empty database on each backend the bot supports."""
    if request.param == "sqlite":
        return sqlite_url
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """Tests drive one user faster than a person can: the per-user limits are raised (their own
    tests, tests/integration/test_rate_limits.py, set them)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=sqlite_url,
        bot_token=None,
        updates_per_minute=1000,
        reports_per_day=1000,
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head for the whole run: tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def migrated_sqlite(sqlite_url: str, migrated_template: Path) -> str:
    """An empty database at the newest revision (a copy of the migrated template)."""
    shutil.copyfile(migrated_template, sqlite_url.removeprefix("sqlite+aiosqlite:///"))
    return sqlite_url


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Every record that reaches the root logger, formatted as the bot's stderr shows it; the
    logging set-up is put back afterwards."""
    root = logging.getLogger()
    names = (*PROJECT_LOGGERS, *FLOORS)
    levels = {name: logging.getLogger(name).level for name in names}
    level, handlers = root.level, list(root.handlers)
    filters = {handler: list(handler.filters) for handler in handlers}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    for kept, old_filters in filters.items():
        kept.filters[:] = old_filters
