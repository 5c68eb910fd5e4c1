"""A burst: thousands of villagers asking at once and hundreds of reports submitted at once,
through the fake Bot API, compared in the same run with aiogram echo bots.

Run: `.venv/bin/python -m bench.burst [--database sqlite|postgres] [--redis] [--quick]`
(`--quick`: 300 questions and 50 reports; `--questions N --reports N` for other sizes).

Four bot processes, one after the other, each long-polling its own fresh fake Bot API server
(tests/fakes, in this process):

1. an aiogram echo bot paced by `bot.ratelimit.RateLimiter` (Telegram's limits, in memory);
2. `huhuqing run`, its limiter on;
3. a bare aiogram echo bot, unpaced;
4. `huhuqing run` with HUHUQING_OUTBOUND_PACING=false.

Each gets the same two bursts. Questions: N distinct users (their village already in the
database, last seen a day ago) each send one colloquial question (tests/eval/colloquial.jsonl,
in its region) at the same moment. Reports: R users, brought to the review step through the
real conversation beforehand (not measured; the echo bots skip it), all tap "Submit" at once.
Time to answer is from the update's push to the first message the bot sends to that chat;
throughput is the real answers (not apologies) over the time from the first push to the last
answer. Rate-rule violations are computed from the times the fake server received the messages.
Memory is each bot process's peak RSS (VmHWM). The bot's log goes to a kept folder, printed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, insert, select

from bench.percentiles import nearest_rank
from db import migrate
from db.models import Case, User, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import open_database
from tests import services
from tests.fakes.telegram_server import DEFAULT_TOKEN, Call, FakeTelegramServer

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS_FILE = ROOT / "tests" / "eval" / "colloquial.jsonl"
REDIS_URL = "redis://127.0.0.1:6379/12"  # flushed before each run: keep nothing else there

APOLOGY = "抱歉，出了点问题"  # handlers/errors.py, zh_Hans
FLOOD = "您发得太快了"  # bot/middlewares/flood.py
RECEIVED = "已收到"  # handlers/report.py: the case is committed
SOURCE = "📄"  # handlers/ask.py: an answer naming its document
MESSAGE_METHODS = ("send", "copy", "forward", "edit")  # what Telegram's limits count

# Telegram's limits, as the violations are counted.
OVERALL_PER_SECOND = 30
PRIVATE_INTERVAL, PRIVATE_BURST = 1.0, 3
GROUP_PER_MINUTE = 20

REPORT_DESCRIPTIONS = (
    "村里自来水停了三天了，一直没人来修",
    "俺们屯的水管冻裂了，半个月没水吃",
    "水窖漏了，吃水要走好远去挑",
    "自来水一股怪味，娃儿喝了拉肚子",
)
# The report conversation up to the review step: what each user does, and what the bot's
# answer must carry before the next step (a button's callback data, or a text).
SETUP_STEPS: tuple[tuple[str, str, str], ...] = (
    ("text", "/report", "rc:water"),
    ("press", "rc:water", "rs:place_ok"),
    ("press", "rs:place_ok", "rs:done"),
    ("text", "", "已添加"),  # the description (one of REPORT_DESCRIPTIONS)
    ("press", "rs:done", "rs:anonymous"),
    ("press", "rs:anonymous", "rs:submit"),
)

# --------------------------------------------------------------------------------------------
# The echo bots (run as `python -m bench.burst --echo paced|bare --api URL`)
# --------------------------------------------------------------------------------------------


async def run_echo(paced: bool, api: str) -> None:
    """aiogram's own polling, a message echoed, a tap answered and echoed."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, Message

    from bot.ratelimit import RateLimiter

    session = AiohttpSession(api=TelegramAPIServer.from_base(api))
    if paced:
        session.middleware(RateLimiter())
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @dispatcher.callback_query()
    async def tapped(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(query.data or "?")

    await dispatcher.start_polling(Bot(DEFAULT_TOKEN, session=session), handle_signals=True)


# --------------------------------------------------------------------------------------------
# Processes: start, measure, stop
# --------------------------------------------------------------------------------------------


def proc_mib(pid: int, field_name: str) -> float:
    """A /proc/PID/status memory field (VmRSS, VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class BotProcess:
    """One bot under test, long-polling ``server``."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    server: FakeTelegramServer
    process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        await self.server.wait_for("getUpdates", timeout=90)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> float:
        """Stop the bot; returns its peak RSS in MiB."""
        assert self.process is not None
        peak = proc_mib(self.pid, "VmHWM")
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return peak


# --------------------------------------------------------------------------------------------
# Following the bot's answers
# --------------------------------------------------------------------------------------------


@dataclass
class Reply:
    at: float
    text: str

    @property
    def kind(self) -> str:
        if APOLOGY in self.text:
            return "apology"
        if FLOOD in self.text:
            return "flood"
        return "answer"


@dataclass
class Burst:
    """Updates pushed at once, and the first answer each chat got."""

    name: str
    pushed: dict[int, float]
    replies: dict[int, Reply] = field(default_factory=dict)
    callbacks: dict[str, int] = field(default_factory=dict)  # callback query id -> chat
    harness_cpu: float = 0.0  # share of one core, this process (the fake server)
    harness_lag: float = 0.0  # this process's worst event-loop lag: arrivals stamped late
    bot_cpu: float = 0.0  # share of one core, the bot's process

    @property
    def started(self) -> float:
        return min(self.pushed.values())

    def real(self) -> list[int]:
        return [chat for chat, reply in self.replies.items() if reply.kind == "answer"]

    def count(self, kind: str) -> int:
        return sum(reply.kind == kind for reply in self.replies.values())

    def per_second(self) -> float:
        real = self.real()
        if not real:
            return 0.0
        return len(real) / (max(self.replies[chat].at for chat in real) - self.started)

    def latencies(self) -> list[float]:
        return sorted(self.replies[chat].at - self.pushed[chat] for chat in self.real())


def chat_of(call: Call) -> int | None:
    chat = call.params.get("chat_id")
    if isinstance(chat, int) or (isinstance(chat, str) and chat.lstrip("-").isdigit()):
        return int(chat)
    return None


def buttons_of(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [button.get("callback_data", "") for row in rows for button in row]


async def follow(
    server: FakeTelegramServer,
    since: int,
    burst: Burst,
    *,
    deadline: float,
    stall: float = 60,
) -> None:
    """Record each pushed chat's first answer (a message, or an alert for a tap) until all have
    one, nothing came for ``stall`` seconds, or ``deadline`` (monotonic) passed."""
    index, last_new = since, time.monotonic()
    while len(burst.replies) < len(burst.pushed):
        now = time.monotonic()
        if now > deadline or now - last_new > stall:
            return
        await asyncio.sleep(0.1)
        while index < len(server.calls):
            call = server.calls[index]
            index += 1
            chat = _answered_chat(call, burst)
            if chat is not None and chat not in burst.replies:
                text = call.params.get("text") or call.params.get("caption") or ""
                burst.replies[chat] = Reply(call.at, str(text))
                last_new = time.monotonic()


def _answered_chat(call: Call, burst: Burst) -> int | None:
    if call.response is None or not call.ok:
        return None
    if call.method == "answerCallbackQuery":  # only an alert is an answer (the apology)
        if not call.params.get("text"):
            return None
        return burst.callbacks.get(str(call.params.get("callback_query_id")))
    if not call.method.startswith(MESSAGE_METHODS):
        return None
    chat = chat_of(call)
    return chat if chat in burst.pushed else None


# --------------------------------------------------------------------------------------------
# Telegram's limits, checked on what the fake server received
# --------------------------------------------------------------------------------------------


def violations(calls: Iterable[Call]) -> dict[str, int]:
    """Messages over each rule: >30 in a second overall, a private chat beyond 1/s after a
    burst of 3 (GCRA), >20 in a minute in a group."""
    overall: list[float] = []
    per_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        chat = chat_of(call)
        if call.response is not None and call.method.startswith(MESSAGE_METHODS) and chat:
            overall.append(call.at)
            per_chat[chat].append(call.at)
    private = sum(_gcra_excess(times) for chat, times in per_chat.items() if chat > 0)
    groups = sum(
        _window_excess(times, 60, GROUP_PER_MINUTE) for chat, times in per_chat.items() if chat < 0
    )
    return {
        "overall": _window_excess(overall, 1.0, OVERALL_PER_SECOND),
        "overall by 3+": _window_excess(overall, 1.0, OVERALL_PER_SECOND + 2),
        "busiest second": _busiest(overall, 1.0),
        "private": private,
        "group": groups,
    }


def _busiest(times: list[float], window: float) -> int:
    """The most messages any ``window``-second span holds."""
    times = sorted(times)
    return max(
        (index + 1 - bisect.bisect_right(times, at - window) for index, at in enumerate(times)),
        default=0,
    )


def _window_excess(times: list[float], window: float, most: int) -> int:
    """How many messages end a ``window``-second span holding more than ``most``."""
    times = sorted(times)
    return sum(
        index + 1 - bisect.bisect_right(times, at - window) > most for index, at in enumerate(times)
    )


def _gcra_excess(times: list[float]) -> int:
    tolerance = (PRIVATE_BURST - 1) * PRIVATE_INTERVAL
    theoretical, excess = float("-inf"), 0
    for at in sorted(times):
        if at < theoretical - tolerance:
            excess += 1
            continue
        theoretical = max(at, theoretical) + PRIVATE_INTERVAL
    return excess


# --------------------------------------------------------------------------------------------
# The workload
# --------------------------------------------------------------------------------------------


@dataclass
class Users:
    """User ids of one bot run, and each one's village and question."""

    askers: dict[int, tuple[str, str]]  # id -> (village code, question)
    reporters: dict[int, str]  # id -> village code


def villages_by_region() -> dict[str | None, list[str]]:
    """The sample villages under each region name the colloquial set uses (None: any)."""
    regions = yaml.safe_load(SAMPLE_REGIONS.read_text(encoding="utf-8"))["regions"]
    parent = {region["code"]: region.get("parent") for region in regions}
    names = {region["code"]: region["name"] for region in regions}
    found: dict[str | None, list[str]] = defaultdict(list)
    for region in regions:
        if region["level"] != "village":
            continue
        found[None].append(region["code"])
        code = region["code"]
        while code := parent.get(code):
            found[names[code]].append(region["code"])
    return found


def workload(first_id: int, questions: int, reports: int, seed: int) -> Users:
    rng = random.Random(seed)
    villages = villages_by_region()
    asked = [json.loads(line) for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()]
    rng.shuffle(asked)
    askers = {}
    for number in range(questions):
        item = asked[number % len(asked)]
        askers[first_id + number] = (rng.choice(villages[item["region"]]), item["q"])
    first_reporter = first_id + questions
    reporters = {first_reporter + n: rng.choice(villages[None]) for n in range(reports)}
    return Users(askers, reporters)


async def prepare_database(url: str, runs: list[Users]) -> None:
    """Schema, sample regions, and every user with their village, last seen a day ago."""
    await migrate.upgrade_async(url)
    database = await open_database(url)
    seen = utcnow() - timedelta(days=1)
    rows = [
        {"telegram_id": user, "region_code": village, "first_seen": seen, "last_seen": seen}
        for users in runs
        for user, village in (
            *((user, village) for user, (village, _) in users.askers.items()),
            *users.reporters.items(),
        )
    ]
    try:
        async with database.sessionmaker() as session:
            await import_regions(session, SAMPLE_REGIONS)
            await session.execute(insert(User), rows)
            await session.commit()
    finally:
        await database.close()


async def count_cases(url: str, reporters: Iterable[int]) -> int:
    database = await open_database(url)
    try:
        async with database.sessionmaker() as session:
            query = select(func.count()).where(Case.reporter_id.in_(list(reporters)))
            return int(await session.scalar(query) or 0)
    finally:
        await database.close()


# --------------------------------------------------------------------------------------------
# Driving the bursts
# --------------------------------------------------------------------------------------------


async def converse(
    server: FakeTelegramServer, reporters: list[int]
) -> tuple[list[int], dict[int, int]]:
    """Bring the reporters to the review step; returns those who got there and, for each, the
    message id of their "Submit" button."""
    buttons: dict[int, dict[str, int]] = defaultdict(dict)
    ready = list(reporters)
    for kind, what, expect in SETUP_STEPS:
        since = server.mark()
        for number, user in enumerate(ready):
            if kind == "text":
                text = what or REPORT_DESCRIPTIONS[number % len(REPORT_DESCRIPTIONS)]
                server.send_text(user, text)
            else:
                server.press_button(user, what, message_id=buttons[user][what])
        ready = await _await_step(server, since, ready, expect, buttons)
    return ready, {user: buttons[user]["rs:submit"] for user in ready}


async def _await_step(
    server: FakeTelegramServer,
    since: int,
    users: list[int],
    expect: str,
    buttons: dict[int, dict[str, int]],
) -> list[int]:
    """Wait until each user's chat got a message carrying ``expect``; returns those that did."""
    waiting, index = set(users), since
    deadline = time.monotonic() + 60 + len(users) / OVERALL_PER_SECOND * 2
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        while index < len(server.calls):
            call = server.calls[index]
            index += 1
            chat = chat_of(call)
            if call.method != "sendMessage" or not call.ok or chat not in waiting:
                continue
            for data in buttons_of(call):
                buttons[chat][data] = call.result["message_id"]
            if expect in buttons_of(call) or expect in str(call.params.get("text", "")):
                waiting.discard(chat)
    return [user for user in users if user not in waiting]


async def burst_questions(bot: BotProcess, askers: dict[int, tuple[str, str]]) -> Burst:
    def push(server: FakeTelegramServer, burst: Burst) -> None:
        for user, (_, question) in askers.items():
            burst.pushed[user] = time.monotonic()
            server.send_text(user, question)

    return await _measure(bot, "questions", push)


async def burst_reports(bot: BotProcess, submits: dict[int, int]) -> Burst:
    def push(server: FakeTelegramServer, burst: Burst) -> None:
        for user, message_id in submits.items():
            burst.pushed[user] = time.monotonic()
            update = server.press_button(user, "rs:submit", message_id=message_id)
            burst.callbacks[update["callback_query"]["id"]] = user

    return await _measure(bot, "reports", push)


async def _measure(
    bot: BotProcess, name: str, push: Callable[[FakeTelegramServer, Burst], None]
) -> Burst:
    server, burst = bot.server, Burst(name, {})
    since = server.mark()
    gc.collect()
    gc.freeze()  # the calls recorded so far: a full collection here would stamp arrivals late
    cpu_here, cpu_bot, started = own_cpu(), proc_cpu(bot.pid), time.monotonic()
    lag = asyncio.create_task(watch_lag(burst))
    push(server, burst)
    deadline = started + 120 + len(burst.pushed) / OVERALL_PER_SECOND * 2
    await follow(server, since, burst, deadline=deadline)
    elapsed = time.monotonic() - started
    lag.cancel()
    burst.harness_cpu = (own_cpu() - cpu_here) / elapsed
    burst.bot_cpu = (proc_cpu(bot.pid) - cpu_bot) / elapsed
    await asyncio.sleep(1)  # the stragglers' other messages, for the violation count
    return burst


async def watch_lag(burst: Burst, period: float = 0.01) -> None:
    """Record how late this loop wakes: the fake server stamps arrivals on it."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(period)
        burst.harness_lag = max(burst.harness_lag, time.monotonic() - before - period)


# --------------------------------------------------------------------------------------------
# One run of one bot
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    bursts: list[Burst]
    peak_mib: float
    violations: dict[str, int]
    log: Path
    failed: Counter[str] = field(default_factory=Counter)
    setup_lost: int = 0
    cases: int | None = None


def failed_updates(log: Path) -> Counter[str]:
    """Exception types of the updates the bot's log says failed (one count per update)."""
    seen: dict[str, str] = {}
    for line in log.read_text(errors="replace").splitlines():
        words = line.split()
        if "update" in words and "failed:" in words:
            at = words.index("failed:")
            if at > 0 and words[at - 1].isdigit() and at + 1 < len(words):
                seen.setdefault(words[at - 1], words[at + 1])
    return Counter(seen.values())


async def run_echo_bot(name: str, paced: bool, users: Users, logs: Path) -> Run:
    async with FakeTelegramServer() as server:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "bench.burst", "--echo", "paced" if paced else "bare"]
        command += ["--api", server.base_url]
        bot = BotProcess(name, command, env, logs / f"{name}.log", server)
        await bot.start()
        try:
            questions = await burst_questions(bot, users.askers)
            submits = {user: 1 for user in users.reporters}  # a placeholder message each
            reports = await burst_reports(bot, submits)
        finally:
            peak = bot.stop()
        return Run(name, [questions, reports], peak, violations(server.calls), bot.log_path)


async def run_huhuqing(
    name: str, paced: bool, users: Users, logs: Path, database_url: str, redis: str | None
) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUHUQING_")}
    env |= {
        "HUHUQING_DATABASE_URL": database_url,
        "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN,
        "HUHUQING_OUTBOUND_PACING": "true" if paced else "false",
        "HUHUQING_INSTANCE_NAME": "burst",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if redis:
        await flush_redis(redis)
        env["HUHUQING_REDIS_URL"] = redis
    async with FakeTelegramServer() as server:
        env["HUHUQING_TELEGRAM_API_URL"] = server.base_url
        command = [sys.executable, "-m", "bot", "run"]
        bot = BotProcess(name, command, env, logs / f"{name}.log", server)
        await bot.start()
        try:
            ready, submits = await converse(server, list(users.reporters))
            since = server.mark()  # the setup's messages are not the bursts'
            questions = await burst_questions(bot, users.askers)
            reports = await burst_reports(bot, submits)
        finally:
            peak = bot.stop()
        run = Run(name, [questions, reports], peak, violations(server.calls[since:]), bot.log_path)
    run.failed = failed_updates(bot.log_path)
    run.setup_lost = len(users.reporters) - len(ready)
    run.cases = await count_cases(database_url, users.reporters)
    return run


async def flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_runs(runs: dict[str, Run]) -> None:
    print(
        f"{'run':<15} {'burst':<9} {'sent':>5} {'real':>5} {'sorry':>5} {'none':>5} "
        f"{'per s':>7} {'p50':>8} {'p99':>8}  cpu fake/bot, fake's worst lag"
    )
    for run in runs.values():
        for burst in run.bursts:
            latencies = burst.latencies()
            print(
                f"{run.name:<15} {burst.name:<9} {len(burst.pushed):>5} {len(burst.real()):>5} "
                f"{burst.count('apology'):>5} {len(burst.pushed) - len(burst.replies):>5} "
                f"{burst.per_second():>7.1f} {nearest_rank(latencies, 0.5):>7.2f}s "
                f"{nearest_rank(latencies, 0.99):>7.2f}s  "
                f"{burst.harness_cpu:.0%}/{burst.bot_cpu:.0%}, {burst.harness_lag * 1000:.0f} ms"
            )


def print_summary(runs: dict[str, Run]) -> None:
    pairs = (("paced", "echo paced", "huhuqing paced", 0.9),
             ("unpaced", "echo bare", "huhuqing unpaced", 0.5))  # fmt: skip
    for label, echo, bot, target in pairs:
        for mine, theirs in zip(runs[bot].bursts, runs[echo].bursts, strict=True):
            ratio = mine.per_second() / theirs.per_second() if theirs.per_second() else 0
            verdict = "met" if ratio >= target else "MISSED"
            print(f"{label} {mine.name}: {ratio:.3f} of {echo} (target ≥ {target}: {verdict})")
    for name in ("huhuqing paced", "huhuqing unpaced"):
        run = runs[name]
        questions = run.bursts[0]
        sourced = sum(SOURCE in questions.replies[chat].text for chat in questions.real())
        flooded = sum(burst.count("flood") for burst in run.bursts)
        print(
            f"{name}: failed updates in its log {sum(run.failed.values())} "
            f"{dict(run.failed) or ''}; apologies "
            f"{sum(burst.count('apology') for burst in run.bursts)}; flood answers {flooded}; "
            f"answers naming a document {sourced}/{len(questions.real())}; cases in the database "
            f"{run.cases}/{len(run.bursts[1].pushed)}; lost in the report setup {run.setup_lost}"
        )
    for name in ("echo paced", "huhuqing paced"):
        found = runs[name].violations
        print(
            f"rate-rule violations, {name}: {found['overall']} over 30/s ({found['overall by 3+']} "
            f"over 32, busiest second {found['busiest second']}), {found['private']} over "
            f"1/s (burst 3) in a private chat, {found['group']} over 20/min in a group"
        )
    print(
        "peak RSS (VmHWM): "
        + ", ".join(f"{run.name} {run.peak_mib:.0f} MiB" for run in runs.values())
    )
    print("bot logs: " + str(next(iter(runs.values())).log.parent))


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


async def database_for(kind: str, folder: Path) -> tuple[str, Callable[[], Any] | None]:
    """A fresh database URL, and how to drop it afterwards (PostgreSQL)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder / 'burst.db'}", None
    if problem := await services.postgres_problem():
        raise SystemExit(f"PostgreSQL unavailable: {problem}")
    import asyncpg

    name = f"burst_{uuid.uuid4().hex[:10]}"
    server = services.POSTGRES_URL.replace("+asyncpg", "")
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        connection = await asyncpg.connect(server)
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await connection.close()

    return f"{services.POSTGRES_URL.rsplit('/', 1)[0]}/{name}", drop


async def main(args: argparse.Namespace) -> None:
    questions, reports = (300, 50) if args.quick else (3000, 500)
    questions, reports = args.questions or questions, args.reports or reports
    logs = Path(tempfile.mkdtemp(prefix="burst-logs-"))
    redis = REDIS_URL if args.redis else None
    if redis and (problem := await services.redis_problem()):
        raise SystemExit(f"Redis unavailable: {problem}")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {args.database}{' + Redis' if redis else ''}: "
        f"{questions} questions, {reports} reports; load average {os.getloadavg()[0]:.1f}"
    )
    paced_users = workload(1_000_000, questions, reports, seed=1)
    unpaced_users = workload(2_000_000, questions, reports, seed=2)
    with tempfile.TemporaryDirectory() as folder:
        url, drop = await database_for(args.database, Path(folder))
        try:
            await prepare_database(url, [paced_users, unpaced_users])
            runs = {}
            for run in (
                run_echo_bot("echo paced", True, paced_users, logs),
                run_huhuqing("huhuqing paced", True, paced_users, logs, url, redis),
                run_echo_bot("echo bare", False, unpaced_users, logs),
                run_huhuqing("huhuqing unpaced", False, unpaced_users, logs, url, redis),
            ):
                result = await run
                runs[result.name] = result
                print(f"  {result.name}: done ({time.strftime('%H:%M:%S')})", flush=True)
        finally:
            if drop:
                await drop()
            if redis:
                await flush_redis(redis)
    print_runs(runs)
    print_summary(runs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--redis", action="store_true", help="conversations and limits in Redis")
    parser.add_argument("--quick", action="store_true", help="300 questions, 50 reports")
    parser.add_argument("--questions", type=int, help="users asking at once")
    parser.add_argument("--reports", type=int, help="users submitting at once")
    parser.add_argument("--echo", choices=("paced", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.echo:
        asyncio.run(run_echo(arguments.echo == "paced", arguments.api))
    else:
        asyncio.run(main(arguments))
