"""Reach the PostgreSQL and Redis servers the suite runs against (or learn why not)."""

from __future__ import annotations

import asyncio
import os
import socket
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get(
    "HUHUQING_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Each pytest-xdist worker has a Redis database of its own (15, 14, …): their keys never meet.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("HUHUQING_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER}")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unreachable(url: str) -> str | None:
    """None when something accepts connections at the URL's host and port, else the reason."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as error:
        return f"{host}:{port} unreachable ({error.strerror or error})"


async def postgres_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None."""
    if reason := unreachable(POSTGRES_URL):
        return reason
    import asyncpg

    try:
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        return f"cannot log in to PostgreSQL: {error}"
    await connection.close()
    return None


async def redis_problem() -> str | None:
    if reason := unreachable(REDIS_URL):
        return reason
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except RedisError as error:
        return f"Redis does not answer: {error}"
    finally:
        await client.aclose()
    return None


def problems() -> dict[str, str | None]:
    async def check() -> dict[str, str | None]:
        return {"postgres": await postgres_problem(), "redis": await redis_problem()}

    return asyncio.run(check())
