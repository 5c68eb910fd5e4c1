"""The household registry at 100,000 households, on SQLite and PostgreSQL: importing them from
XLSX (time, peak memory), and a "我家" answer and /mycard for bound villagers (p50/p99).

Run: `.venv/bin/python -m bench.households [--households N] [--questions N] [--postgres URL]`
(PostgreSQL: a server where the user may create a database; default the test server of
tests/services.py; `--no-postgres` skips it; `--tracemalloc` adds an import traced by
tracemalloc). Every household is fictional (numbers BENCH-…). Each import runs in a fresh
process, so that its peak memory is the import's own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from bench.databases import scratch_postgres
from bench.percentiles import nearest_rank
from db import migrate
from db.household_template import HEADER, Helper, HouseholdData, Measure, Visit, format_row
from db.models import HelperRole, Household, HouseholdBinding, MeasureStatus, Region, User
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import create_engine, create_sessionmaker
from db.spreadsheets import write_table
from knowledge.households import (
    Benefit,
    BenefitKind,
    Cause,
    FollowUp,
    Member,
    MemberFlag,
    MonitorKind,
    Status,
)
from tests import services

ROOT = Path(__file__).resolve().parent.parent
USERS = 1000  # bound villagers
FIRST_USER = 5_000_000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "建国秀英德福文军桂兰玉珍志强长顺金花四平三明春梅永红海燕丽华小龙"
LIVESTOCK = ("牛2头", "羊10只", "猪3头、鸡20只", "牛1头、羊5只", "鸡30只", "")
WORK = ("户主在本村公益岗位", "配偶在县城务工", "儿子在宁波务工", "女儿在昆明务工", "", "")
MEASURES = (
    ("产业帮扶", "肉牛养殖"), ("产业帮扶", "花椒种植"), ("就业帮扶", "公益岗位"),
    ("就业帮扶", "技能培训"), ("教育帮扶", "雨露计划"), ("健康帮扶", "家庭医生签约"),
    ("住房保障", "危房改造"), ("产业帮扶", "光伏收益分红"),
)  # fmt: skip
CHECKLIST = ("住房", "饮水", "收入", "教育", "医疗", "产业", "就业")
NOTES = ("家里都好", "屋顶已修好", "孩子按时上学", "牛长得不错", "要多问问医保报销", "")
# Kinds of benefit, with the share of households that receive each.
BENEFITS = (
    (BenefitKind.DIBAO, 0.25), (BenefitKind.TEKUN, 0.05),
    (BenefitKind.DISABILITY_ALLOWANCE, 0.08), (BenefitKind.STUDENT_AID, 0.2),
    (BenefitKind.MICROCREDIT, 0.3), (BenefitKind.PUBLIC_POST, 0.1),
    (BenefitKind.ASSET_INCOME, 0.15), (BenefitKind.FANGPINBAO, 0.2),
    (BenefitKind.MEDICAL_AID, 0.1), (BenefitKind.HOUSING_RENOVATION, 0.05),
)  # fmt: skip
QUESTIONS = {
    "helpers": ("我家的帮扶干部是谁", "俺家包保干部电话多少？"),
    "loan": ("俺家贷款啥时候到期", "我家小额信贷啥时候还款？"),
    "policies": ("我家还能享受啥", "俺家能享受哪些政策？"),
    "overview": ("我家是啥户", "俺家情况咋样？"),
    "measures": ("俺们家有啥帮扶措施",),
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))


def _members(rng: random.Random) -> tuple[Member, ...]:
    def flags(*choices: tuple[MemberFlag, float]) -> frozenset[MemberFlag]:
        return frozenset(flag for flag, share in choices if rng.random() < share)

    sick = ((MemberFlag.DISABLED, 0.08), (MemberFlag.SERIOUS_ILLNESS, 0.06),
            (MemberFlag.CHRONIC_ILLNESS, 0.12))  # fmt: skip
    head_band = rng.choice(("16-59", "16-59", "60+"))
    members = [Member("户主", head_band, flags((MemberFlag.LABOUR, 0.7), *sick))]
    if rng.random() < 0.8:
        members.append(Member("配偶", head_band, flags((MemberFlag.LABOUR, 0.6), *sick)))
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        band = rng.choice(("0-5", "6-15", "6-15", "16-59"))
        student = (MemberFlag.STUDENT, 0.9 if band == "6-15" else 0.3 if band == "16-59" else 0)
        members.append(Member("子女", band, flags(student, *sick)))
    if rng.random() < 0.3:
        members.append(Member("父母", "60+", flags(*sick)))
    return tuple(members)


def _benefits(rng: random.Random) -> tuple[Benefit, ...]:
    benefits = []
    for kind, share in BENEFITS:
        if rng.random() >= share:
            continue
        if kind is BenefitKind.MICROCREDIT:
            start = date(2023, 1, 1) + timedelta(days=rng.randrange(3 * 365))
            due = start + timedelta(days=3 * 365 - 1)
            benefits.append(Benefit(kind, rng.choice((30000, 50000)), start, due))
        else:
            benefits.append(Benefit(kind, rng.choice((None, 1200, 3600, 4200, 6000))))
    return tuple(benefits)


def _helpers(rng: random.Random, number: int) -> tuple[Helper, ...]:
    helpers = [Helper(HelperRole.BAOBAO, _name(rng), f"139-0000-{rng.randrange(10000):04d}")]
    if rng.random() < 0.6:
        phone = f"139-0001-{number % 997:04d}"
        helpers.append(Helper(HelperRole.FIRST_SECRETARY, _name(rng), phone))
    if rng.random() < 0.6:
        helpers.append(Helper(HelperRole.VILLAGE_CADRE, _name(rng), None))
    return tuple(helpers)


def _measures(rng: random.Random) -> tuple[Measure, ...]:
    chosen = rng.sample(MEASURES, rng.choice((0, 1, 1, 2, 3)))
    return tuple(
        Measure(kind, rng.choice(list(MeasureStatus)), project, rng.randrange(2018, 2027),
                rng.choice((None, 2000, 3500, 5000)), "年增收3000元", _name(rng))
        for kind, project in chosen
    )  # fmt: skip


def _visits(rng: random.Random, by: str) -> tuple[Visit, ...]:
    visits = [
        Visit(date(2026, 1, 1) + timedelta(days=rng.randrange(320)),
              tuple(rng.sample(CHECKLIST, 3)), by, rng.choice(NOTES) or None)
        for _ in range(rng.choice((0, 1, 2)))
    ]  # fmt: skip
    return tuple(sorted(visits, key=lambda visit: visit.on))


def fictional_household(rng: random.Random, number: int, village: str) -> HouseholdData:
    """One made-up household of the village, as valid as the template asks."""
    status = rng.choices(list(Status), weights=(5, 60, 15, 20))[0]
    poor = status is not Status.ORDINARY
    causes = rng.sample(list(Cause), rng.choice((1, 1, 2, 3))) if poor else []
    identified = rng.randrange(2014, 2017) if poor else None
    status_year = rng.randrange(2016, 2021) if status is Status.OUT else None
    helpers = _helpers(rng, number) if poor else ()
    return HouseholdData(
        number=f"BENCH-{village}-H{number:06d}",
        village=village,
        head_name=_name(rng),
        status=status,
        status_year=status_year,
        monitor_kind=rng.choice(list(MonitorKind)) if status is Status.MONITORED else None,
        follow_up=rng.choice([*FollowUp, None]) if status is Status.OUT else None,
        identified_year=identified,
        planned_exit_year=identified + rng.randrange(2, 5) if identified else None,
        actual_exit_year=status_year,
        main_cause=causes[0] if causes else None,
        other_causes=tuple(causes[1:]),
        land_mu=round(rng.uniform(0, 12), 1) if rng.random() < 0.9 else None,
        livestock=rng.choice(LIVESTOCK) or None,
        housing_safe=rng.choices((True, False, None), weights=(85, 5, 10))[0],
        safe_water=rng.choices((True, False, None), weights=(85, 5, 10))[0],
        medical_insurance=rng.choices((True, False, None), weights=(85, 5, 10))[0],
        work=rng.choice(WORK) or None,
        members=_members(rng),
        measures=_measures(rng) if poor else (),
        benefits=_benefits(rng) if poor or rng.random() < 0.2 else (),
        incomes=tuple((year, rng.randrange(4000, 20000)) for year in (2023, 2024, 2025)),
        helpers=helpers,
        visits=_visits(rng, helpers[0].name) if helpers else (),
    )


def fictional_rows(count: int, villages: list[str], seed: int = 8) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for number in range(count):
        cells = format_row(fictional_household(rng, number, rng.choice(villages)))
        yield [cells[name] for name in HEADER]


def write_file(path: Path, count: int, villages: list[str]) -> str:
    """Write the XLSX (openpyxl's write-only mode, as export does); what it took, as a line."""
    started = time.perf_counter()
    write_table(path, HEADER, fictional_rows(count, villages))
    return (
        f"{count} fictional households written to XLSX in {time.perf_counter() - started:.0f} s "
        f"({path.stat().st_size / 2**20:.1f} MiB)"
    )


async def sample_villages() -> list[str]:
    """The sample regions' village codes (read from a throw-away SQLite database)."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/regions.db"
        await migrate.upgrade_async(url)
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            await import_regions(session, SAMPLE_REGIONS)
            codes = await session.scalars(select(Region.code).where(Region.level == "village"))
            villages = sorted(codes)
        await engine.dispose()
    return villages


# --- import -------------------------------------------------------------------------------


def peak_rss() -> float:
    """The process's peak resident memory in MiB. Linux's VmHWM, not ru_maxrss: a child's
    ru_maxrss starts at its parent's size when it was forked, however small the child."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


async def _import_in_child(url: str, path: str, trace: bool) -> None:
    """In the child process: regions, then the file; print the figures as JSON."""
    import tracemalloc

    from db.household_import import import_households

    await migrate.upgrade_async(url)
    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        await import_regions(session, SAMPLE_REGIONS)
    before = peak_rss()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    async with create_sessionmaker(engine)() as session:
        report = await import_households(session, Path(path), "bench")
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    await engine.dispose()
    after = peak_rss()
    print(json.dumps({"seconds": seconds, "added": report.added, "rss_before": before,
                      "rss_peak": after, "traced": traced and traced / 2**20}))  # fmt: skip


def run_import(url: str, path: Path, trace: bool = False) -> dict:
    code = (
        "import asyncio, sys; from bench.households import _import_in_child; "
        "asyncio.run(_import_in_child(sys.argv[1], sys.argv[2], sys.argv[3] == '1'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, url, str(path), "1" if trace else "0"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(f"the import failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_import(name: str, figures: dict) -> None:
    traced = f", tracemalloc peak {figures['traced']:.0f} MiB" if figures["traced"] else ""
    print(
        f"{name}: imported {figures['added']} households in {figures['seconds']:.1f} s "
        f"({figures['added'] / figures['seconds']:.0f} rows/s); peak RSS "
        f"{figures['rss_peak']:.0f} MiB ({figures['rss_before']:.0f} before the import){traced}"
    )


# --- answers ------------------------------------------------------------------------------


async def bind_users(url: str, count: int, seed: int = 9) -> list[int]:
    """Link ``count`` new villagers to random households, straight in the database."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        households = (await connection.execute(select(Household.id, Household.region_code))).all()
        rng = random.Random(seed)
        chosen = rng.sample(households, min(count, len(households)))
        users = [FIRST_USER + index for index in range(len(chosen))]
        await connection.execute(insert(User), [
            {"telegram_id": user, "locale": "zh_Hans", "role": "villager", "region_code": region}
            for user, (_, region) in zip(users, chosen, strict=True)
        ])  # fmt: skip
        await connection.execute(insert(HouseholdBinding), [
            {"telegram_id": user, "household_id": household}
            for user, (household, _) in zip(users, chosen, strict=True)
        ])  # fmt: skip
        await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return users


def summary(label: str, timings: list[float]) -> str:
    return (f"  {label:<24} p50 {nearest_rank(timings, 0.5):6.1f} ms, "
            f"p99 {nearest_rank(timings, 0.99):6.1f} ms ({len(timings)})")  # fmt: skip


class Clock:
    """Times each Bot API call the harness's session records, from the moment set by start()."""

    def __init__(self) -> None:
        self.started = 0.0
        self.marks: list[tuple[str, float]] = []

    def start(self) -> None:
        self.marks = []
        self.started = time.perf_counter()

    def __call__(self, call) -> None:
        self.marks.append((call.method, (time.perf_counter() - self.started) * 1000))


async def measure_answers(url: str, users: list[int], questions: int) -> None:
    from bot.app import prepare
    from bot.config import Settings
    from db.session import open_database
    from knowledge.own_household import asks_about_own_household
    from tests.harness import BotHarness

    settings = Settings(_env_file=None, database_url=url, bot_token=None)  # type: ignore[call-arg]
    database = await open_database(url)
    harness = BotHarness(settings, database)
    clock = Clock()
    harness.session.on_call = clock
    await prepare(harness.dispatcher)
    rng = random.Random(10)
    asked = [(aspect, q) for aspect, phrasings in QUESTIONS.items() for q in phrasings]
    for aspect, question in asked:
        assert asks_about_own_household(question) == aspect, question
    for user in users[:20]:  # warm: first contact, the templates, the connections
        await harness.send(user, asked[0][1])
    timings: dict[str, list[float]] = {aspect: [] for aspect in QUESTIONS}
    for _ in range(questions):
        aspect, question = rng.choice(asked)
        user = rng.choice(users)
        clock.start()
        calls = await harness.send(user, question)
        assert calls, question
        assert "*" in calls[0].text, calls  # the household's masked name: its own record
        assert "/bind" not in calls[0].text, calls
        timings[aspect].append(clock.marks[-1][1])  # the last piece of the reply sent
    print(summary("我家, all aspects", [t for values in timings.values() for t in values]))
    for aspect, values in timings.items():
        print(summary(f"  {aspect}", values))
    entries = (await harness.dispatcher["knowledge"].index()).entries
    await measure_parts(database, entries, users, rng)
    await measure_mycard(harness, database, entries, clock, users, rng, max(50, questions // 5))
    await database.close()


async def measure_parts(database, entries, users: list[int], rng: random.Random) -> None:
    """The three steps of a 我家 answer, each timed: which one a slow answer spends its time in."""
    from bot.i18n import create_i18n
    from db.bindings import BindingRepo
    from db.households import HouseholdRepo
    from db.regions import RegionRepo
    from handlers.own_household import render
    from knowledge.own_household import Aspect

    i18n = create_i18n("zh_Hans")
    parts: dict[str, list[float]] = {
        "binding + household": [],
        "profile": [],
        "render policies": [],
    }
    for _ in range(200):
        with i18n.context():
            async with database.sessionmaker() as session:
                marks = [time.perf_counter()]
                binding = await BindingRepo(session).active(rng.choice(users))
                marks.append(time.perf_counter())
                profile = await HouseholdRepo(session).profile(binding.household)
                marks.append(time.perf_counter())
                regions = RegionRepo(session)
                await render(
                    Aspect.POLICIES, binding.household, profile, entries, regions, "zh_Hans"
                )
                marks.append(time.perf_counter())
        for index, label in enumerate(parts):
            parts[label].append((marks[index + 1] - marks[index]) * 1000)
    for label, values in parts.items():
        print(summary(f"  part: {label}", values))


async def measure_mycard(
    harness, database, entries, clock: Clock, users: list[int], rng: random.Random, count: int
) -> None:
    """/mycard through the dispatcher: the time to its text and to its last picture; then its
    two halves apart: reading the household and writing the text, drawing the PNG pages."""
    try:
        from bot.card_image import render_card
        from handlers.mycard import card_content
    except ImportError as error:
        print(f"  mycard: not built yet ({error})")
        return
    from bot.i18n import create_i18n
    from db.bindings import BindingRepo

    to_text, whole, text, png, pages = [], [], [], [], []
    for index in range(count + 5):
        clock.start()
        await harness.send(rng.choice(users), "/mycard")
        methods = [method for method, _ in clock.marks]
        assert "sendMessage" in methods, methods
        assert methods[-1] == "sendPhoto", methods
        if index >= 5:  # the first ones warm the fonts
            to_text.append(clock.marks[methods.index("sendMessage")][1])
            whole.append(clock.marks[-1][1])
    i18n = create_i18n("zh_Hans")
    for _ in range(count):
        async with database.sessionmaker() as session:
            started = time.perf_counter()
            binding = await BindingRepo(session).active(rng.choice(users))
            content = await card_content(
                session, binding.household, "zh_Hans", i18n=i18n, entries=entries, hotline="12317"
            )
            written = time.perf_counter()
        drawn = render_card(content.picture)
        text.append((written - started) * 1000)
        png.append((time.perf_counter() - written) * 1000)
        pages.append(len(drawn))
    print(summary("/mycard, to its text", to_text))
    print(summary("/mycard, to its last PNG", whole))
    print(summary("  part: reads + text", text))
    print(summary(f"  part: PNG, {statistics.mean(pages):.1f} pages", png))


# --- both databases -----------------------------------------------------------------------


async def measure(name: str, url: str, path: Path, args: argparse.Namespace) -> None:
    figures = run_import(url, path)
    print_import(name, figures)
    users = await bind_users(url, USERS)
    await measure_answers(url, users, args.questions)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--postgres", default=services.POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    traced = "also import into another SQLite database under tracemalloc (slower)"
    parser.add_argument("--tracemalloc", action="store_true", help=traced)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {load()} (other work on the machine shows in p99)")
    try:
        await run(args)
    finally:
        print(f"load average at the end {load()}")


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "households.xlsx"
        print(write_file(path, args.households, await sample_villages()))
        if args.tracemalloc:
            traced = run_import(f"sqlite+aiosqlite:///{folder}/traced.db", path, trace=True)
            print_import("SQLite under tracemalloc", traced)
        await measure("SQLite", f"sqlite+aiosqlite:///{folder}/bench.db", path, args)
        if args.no_postgres:
            return
        if problem := await services.postgres_problem():
            print("PostgreSQL: skipped,", problem)
            return
        async with scratch_postgres(args.postgres) as url:
            await measure("PostgreSQL", url, path, args)


if __name__ == "__main__":
    asyncio.run(main())
