"""A /cases page and the statistics query with 100,000 cases, on SQLite and PostgreSQL.

Run: `.venv/bin/python -m bench.cases_speed [--cases N] [--postgres URL]` (PostgreSQL: a server
where the user may create a database; default the test server of tests/services.py).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert, text

from db import migrate
from db.cases import CaseRepo
from db.models import OPEN_STATUSES, Case, CaseStatus, Region, RegionLevel, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import create_engine, create_sessionmaker
from grievances.routing import unit_path
from grievances.stats import township_stats, townships_under
from tests import services

STATUSES = [*OPEN_STATUSES, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CLOSED]


async def fill(url: str, total: int) -> None:
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        villages = [
            (await session.get(Region, code))
            for code in (await session.execute(
                text("SELECT code FROM regions WHERE level = 'village'")
            )).scalars()
        ]  # fmt: skip
        from db.regions import RegionRepo

        repo = RegionRepo(session)
        paths = {v.code: await repo.path(v.code) for v in villages}
    now = utcnow()
    rows = []
    rng = random.Random(7)
    for number in range(total):
        village = rng.choice(villages)
        path = paths[village.code]
        township = path[-2]
        created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
        status = rng.choice(STATUSES)
        done = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        rows.append({
            "number": f"B{number:07d}", "reporter_id": 10_000 + number % 5000,
            "reporter_locale": "zh_Hans", "anonymous": True, "category": "water",
            "place_code": village.code, "township_code": township.code,
            "unit_code": township.code, "unit_path": unit_path(path[:-1]), "status": status,
            "description": "自来水停了", "created_at": created,
            "accept_due": created + timedelta(days=2), "resolve_due": created + timedelta(days=15),
            "accepted_at": created + timedelta(hours=rng.randrange(80)) if done else None,
            "resolved_at": created + timedelta(days=rng.randrange(20)) if done else None,
            "rating": rng.choice(["satisfied", "basically", "unsatisfied", None]) if done else None,
            "escalations": 0, "reopened": False, "accept_reminded": False,
            "resolve_reminded": False,
        })  # fmt: skip
    async with engine.begin() as connection:
        for start in range(0, total, 5000):
            await connection.execute(insert(Case), rows[start : start + 5000])
        await connection.execute(text("ANALYZE"))
    await engine.dispose()


async def timed(label: str, run, repeat: int = 30) -> None:
    await run()  # warm
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"  {label}: median {statistics.median(timings):.1f} ms, "
          f"p95 {timings[int(0.95 * len(timings)) - 1]:.1f} ms")  # fmt: skip


async def measure(name: str, url: str, total: int) -> None:
    started = time.perf_counter()
    await fill(url, total)
    print(f"{name}: {total} cases loaded in {time.perf_counter() - started:.0f} s")
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        township = await session.get(Region, "530627101")
        county = await session.get(Region, "530627")
        from db.regions import RegionRepo

        repo = RegionRepo(session)
        township_path = unit_path(await repo.path(township.code))
        county_path = unit_path(await repo.path(county.code))
        cases = CaseRepo(session)
        now = utcnow()
        townships = await townships_under(session, None)
        assert county.level == RegionLevel.COUNTY
        await timed("/cases first page, township cadre",
                    lambda: cases.open_in_area(township_path, 0, 5))  # fmt: skip
        await timed("/cases page 200, township cadre",
                    lambda: cases.open_in_area(township_path, 1000, 5))  # fmt: skip
        await timed("/cases first page, county cadre",
                    lambda: cases.open_in_area(county_path, 0, 5))  # fmt: skip
        await timed("statistics, all townships, 30 days",
                    lambda: township_stats(session, townships, now - timedelta(30), now, now),
                    repeat=10)  # fmt: skip
        await timed("statistics, all townships, 90 days",
                    lambda: township_stats(session, townships, now - timedelta(90), now, now),
                    repeat=10)  # fmt: skip
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--postgres", default=services.POSTGRES_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await measure("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db", args.cases)
    if await services.postgres_problem():
        print("PostgreSQL: skipped,", await services.postgres_problem())
        return
    import asyncpg

    name = f"huhuqing_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.postgres.replace("+asyncpg", ""))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await measure("PostgreSQL", f"{args.postgres.rsplit('/', 1)[0]}/{name}", args.cases)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
