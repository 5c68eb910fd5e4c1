"""Engine and session factory, with the SQLite settings that make it safe under concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# A burst of writers on SQLite waits its turn (bench/README.md, burst) rather than fail.
SQLITE_BUSY_TIMEOUT_MS = 20_000
# The Alembic revision this code needs (tests/integration/test_migrations.py checks that it is
# the newest one). Kept here so that opening the database never imports Alembic (0.3 s).
SCHEMA_REVISION = "0009"


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


class DatabaseUnavailableError(Exception):
    """The database cannot be opened (server down, unknown database or user, unwritable file);
    the message says which database and what to do, in one line."""


def describe(database_url: str) -> str:
    """The database as an operator recognises it: the absolute file for SQLite (the default
    is relative to the current directory), the URL without its password otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return "an in-memory SQLite database"
        return f"the SQLite file {Path(url.database).resolve()}"
    return url.render_as_string(hide_password=True)


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

    async def close(self) -> None:
        await self.engine.dispose()


async def open_database(database_url: str, **pool: Any) -> Database:
    """Connect and refuse an outdated schema with the command that fixes it. ``pool``: the
    connection pool's size (``pool_size``, ``max_overflow``, ``pool_timeout``), for the bot."""
    try:
        engine = create_engine(database_url, **pool)
    except OSError as error:  # the SQLite file's folder cannot be made
        raise DatabaseUnavailableError(_unavailable(database_url, error)) from None
    try:
        current = await current_revision(engine)
    except (OSError, SQLAlchemyError) as error:
        await engine.dispose()
        raise DatabaseUnavailableError(_unavailable(database_url, error)) from None
    if current != SCHEMA_REVISION:
        await engine.dispose()
        where = f"is at revision {current}" if current else "has no tables yet"
        raise SchemaOutdatedError(
            f"The database ({describe(database_url)}) {where}; this version needs revision "
            f"{SCHEMA_REVISION}. Run: huhuqing db upgrade"
        )
    return Database(engine=engine, sessionmaker=create_sessionmaker(engine))


async def revision_of(database_url: str) -> str | None:
    """The database's recorded revision (None before the first upgrade); it is created if it
    is a SQLite file that does not exist yet."""
    try:
        engine = create_engine(database_url)
    except OSError as error:
        raise DatabaseUnavailableError(_unavailable(database_url, error)) from None
    try:
        return await current_revision(engine)
    except (OSError, SQLAlchemyError) as error:
        raise DatabaseUnavailableError(_unavailable(database_url, error)) from None
    finally:
        await engine.dispose()


def _unavailable(database_url: str, error: BaseException) -> str:
    reason = getattr(error, "orig", None) or error
    text = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    url = make_url(database_url)
    if isinstance(reason, OSError) and url.get_backend_name() != "sqlite":
        text = f"nothing answers at {url.host or 'localhost'}:{url.port or 5432} ({text})"
    what = _remedy(url)
    return f"HUHUQING_DATABASE_URL: cannot open {describe(database_url)}: {text}. {what}"


def _remedy(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "Check that its folder exists and is writable, or set HUHUQING_DATABASE_URL"
    return (
        "Start PostgreSQL, create the database and user (createdb, createuser), "
        "or fix HUHUQING_DATABASE_URL"
    )


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision Alembic recorded in the database, or None before the first upgrade."""
    async with engine.connect() as connection:
        if not await connection.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
            return None
        return (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
