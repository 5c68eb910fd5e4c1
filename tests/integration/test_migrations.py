"""Alembic: every revision upgrades, downgrades and upgrades again on both databases; the bot
refuses a database whose schema is behind the code."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from bot.config import Settings
from db import migrate
from db.models import Base
from db.session import SCHEMA_REVISION, SchemaOutdatedError, create_engine, open_database


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_stairway_upgrade_downgrade_upgrade(database_url: str) -> None:
    previous = "base"
    for revision in migrate.revisions(database_url):
        await migrate.upgrade_async(database_url, revision)
        await migrate.downgrade_async(database_url, previous)
        await migrate.upgrade_async(database_url, revision)
        previous = revision
    assert await table_names(database_url) == set(Base.metadata.tables)


async def test_models_match_the_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to do: no model change lacks its revision."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    await migrate.upgrade_async(database_url)
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


def test_the_revision_the_code_needs_is_the_newest(sqlite_url: str) -> None:
    assert migrate.revisions(sqlite_url)[-1] == SCHEMA_REVISION


async def test_bot_refuses_an_outdated_schema_and_names_the_fix(sqlite_url: str) -> None:
    settings = Settings(_env_file=None, database_url=sqlite_url)  # type: ignore[call-arg]
    with pytest.raises(SchemaOutdatedError, match=r"has no tables yet.*huhuqing db upgrade"):
        await open_database(settings.database_url)
    previous = migrate.revisions(sqlite_url)[-2]
    await migrate.upgrade_async(sqlite_url, previous)
    with pytest.raises(SchemaOutdatedError, match=rf"is at revision {previous}; .*needs"):
        await open_database(settings.database_url)
    await migrate.upgrade_async(sqlite_url)
    database = await open_database(settings.database_url)
    await database.close()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(migrated_sqlite: str) -> None:
    engine = create_engine(migrated_sqlite)
    async with engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    await engine.dispose()
    assert mode == "wal"
    assert timeout >= 1000
