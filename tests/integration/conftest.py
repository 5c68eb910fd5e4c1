from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import prepare
from bot.config import Settings
from db import migrate
from db.models import Role
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from knowledge.service import KnowledgeBase
from tests import services
from tests.conftest import admin
from tests.harness import BotHarness


@pytest.fixture(scope="session")
def regions_template(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template with the sample regions imported, made once for the whole run."""
    path = tmp_path_factory.mktemp("template") / "regions.db"
    shutil.copyfile(migrated_template, path)

    async def load() -> None:
        database = await open_database(f"sqlite+aiosqlite:///{path}")
        async with database.sessionmaker() as session:
            await import_regions(session, SAMPLE_REGIONS)
        await database.close()

    asyncio.run(load())
    return path


@pytest.fixture(scope="session")
def seeded_template(regions_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The regions template with the bundled knowledge base seeded, as a running bot has it."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    shutil.copyfile(regions_template, path)

    async def seed() -> None:
        database = await open_database(f"sqlite+aiosqlite:///{path}")
        await KnowledgeBase(database.sessionmaker).seed()
        await database.close()

    asyncio.run(seed())
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked ``both_databases`` run each test on SQLite and on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_databases") and (
        "database" in metafunc.fixturenames
    ):
        metafunc.parametrize(
            "backend",
            ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
            indirect=True,
        )


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated, with the sample regions and the bundled knowledge base,
    made once: each test gets a copy (CREATE DATABASE ... TEMPLATE, a file copy on the server)."""
    name = f"huhuqing_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = f"{services.POSTGRES_URL.rsplit('/', 1)[0]}/{name}"

    async def fill() -> None:
        await migrate.upgrade_async(url)
        database = await open_database(url)
        async with database.sessionmaker() as session:
            await import_regions(session, SAMPLE_REGIONS)
        await KnowledgeBase(database.sessionmaker).seed()
        await database.close()

    try:
        asyncio.run(fill())
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_copy(postgres_template: str) -> Iterator[str]:
    name = f"huhuqing_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    try:
        yield f"{services.POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_file(settings: Settings, request: pytest.FixtureRequest) -> Path:
    """A copy of the regions template; for a test that drives the bot (the harness) or the web
    console, of the seeded one, as they have it after their first start."""
    seeded = "harness" in request.fixturenames or "web_client" in request.fixturenames
    template = request.getfixturevalue("seeded_template" if seeded else "regions_template")
    path = Path(settings.database_url.removeprefix("sqlite+aiosqlite:///"))
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def database_url_of_backend(
    settings: Settings, backend: str, request: pytest.FixtureRequest
) -> str:
    """SQLite (a copy of a template file), or in the modules marked ``both_databases`` also
    PostgreSQL (a copy of a template database, with the knowledge base seeded)."""
    if backend == "postgres":
        return request.getfixturevalue("postgres_copy")
    request.getfixturevalue("database_file")
    return settings.database_url


@pytest.fixture
async def database(database_url_of_backend: str) -> AsyncIterator[Database]:
    """A migrated database holding the sample regions."""
    database = await open_database(database_url_of_backend)
    yield database
    await database.close()


@pytest.fixture
async def harness(settings: Settings, database: Database) -> BotHarness:
    harness = BotHarness(settings, database)
    await prepare(harness.dispatcher)
    return harness


async def villager_and_cadre(database: Database, villager: int, cadre: int) -> None:
    """A villager of 红星村 and a cadre of its township, 以古镇 (530627101)."""
    async with database.sessionmaker() as session:
        users = UserRepo(session)
        await users.grant(cadre, Role.CADRE, "530627101")
        (await users.touch(villager)).region_code = "530627101201"
        await session.commit()
