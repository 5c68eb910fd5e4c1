"""Run Alembic migrations from code and tell whether a database is up to date."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema (blocking: Alembic's env.py runs its own event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revisions(database_url: str) -> list[str]:
    """All revision ids, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Upgrade from async code: Alembic runs in a worker thread with its own loop."""
    await asyncio.to_thread(upgrade, database_url, revision)


async def upgrade_and_tell(database_url: str) -> str:
    """Upgrade to the newest revision and say, in one line, which database and what was done."""
    from db.session import SCHEMA_REVISION, describe, revision_of

    before = await revision_of(database_url)  # a database that cannot be opened: one line
    await upgrade_async(database_url)
    where = describe(database_url)
    if before is None:
        return f"created the tables in {where} (revision {SCHEMA_REVISION})"
    if before == SCHEMA_REVISION:
        return f"{where} is up to date (revision {SCHEMA_REVISION})"
    return f"upgraded {where} from revision {before} to {SCHEMA_REVISION}"


async def downgrade_async(database_url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade, database_url, revision)
