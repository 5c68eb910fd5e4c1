from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import prepare
from bot.config import Settings
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from tests.harness import BotHarness


@pytest.fixture
async def database(settings: Settings, migrated_sqlite: str) -> AsyncIterator[Database]:
    database = await open_database(settings.database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
    yield database
    await database.close()


@pytest.fixture
async def harness(settings: Settings, database: Database) -> BotHarness:
    harness = BotHarness(settings, database)
    await prepare(harness.dispatcher)
    return harness
