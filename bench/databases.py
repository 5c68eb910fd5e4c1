"""A throwaway PostgreSQL database for a benchmark run, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def scratch_postgres(server_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the server of ``server_url`` (a SQLAlchemy URL
    whose user may create databases); it is dropped when the block ends."""
    import asyncpg

    name = f"huhuqing_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_url.replace("+asyncpg", ""))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
