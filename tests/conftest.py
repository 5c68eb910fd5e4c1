"""Shared fixtures. PostgreSQL and Redis tests skip locally when the servers are absent and make
the whole run fail at once in CI (CI=true), so that a green CI always means they ran."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from db import migrate
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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'huhuqing.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"huhuqing_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{services.POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
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
    return Settings(_env_file=None, database_url=sqlite_url, bot_token=None)  # type: ignore[call-arg]


@pytest.fixture
def migrated_sqlite(sqlite_url: str) -> str:
    migrate.upgrade(sqlite_url)
    return sqlite_url
