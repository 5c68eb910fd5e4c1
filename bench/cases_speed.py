"""The bot's /cases reply as a cadre gets it, and the statistics query, with 100,000 cases, on
SQLite and PostgreSQL.

Run: `.venv/bin/python -m bench.cases_speed [--cases N] [--samples N] [--postgres URL]`
(PostgreSQL: a server where the user may create a database; default the test server of
tests/services.py). A /cases page is timed through the real dispatcher with the in-process Bot
API (tests/harness.py): from the update to the reply sent — the cadre's area, the count, the page
of cases, each case's place name and the message. The query alone is timed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import insert, text

from bench.databases import scratch_postgres
from bench.percentiles import nearest_rank
from bot.app import prepare
from bot.config import Settings
from db import migrate
from db.cases import CaseRepo
from db.models import OPEN_STATUSES, Case, CaseStatus, Region, Role, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.regions import RegionRepo
from db.session import create_engine, create_sessionmaker, open_database
from db.users import UserRepo
from grievances.routing import unit_path
from grievances.stats import township_stats, townships_under
from handlers.keyboards import CasesPage
from tests import services
from tests.harness import BotHarness

STATUSES = [*OPEN_STATUSES, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CLOSED]
COUNTY, TOWNSHIP = "530627", "530627101"  # 镇雄县 and its 以古镇
TOWNSHIP_CADRE, COUNTY_CADRE = 9_000_001, 9_000_002
# A cadre asks hundreds of times a minute here: the flood limit (the most allowed) still runs,
# but must not answer instead.
FLOOD_LIMIT_OFF = 1000
DEEP_PAGE = 200  # the ▶ button taken to page 200 (cases 1,001–1,005)


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


Run = Callable[[], Awaitable[object]]
Timings = tuple[list[float], list[float]]  # elapsed, CPU


async def time_interleaved(runs: dict[str, Run], samples: int) -> dict[str, Timings]:
    """Each run once to warm up, then ``samples`` times, interleaved so that the machine's load
    falls on all alike: milliseconds of wall-clock time and of this process's CPU time (SQLite's
    work included, in aiosqlite's thread; PostgreSQL's not)."""
    for run in runs.values():
        await run()
    timings: dict[str, Timings] = defaultdict(lambda: ([], []))
    for _ in range(samples):
        for label, run in runs.items():
            started, cpu = time.perf_counter(), time.process_time()
            await run()
            timings[label][0].append((time.perf_counter() - started) * 1000)
            timings[label][1].append((time.process_time() - cpu) * 1000)
    return timings


def report(timings: dict[str, Timings]) -> None:
    for label, (elapsed, cpu) in timings.items():
        figures = [nearest_rank(elapsed, share) for share in (0.5, 0.95, 0.99)]
        figures += [nearest_rank(cpu, share) for share in (0.5, 0.99)]
        print(
            f"  {label:<40}" + "".join(f"{figure:8.1f}" for figure in figures), f"{len(elapsed):7}"
        )


def reply_of(calls, method: str) -> str:
    """The text of the one reply the bot made, which must be a page of cases."""
    replies = [call for call in calls if call.method == method]
    assert len(replies) == 1, calls
    assert replies[0].error is None, replies[0].error
    assert any(data.startswith("cp:") for _, data in replies[0].buttons), replies[0].text
    return replies[0].text


async def bot_pages(url: str) -> dict[str, Run]:
    """/cases as each cadre sends it, and ▶ to page 200, through the dispatcher."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, bot_token=None, updates_per_minute=FLOOD_LIMIT_OFF
    )
    database = await open_database(url)
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(TOWNSHIP_CADRE, Role.CADRE, TOWNSHIP)
        await UserRepo(session).grant(COUNTY_CADRE, Role.CADRE, COUNTY)
    harness = BotHarness(settings, database)
    await prepare(harness.dispatcher)

    def command(cadre: int) -> Run:
        async def run() -> None:
            reply_of(await harness.send(cadre, "/cases"), "sendMessage")

        return run

    calls = await harness.send(TOWNSHIP_CADRE, "/cases")
    reply_of(calls, "sendMessage")
    message_id = calls[-1].result["message_id"]
    turn = iter(range(10**9))

    async def deep_page() -> None:
        page = DEEP_PAGE + next(turn) % 2  # 200, 201, 200, …: each tap changes the message
        data = CasesPage(page=page).pack()
        reply_of(await harness.press_data(TOWNSHIP_CADRE, data, message_id), "editMessageText")

    return {
        "/cases, township cadre": command(TOWNSHIP_CADRE),
        "/cases, county cadre": command(COUNTY_CADRE),
        f"▶ to page {DEEP_PAGE}, township cadre": deep_page,
    }


async def measure(name: str, url: str, total: int, samples: int) -> None:
    started = time.perf_counter()
    await fill(url, total)
    print(f"{name}: {total:,} cases loaded in {time.perf_counter() - started:.0f} s")
    columns = ("p50 ms", "p95 ms", "p99 ms", "cpu p50", "cpu p99")
    print(f"  {'':<40}" + "".join(f"{column:>8}" for column in columns), "samples")
    runs = await bot_pages(url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        regions = RegionRepo(session)
        township_path = unit_path(await regions.path(TOWNSHIP))
        county_path = unit_path(await regions.path(COUNTY))
        cases = CaseRepo(session)
        runs |= {
            "query alone: first page, township": lambda: cases.open_in_area(township_path, 0, 5),
            "query alone: first page, county": lambda: cases.open_in_area(county_path, 0, 5),
            f"query alone: page {DEEP_PAGE}, township": lambda: cases.open_in_area(
                township_path, DEEP_PAGE * 5, 5
            ),
        }
        report(await time_interleaved(runs, samples))
        now = utcnow()
        townships = await townships_under(session, None)
        statistics = {
            f"statistics, all townships, {days} days": (
                lambda days=days: township_stats(
                    session, townships, now - timedelta(days), now, now
                )
            )
            for days in (30, 90)
        }
        report(await time_interleaved(statistics, samples))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--postgres", default=services.POSTGRES_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await measure("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db", args.cases, args.samples)
    if await services.postgres_problem():
        print("PostgreSQL: skipped,", await services.postgres_problem())
        return
    async with scratch_postgres(args.postgres) as url:
        await measure("PostgreSQL", url, args.cases, args.samples)


if __name__ == "__main__":
    asyncio.run(main())
