"""Engine and session factory, with the SQLite settings that make it safe under concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000
# The Alembic revision this code needs (tests/integration/test_migrations.py checks that it is
# the newest one). Kept here so that opening the database never imports Alembic (0.3 s).
SCHEMA_REVISION = "0008"


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine; for SQLite, make the folder and turn on WAL and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **kwargs)
        _roll_back_failed_commits(engine)
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,  # errors must not carry complaint texts or phone numbers to logs
        **kwargs,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    _roll_back_failed_commits(engine)
    return engine


def _roll_back_failed_commits(engine: AsyncEngine) -> None:
    """A COMMIT that fails (SQLite "database is locked" after the busy timeout) leaves the
    driver's transaction open, and SQLAlchemy then returns the connection to the pool as it is:
    the next session would see, and might commit, the failed one's writes. Roll it back."""
    dialect = engine.dialect
    commit = dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        except Exception:
            dbapi_connection.rollback()
            raise

    dialect.do_commit = do_commit  # type: ignore[method-assign]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # LIKE 'prefix%' may then use an index: a cadre's area filter is such a prefix.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class SchemaOutdatedError(Exception):
    """The database is not at the schema this code needs."""


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(database_url: str, **pool: Any) -> Database:
    """Connect and refuse an outdated schema with the command that fixes it. ``pool``: the
    connection pool's size (``pool_size``, ``max_overflow``, ``pool_timeout``), for the bot."""
    engine = create_engine(database_url, **pool)
    current = await current_revision(engine)
    if current != SCHEMA_REVISION:
        await engine.dispose()
        where = f"is at revision {current}" if current else "has no tables yet"
        raise SchemaOutdatedError(
            f"The database {where}; this version needs revision {SCHEMA_REVISION}. "
            "Run: huhuqing db upgrade"
        )
    return Database(engine=engine, sessionmaker=create_sessionmaker(engine))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision Alembic recorded in the database, or None before the first upgrade."""
    async with engine.connect() as connection:
        if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
            return None
        return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
