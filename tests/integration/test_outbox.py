"""The outbox on SQLite and PostgreSQL: an outage delays a notification and never drops it, a
chat that refuses the bot has its notices re-routed, the console sends only its own user's, and
a restarted instance takes back its rows at once. Time is a fake clock, never a sleep."""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import ConfigError, load_settings
from bot.local_session import LocalSession
from bot.outbox import OutboxWorker
from bot.runners.console import Console
from db import migrate
from db.models import Case, OutboxMessage, Role, UnitChat, User, utcnow
from db.outbox import OutboxRepo
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from grievances.service import Actor, CaseService, Notice, Report
from tests.fakes.gated import GatedSession

TOKEN = "42:TEST"
TOWNSHIP, COUNTY, VILLAGE = "530627101", "530627", "530627101201"  # 以古镇, 镇雄县, 红星村
CHANGCHUN_VILLAGE = "220122101201"
VILLAGER, CADRE, CADRE_2, COUNTY_CADRE = 901, 902, 903, 904
COUNTY_ADMIN, ADMIN, CHANGCHUN_ADMIN, CHANGCHUN_VILLAGER = 905, 906, 907, 908
GROUP = -100500
KICKED = "Forbidden: bot was kicked from the group chat"
BLOCKED = "Forbidden: bot was blocked by the user"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(minutes=1)  # after every row the test writes for "now"

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def db(database_url: str, regions_template: Path) -> AsyncIterator[Database]:
    """A database at the newest revision with the sample regions, on each backend."""
    if database_url.startswith("sqlite"):
        shutil.copyfile(regions_template, database_url.removeprefix("sqlite+aiosqlite:///"))
        database = await open_database(database_url)
    else:
        await migrate.upgrade_async(database_url)
        database = await open_database(database_url)
        async with database.sessionmaker() as session:
            await import_regions(session, SAMPLE_REGIONS)
    async with database.sessionmaker() as session:
        reporter = await UserRepo(session).touch(VILLAGER)
        reporter.region_code = VILLAGE
        await session.commit()
    yield database
    await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Telegram(LocalSession):
    """The in-process Bot API, with chats that fail with 502 while they are in ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[int] = set()

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        chat = getattr(method, "chat_id", None)
        if method.__api_method__ == "sendMessage" and chat in self.down:
            self.fail_next("sendMessage", 502, "Bad Gateway", chat_id=chat)
        return await super().make_request(bot, method, timeout)


@pytest.fixture
def telegram() -> Telegram:
    return Telegram()


@pytest.fixture
def worker(db: Database, clock: Clock, telegram: Telegram) -> OutboxWorker:
    return OutboxWorker(Bot(TOKEN, session=telegram), db.sessionmaker, clock, instance="bot-1")


def render(notice: Notice) -> tuple[str, dict[str, Any] | None]:
    return f"{notice.kind} {notice.case.number}", None


async def people(db: Database, *granted: tuple[int, Role, str | None], locale: str = "en") -> None:
    async with db.sessionmaker() as session:
        for user_id, role, area in granted:
            (await UserRepo(session).grant(user_id, role, area)).locale = locale
        await session.commit()


async def submit(db: Database, clock: Clock) -> Case:
    """A villager's case, its notifications written "now" by the fake clock. The villager's
    tracking number (sent by the handler in the bot: tests/integration/test_submit_delivery.py)
    is left out: these tests follow the notices to the unit."""
    async with db.sessionmaker() as session:
        reporter = await session.get_one(User, VILLAGER)
        case = await CaseService(session, render).submit(
            Report(reporter, "zh_Hans", "water", VILLAGE, "描述")
        )
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.case_id == case.id, OutboxMessage.chat_id == VILLAGER
            )
        )
        await dated(session, clock, OutboxMessage.case_id == case.id)
    return case


async def dated(session: Any, clock: Clock, *where: Any) -> None:
    await session.execute(
        update(OutboxMessage).where(*where).values(created_at=clock.now, next_attempt_at=clock.now)
    )
    await session.commit()


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def deliver(worker: OutboxWorker) -> None:
    while await worker.send_due():
        pass


def delivered(telegram: Telegram) -> list[tuple[int, str]]:
    return [
        (int(call.params["chat_id"]), call.text or "")
        for call in telegram.calls
        if call.method == "sendMessage" and call.result
    ]


# --- 1. outages: retried with backoff for days, given up only when it can never succeed -----


async def test_an_outage_delays_a_notification_and_never_drops_it(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    case = await submit(db, clock)
    for attempt in range(1, 21):  # far beyond the 8 attempts (~4 minutes) once allowed
        telegram.fail_next("sendMessage", 502, "Bad Gateway")
        await deliver(worker)
        [row] = await rows(db)
        assert (row.sent_at, row.failed_at, row.last_error) == (None, None, "TelegramServerError")
        wait = min(timedelta(seconds=2**attempt), timedelta(minutes=5))
        assert row.next_attempt_at - clock.now == wait
        clock.now = row.next_attempt_at - timedelta(seconds=1)
        await deliver(worker)  # not due yet: nothing is tried
        clock.advance(seconds=1)
    await deliver(worker)
    assert delivered(telegram) == [(CADRE, f"new_case {case.number}")]
    [row] = await rows(db)
    assert row.sent_at is not None
    assert row.failed_at is None


async def test_a_notification_is_given_up_only_past_the_configured_horizon(
    db: Database, clock: Clock, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    await submit(db, clock)
    worker = OutboxWorker(
        Bot(TOKEN, session=telegram), db.sessionmaker, clock, give_up_after=timedelta(days=2)
    )
    [row] = await rows(db)
    clock.now = row.created_at + timedelta(days=2) - timedelta(seconds=1)
    for _ in range(2):
        telegram.fail_next("sendMessage", 404, "Not Found")  # a wrong API URL: fixable
        await deliver(worker)
        [row] = await rows(db)
        assert row.attempts == 1 or row.failed_at is not None
        clock.now = row.next_attempt_at  # two days and a second after it was written
    clock.now = row.failed_at
    assert row.failed_at == clock.now
    assert row.last_error == "TelegramNotFound, still after 2 days"


async def test_only_errors_that_can_never_succeed_are_given_up_at_once(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    async with db.sessionmaker() as session:
        session.add_all(
            [
                OutboxMessage(chat_id=VILLAGER, text="<b>broken"),
                OutboxMessage(chat_id=VILLAGER, text="too long, says Telegram"),
                OutboxMessage(chat_id=VILLAGER, text="later", reply_markup={"inline_keyboard": 1}),
            ]
        )
        await session.commit()
    telegram.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    telegram.fail_next("sendMessage", 400, "Bad Request: message is too long")
    await deliver(worker)
    broken, long, unreadable = await rows(db)
    assert broken.failed_at is not None
    assert broken.last_error == "TelegramBadRequest: Bad Request: can't parse entities"
    assert (long.failed_at, long.last_error) == (None, "TelegramBadRequest")
    assert (unreadable.failed_at, unreadable.last_error) == (clock.now, "ValidationError")


# --- 1. stuck rows: the area's admins are told, once, without a storm ------------------------


async def test_the_areas_admins_hear_once_of_notifications_stuck_for_an_hour(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(
        db,
        (CADRE, Role.CADRE, TOWNSHIP),
        (COUNTY_ADMIN, Role.ADMIN, COUNTY),
        (ADMIN, Role.ADMIN, None),
        (CHANGCHUN_ADMIN, Role.ADMIN, "220122"),
        (CHANGCHUN_VILLAGER, Role.VILLAGER, None),
    )
    async with db.sessionmaker() as session:
        (await session.get_one(User, CHANGCHUN_VILLAGER)).region_code = CHANGCHUN_VILLAGE
        session.add(OutboxMessage(chat_id=CHANGCHUN_VILLAGER, text="⏰ loan reminder"))
        await dated(session, clock, OutboxMessage.chat_id == CHANGCHUN_VILLAGER)
    case = await submit(db, clock)
    telegram.down = {CADRE, CHANGCHUN_VILLAGER}  # all along; the admins' chats work
    await deliver(worker)
    clock.advance(minutes=59)
    assert await worker.alert_stuck() == 0  # not an hour yet
    clock.advance(minutes=2)
    assert await worker.alert_stuck() == 2
    assert await worker.alert_stuck() == 0  # each stuck row is told once
    await deliver(worker)
    alerts = dict(delivered(telegram))
    assert sorted(alerts) == [COUNTY_ADMIN, CHANGCHUN_ADMIN]  # not the global admin
    county, changchun = alerts[COUNTY_ADMIN], alerts[CHANGCHUN_ADMIN]
    assert "Notifications not delivered for over an hour: 1" in county
    assert f"Cases: {case.number}" in county
    assert "retried until it is 7 days old" in county
    assert "Errors: TelegramServerError" in county
    assert "Other notices (reminders): 1" in changchun
    assert "loan" not in changchun  # never the notice's text

    later = await submit(db, clock)  # stuck an hour later: a second alert, of it alone
    await deliver(worker)
    clock.advance(minutes=61)
    assert await worker.alert_stuck() == 1
    await deliver(worker)
    [(chat, text)] = delivered(telegram)[2:]
    assert chat == COUNTY_ADMIN
    assert later.number in text
    assert case.number not in text


async def test_no_alert_storm_while_telegram_is_down(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP), (ADMIN, Role.ADMIN, None), locale="zh_Hans")
    telegram.down = {CADRE, ADMIN}
    await submit(db, clock)
    for _ in range(6):  # six hours of outage, with rows stuck every hour
        await deliver(worker)
        clock.advance(minutes=61)
        await worker.alert_stuck()
        await submit(db, clock)
    alerts = [row for row in await rows(db) if row.kind == "alert"]
    assert [row.chat_id for row in alerts] == [ADMIN]  # one, waiting: none piled up behind it
    telegram.down = {CADRE}  # the admin can be reached again
    clock.advance(minutes=5)
    await deliver(worker)
    assert [chat for chat, _ in delivered(telegram)] == [ADMIN]
    assert await worker.alert_stuck() == 1  # the rows held back, in one more digest
    await deliver(worker)
    [_, (chat, digest)] = delivered(telegram)
    assert chat == ADMIN
    assert "超过一小时没能送达的通知：5 条" in digest  # not the newest one yet


# --- 2. a chat that refuses the bot: its notices are re-routed at once ----------------------


async def test_a_group_that_removed_the_bot_has_its_notices_sent_to_the_units_cadres(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP), (COUNTY_CADRE, Role.CADRE, COUNTY))
    async with db.sessionmaker() as session:
        session.add(UnitChat(region_code=TOWNSHIP, chat_id=GROUP, linked_by=ADMIN))
        await session.commit()
    first, second = await submit(db, clock), await submit(db, clock)
    telegram.fail_next("sendMessage", 403, KICKED, chat_id=GROUP)
    await deliver(worker)
    assert delivered(telegram) == [
        (CADRE, f"new_case {first.number}"),
        (CADRE, f"new_case {second.number}"),
    ]
    to_group = [row for row in await rows(db) if row.chat_id == GROUP]
    assert [row.last_error for row in to_group] == [f"403; re-routed ({TOWNSHIP}) to {CADRE}"] * 2
    async with db.sessionmaker() as session:
        assert await session.get(UnitChat, TOWNSHIP) is None


async def test_a_removed_group_with_no_cadre_at_its_unit_goes_one_level_up(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (COUNTY_CADRE, Role.CADRE, COUNTY))
    async with db.sessionmaker() as session:
        session.add(UnitChat(region_code=TOWNSHIP, chat_id=GROUP, linked_by=ADMIN))
        await session.commit()
    case = await submit(db, clock)
    telegram.fail_next("sendMessage", 403, KICKED, chat_id=GROUP)
    await deliver(worker)
    assert delivered(telegram) == [(COUNTY_CADRE, f"new_case {case.number}")]


async def test_a_cadre_who_blocked_the_bot_has_the_units_other_cadres_stand_in(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    before = await submit(db, clock)  # only CADRE then
    await people(db, (CADRE_2, Role.CADRE, TOWNSHIP))
    after = await submit(db, clock)  # both cadres: CADRE_2 has it already
    telegram.fail_next("sendMessage", 403, BLOCKED, chat_id=CADRE)
    await deliver(worker)
    assert sorted(delivered(telegram)) == sorted(
        [(CADRE_2, f"new_case {before.number}"), (CADRE_2, f"new_case {after.number}")]
    )
    to_cadre = [row.last_error for row in await rows(db) if row.chat_id == CADRE]
    assert to_cadre == [
        f"403; re-routed ({TOWNSHIP}) to {CADRE_2}",
        f"403; re-routed ({TOWNSHIP}): {CADRE_2} already have it",
    ]


async def test_with_no_cadre_left_anywhere_the_admins_get_the_notice(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP), (ADMIN, Role.ADMIN, None))
    case = await submit(db, clock)
    telegram.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=CADRE)
    await deliver(worker)
    assert delivered(telegram) == [(ADMIN, f"new_case {case.number}")]
    [row, _] = await rows(db)
    assert row.last_error == f"chat not found; re-routed ({TOWNSHIP}) to {ADMIN}"


async def test_with_nobody_at_all_the_row_says_so(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    await submit(db, clock)
    telegram.fail_next("sendMessage", 403, BLOCKED, chat_id=CADRE)
    await deliver(worker)
    [row] = await rows(db)
    assert row.last_error == f"403; nobody to re-route it to at {TOWNSHIP} or above"


async def test_a_villager_who_blocked_the_bot_gets_nothing_more_and_nobody_else_does(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP), (ADMIN, Role.ADMIN, None))
    case = await submit(db, clock)
    async with db.sessionmaker() as session:
        stored = await session.get_one(Case, case.id)
        await CaseService(session, render).accept(stored, Actor(CADRE, Role.CADRE))
        await dated(session, clock, OutboxMessage.chat_id == VILLAGER)
    telegram.fail_next("sendMessage", 403, BLOCKED, chat_id=VILLAGER)
    await deliver(worker)
    assert delivered(telegram) == [(CADRE, f"new_case {case.number}")]
    [_, to_villager] = await rows(db)
    assert to_villager.failed_at is not None
    assert to_villager.last_error == "403; not re-routed (the recipient's own notice)"
    async with db.sessionmaker() as session:
        assert (await session.get_one(User, VILLAGER)).blocked_at is not None


# --- 3. the console delivers its own user's notifications only -------------------------------


async def test_the_console_leaves_other_chats_notifications_to_the_running_bot(
    db: Database, clock: Clock, worker: OutboxWorker, telegram: Telegram
) -> None:
    async with db.sessionmaker() as session:
        session.add_all(
            [
                OutboxMessage(chat_id=CADRE, text="for the cadre"),
                OutboxMessage(chat_id=VILLAGER, text="for the console's user"),
            ]
        )
        await session.commit()
    out = io.StringIO()
    bot = Bot(TOKEN, session=telegram)
    console = Console(Dispatcher(), bot, telegram, VILLAGER, "en", out=out, outbox=worker)
    await console.handle_line("hello")
    assert "bot> for the console's user" in out.getvalue()
    to_cadre, to_villager = await rows(db)
    assert (to_cadre.sent_at, to_cadre.locked_until, to_cadre.attempts) == (None, None, 0)
    assert to_villager.sent_at is not None
    async with db.sessionmaker() as session:
        [claimed] = await OutboxRepo(session).claim(clock.now, 5, "bot", chat_id=CADRE)
    assert claimed.text == "for the cadre"


# --- 7. leases: short, kept alive while sending, released by a restarted instance ------------


async def test_a_restarted_instance_sends_the_rows_it_held_at_once(
    db: Database, clock: Clock, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    case = await submit(db, clock)
    async with db.sessionmaker() as session:  # claimed, then the process was killed
        assert len(await OutboxRepo(session).claim(clock.now, 5, "bot-1")) == 1
    other = OutboxWorker(Bot(TOKEN, session=LocalSession()), db.sessionmaker, clock, instance="b")
    assert await other.send_due() == 0  # another instance respects the lease
    restarted = OutboxWorker(
        Bot(TOKEN, session=telegram), db.sessionmaker, clock, 0.01, instance="bot-1"
    )
    running = asyncio.create_task(restarted.run())
    try:
        for _ in range(500):
            if delivered(telegram):
                break
            await asyncio.sleep(0.01)
    finally:  # stopped before the database closes: a worker mid-query would hang the teardown
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert delivered(telegram) == [(CADRE, f"new_case {case.number}")]


async def test_a_restart_releases_only_its_own_leases(db: Database, clock: Clock) -> None:
    """Starting up, an instance ends the leases it held before it stopped — never the ones of a
    replica that is sending right now (TESTING.md: a surviving mutant found this untested)."""
    await people(db, (CADRE, Role.CADRE, TOWNSHIP), (CADRE_2, Role.CADRE, TOWNSHIP))
    await submit(db, clock)
    async with db.sessionmaker() as session:
        repo = OutboxRepo(session)
        [mine] = await repo.claim(clock.now, 1, "bot-1")
        [theirs] = await repo.claim(clock.now, 1, "bot-2")
        await session.commit()
        assert await repo.release("bot-1") == 1
        await session.commit()
    held = {row.id: row.locked_by for row in await rows(db)}
    assert held[mine.id] is None
    assert held[theirs.id] == "bot-2"


async def test_a_heartbeat_renews_only_its_own_leases(db: Database, clock: Clock) -> None:
    """A replica whose lease ran out and was taken over cannot take the row back by beating."""
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    await submit(db, clock)
    async with db.sessionmaker() as session:
        repo = OutboxRepo(session)
        [row] = await repo.claim(clock.now, 1, "slow")
        await session.commit()
        clock.advance(minutes=1)  # its lease ran out; another replica takes the row
        assert [taken.id for taken in await repo.claim(clock.now, 1, "fast")] == [row.id]
        await session.commit()
        await repo.extend([row.id], "slow", clock.now + timedelta(minutes=5))
        await session.commit()
    [after] = [stored for stored in await rows(db) if stored.id == row.id]
    assert after.locked_by == "fast"
    assert after.locked_until is not None
    assert after.locked_until < clock.now + timedelta(minutes=1)


async def test_a_dead_instances_rows_wait_for_a_short_lease_only(
    db: Database, clock: Clock, worker: OutboxWorker
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    await submit(db, clock)
    hanging = GatedSession()
    dying = OutboxWorker(Bot(TOKEN, session=hanging), db.sessionmaker, clock, instance="gone")
    task = asyncio.create_task(dying.send_due())
    await asyncio.wait_for(hanging.started.wait(), 5)
    task.cancel()  # killed in the middle of a send, its heartbeat with it
    with contextlib.suppress(asyncio.CancelledError):
        await task
    clock.advance(seconds=29)
    assert await worker.send_due() == 0
    clock.advance(seconds=2)
    assert await worker.send_due() == 1


async def test_a_heartbeat_keeps_the_lease_of_a_slow_send(
    db: Database, clock: Clock, telegram: Telegram
) -> None:
    await people(db, (CADRE, Role.CADRE, TOWNSHIP))
    await submit(db, clock)
    slow = GatedSession()
    sending = OutboxWorker(
        Bot(TOKEN, session=slow), db.sessionmaker, clock, instance="a", heartbeat_seconds=0.01
    )
    other = OutboxWorker(Bot(TOKEN, session=telegram), db.sessionmaker, clock, instance="b")
    task = asyncio.create_task(sending.send_due())
    await asyncio.wait_for(slow.started.wait(), 5)
    clock.advance(minutes=10)  # far past any lease, but the sender is alive
    await asyncio.sleep(0.1)
    assert await other.send_due() == 0
    slow.gate.set()
    assert await task == 1
    assert [call.params["chat_id"] for call in slow.calls] == [CADRE]
    assert telegram.calls == []
    [row] = await rows(db)
    assert row.sent_at is not None
    assert row.locked_until is None


class KilledAtSecondSend(LocalSession):
    """The first sendMessage goes through; the second never returns (the process is killed)."""

    def __init__(self) -> None:
        super().__init__()
        self.sends = 0
        self.second = asyncio.Event()

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        if method.__api_method__ == "sendMessage":
            self.sends += 1
            if self.sends == 2:
                self.second.set()
                await asyncio.Event().wait()
        return await super().make_request(bot, method, timeout)


async def test_a_message_sent_before_a_crash_is_not_sent_again(
    db: Database, clock: Clock, telegram: Telegram
) -> None:
    async with db.sessionmaker() as session:
        for text in ("first", "second"):
            session.add(OutboxMessage(chat_id=CADRE, text=text, next_attempt_at=clock.now))
        await session.commit()
    killed = KilledAtSecondSend()
    dying = OutboxWorker(Bot(TOKEN, session=killed), db.sessionmaker, clock, instance="bot-1")
    task = asyncio.create_task(dying.send_due())
    await asyncio.wait_for(killed.second.wait(), 5)
    task.cancel()  # killed while Telegram has the second message of the batch
    with contextlib.suppress(asyncio.CancelledError):
        await task
    first, second = await rows(db)
    assert (first.sent_at, second.sent_at) == (clock.now, None)  # each committed once sent
    restarted = OutboxWorker(Bot(TOKEN, session=telegram), db.sessionmaker, clock, instance="bot-1")
    await restarted.release_own()
    await deliver(restarted)
    assert delivered(killed) + delivered(telegram) == [(CADRE, "first"), (CADRE, "second")]


class SlowSends(LocalSession):
    """Each sendMessage takes 20 s of the fake clock (a slow network, the rate limiter)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        if method.__api_method__ == "sendMessage":
            self.clock.advance(seconds=20)
        return await super().make_request(bot, method, timeout)


async def test_a_lane_whose_heartbeat_fails_stops_before_its_lease_runs_out(
    db: Database, clock: Clock, telegram: Telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lease unrenewed (the database unreachable for the heartbeat), a replica could take the
    rows meanwhile: the lane sends nothing more, and each row is sent exactly once."""
    async with db.sessionmaker() as session:
        for text in ("first", "second", "third"):
            session.add(OutboxMessage(chat_id=CADRE, text=text, next_attempt_at=clock.now))
        await session.commit()

    async def unreachable(*_: Any) -> None:
        raise ConnectionError("the database is unreachable")

    monkeypatch.setattr(OutboxRepo, "extend", unreachable)
    slow = SlowSends(clock)
    lonely = OutboxWorker(
        Bot(TOKEN, session=slow), db.sessionmaker, clock, instance="a", heartbeat_seconds=0.001
    )
    assert await lonely.send_due() == 3  # claimed three
    assert delivered(slow) == [(CADRE, "first"), (CADRE, "second")]  # 40 s: the lease is gone
    clock.advance(seconds=1)
    other = OutboxWorker(Bot(TOKEN, session=telegram), db.sessionmaker, clock, instance="b")
    await deliver(other)
    assert delivered(telegram) == [(CADRE, "third")]


class OneChatStuck(LocalSession):
    """Every message to GROUP waits at the gate (its pace, a long 429); others go at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        if getattr(method, "chat_id", None) == GROUP:
            await self.gate.wait()
        return await super().make_request(bot, method, timeout)


async def eventually(check: Callable[[], bool], seconds: float = 5) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time")


async def test_one_slow_chat_holds_up_no_other_chat(db: Database, clock: Clock) -> None:
    async with db.sessionmaker() as session:
        for chat in (GROUP, GROUP, GROUP, CADRE, CADRE_2):  # the group's rows are the oldest
            session.add(OutboxMessage(chat_id=chat, text=f"to {chat}", next_attempt_at=clock.now))
        await session.commit()
    stuck = OneChatStuck()
    worker = OutboxWorker(Bot(TOKEN, session=stuck), db.sessionmaker, clock, poll_seconds=0.05)
    running = asyncio.create_task(worker.run())
    try:
        # The cadres get theirs while the group's first message still waits.
        await eventually(
            lambda: {call.params["chat_id"] for call in stuck.calls} == {CADRE, CADRE_2}
        )
        stuck.gate.set()
        await eventually(lambda: len(stuck.calls) == 5)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    to_group = [call.text for call in stuck.calls if call.params["chat_id"] == GROUP]
    assert to_group == [f"to {GROUP}"] * 3  # in order, each once


# --- settings -----------------------------------------------------------------------------


def test_the_outbox_settings_are_validated_and_used() -> None:
    with pytest.raises(ConfigError, match="HUHUQING_OUTBOX_GIVE_UP_DAYS"):
        load_settings(_env_file=None, outbox_give_up_days=0)
    with pytest.raises(ConfigError, match="HUHUQING_INSTANCE_NAME"):
        load_settings(_env_file=None, instance_name="bot 1; rm")
    settings = load_settings(_env_file=None, outbox_give_up_days=3, instance_name="bot-7")
    worker = OutboxWorker.from_settings(
        Bot(TOKEN, session=LocalSession()), async_sessionmaker(), settings
    )
    assert (worker.instance, worker.give_up_after) == ("bot-7", timedelta(days=3))
    assert load_settings(_env_file=None).instance_name  # the host's name by default
