"""The web console's pages with 100,000 cases: server time of /cases (first page, filtered),
/cases/{number} and /stats (30 days, a year), through the real aiohttp app in-process, signed
in as a county admin and as a township cadre (who has no /stats, as in the bot); p50 and p99
(nearest rank).

Run: `.venv/bin/python -m bench.web_pages --database sqlite|postgres [--cases N] [--samples N]`
(PostgreSQL: a server where the user may create a database; default the
test server of tests/services.py, or --postgres URL).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, select, text

from bench.databases import scratch_postgres
from bot.config import Settings
from db import migrate
from db.models import OPEN_STATUSES, Case, CaseEvent, CaseStatus, Region, Role, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.regions import RegionRepo
from db.session import Database, open_database
from db.users import UserRepo
from db.web_access import create_sign_in
from grievances.numbers import ALPHABET
from grievances.routing import unit_path
from grievances.stats import LOCAL_TIME
from tests import services
from web.app import create_app

COUNTY, TOWNSHIP = "530627", "530627101"  # 镇雄县 and its 以古镇
COUNTY_ADMIN, TOWNSHIP_CADRE = 9_000_001, 9_000_002
STATUSES = [*OPEN_STATUSES, CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CLOSED]
BATCH = 5000
TIMING = web.AppKey("timing", dict)
# The index the statistics want (see bench/README.md), to measure it before a migration adds it.


def case_number(index: int) -> str:
    """A distinct tracking number of the real form ("K7M-4QX") for each index."""
    letters = ""
    for _ in range(6):
        index, digit = divmod(index, len(ALPHABET))
        letters += ALPHABET[digit]
    return f"{letters[:3]}-{letters[3:]}"


async def fill(database: Database, total: int) -> None:
    """The sample regions, two signed-in-able users and ``total`` cases over the last year,
    each with its "submitted" event, inserted in batches."""
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        regions = RegionRepo(session)
        villages = (
            await session.scalars(select(Region.code).where(Region.level == "village"))
        ).all()
        paths = {code: await regions.path(code) for code in villages}
        users = UserRepo(session)
        await users.grant(COUNTY_ADMIN, Role.ADMIN, COUNTY)
        await users.grant(TOWNSHIP_CADRE, Role.CADRE, TOWNSHIP)
        await session.commit()
    rng, now = random.Random(11), utcnow()
    async with database.engine.begin() as connection:
        for start in range(0, total, BATCH):
            cases, events = [], []
            for index in range(start, min(start + BATCH, total)):
                path = paths[rng.choice(villages)]
                township = path[-2].code
                created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
                status = rng.choice(STATUSES)
                done = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
                cases.append({
                    "id": index + 1, "number": case_number(index),
                    "reporter_id": 10_000 + index % 5000, "reporter_locale": "zh_Hans",
                    "anonymous": True, "category": "water", "place_code": path[-1].code,
                    "township_code": township, "unit_code": township,
                    "unit_path": unit_path(path[:-1]), "status": status,
                    "description": "自来水停了三天了", "created_at": created,
                    "accept_due": created + timedelta(days=2),
                    "resolve_due": created + timedelta(days=15),
                    "accepted_at": created + timedelta(hours=rng.randrange(80)) if done else None,
                    "resolved_at": created + timedelta(days=rng.randrange(20)) if done else None,
                    "outcome": rng.choice(["fixed", "partly_fixed", "no_action"]) if done else None,
                    "rating": rng.choice(["satisfied", "basically", "unsatisfied", None])
                    if done else None,
                    "escalations": 0, "reopened": False, "accept_reminded": False,
                    "resolve_reminded": False,
                })  # fmt: skip
                events.append({
                    "case_id": index + 1, "kind": "submitted", "actor_id": 10_000 + index % 5000,
                    "actor_role": "villager", "at": created,
                })  # fmt: skip
            await connection.execute(insert(Case), cases)
            await connection.execute(insert(CaseEvent), events)
        if database.engine.dialect.name == "postgresql":
            await connection.execute(text("SELECT setval('cases_id_seq', :n)"), {"n": total})
        await connection.execute(text("ANALYZE"))


@web.middleware
async def server_time(
    request: web.Request, handler: Callable[..., Awaitable]
) -> web.StreamResponse:
    """How long the app took, from the request's arrival to its response (session check,
    locale, handler, template): the console's own time, without the client's; and the CPU
    time this process spent meanwhile (SQLite's work included, PostgreSQL's not), which a
    busy machine inflates less than the elapsed time."""
    started, cpu = time.perf_counter(), time.process_time()
    response = await handler(request)
    request.app[TIMING]["last"] = (time.perf_counter() - started, time.process_time() - cpu)
    return response


@asynccontextmanager
async def signed_in(
    app: web.Application, database: Database, who: int
) -> AsyncIterator[TestClient]:
    """A browser with a session of ``who``, as the bot's /web link gives one."""
    async with TestClient(TestServer(app)) as client:
        async with database.sessionmaker() as session:
            token = await create_sign_in(session, who)
        response = await client.post(f"/signin/{token}")
        assert response.status == 200, response.status
        yield client


def nearest_rank(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


async def time_pages(
    client: TestClient, app: web.Application, pages: dict[str, list[str]], samples: int
) -> dict[str, list[tuple[float, float]]]:
    """Each page ``samples`` times, interleaved, after warm-up requests; a page that does not
    answer 200 then (not written yet, or broken) is reported and left out."""
    timings: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for label, paths in list(pages.items()):
        for path in paths[:3]:
            response = await client.get(path)
            await response.read()
            if response.status != 200:
                print(f"  {label}: not timed, {path} answered {response.status}")
                del pages[label]
                break
    for round_number in range(samples):
        for label, paths in pages.items():
            response = await client.get(paths[round_number % len(paths)])
            await response.read()
            assert response.status == 200, (label, response.status)
            timings[label].append(app[TIMING]["last"])
    return timings


async def numbers_in(database: Database, prefix: str, count: int) -> list[str]:
    async with database.sessionmaker() as session:
        query = select(Case.number).where(Case.unit_path.startswith(prefix)).limit(count * 10)
        found = (await session.scalars(query)).all()
    return random.Random(3).sample(list(found), min(count, len(found)))


async def measure(label: str, url: str, total: int, samples: int) -> None:
    started = time.perf_counter()
    await migrate.upgrade_async(url)
    database = await open_database(url)
    await fill(database, total)
    print(f"{label}: {total:,} cases loaded in {time.perf_counter() - started:.0f} s")
    settings = Settings(_env_file=None, database_url=url, bot_token=None)  # type: ignore[call-arg]
    app = await create_app(settings, database)
    app.middlewares.insert(0, server_time)
    app[TIMING] = {}
    today = utcnow().astimezone(LOCAL_TIME).date()
    year = f"/stats?from={today - timedelta(days=364)}&to={today}"
    async with database.sessionmaker() as session:
        regions = RegionRepo(session)
        area = {who: unit_path(await regions.path(code))
                for who, code in ((COUNTY_ADMIN, COUNTY), (TOWNSHIP_CADRE, TOWNSHIP))}  # fmt: skip
    print(f"  {'page':58} {'p50 ms':>7} {'p99 ms':>7} {'cpu p50':>8} {'cpu p99':>8}  samples")
    for who, name in ((COUNTY_ADMIN, "county admin"), (TOWNSHIP_CADRE, "township cadre")):
        numbers = await numbers_in(database, area[who], samples)
        pages = {
            "/cases": ["/cases"],
            "/cases?status=open&township=以古镇&overdue=1": [
                f"/cases?status=open&township={TOWNSHIP}&overdue=1"
            ],
            "/cases/{number}": [f"/cases/{number}" for number in numbers],
        }
        if who == COUNTY_ADMIN:
            pages |= {"/stats (30 days)": ["/stats"], "/stats (a year)": [year]}
        async with signed_in(app, database, who) as client:
            timings = await time_pages(client, app, pages, samples)
        for page, values in timings.items():
            wall, cpu = ([1000 * sample[kind] for sample in values] for kind in (0, 1))
            figures = (
                nearest_rank(series, share) for series in (wall, cpu) for share in (0.5, 0.99)
            )
            print(f"  {name + ' ' + page:58} {next(figures):7.1f} {next(figures):7.1f} "
                  f"{next(figures):8.1f} {next(figures):8.1f}  {len(values)}")  # fmt: skip
    await database.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--postgres", default=services.POSTGRES_URL)
    args = parser.parse_args()
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # a failing page is reported
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
            await measure("SQLite", url, args.cases, args.samples)
        return
    async with scratch_postgres(args.postgres) as url:
        await measure("PostgreSQL", url, args.cases, args.samples)


if __name__ == "__main__":
    asyncio.run(main())
