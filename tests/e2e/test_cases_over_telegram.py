"""Grievances end to end over HTTP: the real dispatcher long-polls the fake Bot API, the outbox
worker sends the notifications, deadlines run on a controllable clock."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import create_bot, create_dispatcher, prepare
from bot.config import Settings
from bot.outbox import OutboxWorker
from db import migrate
from db.models import Case, Role, UnitChat
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import open_database
from db.users import UserRepo
from grievances.deadlines import check_deadlines
from tests.e2e.conftest import ROOT, Running
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer

VILLAGER = 7001  # 红星村 under 以古镇 (530627101), 镇雄县 (530627)
CADRE = 7002  # 以古镇, acting in the township's group
OTHER_CADRE = 7003  # 塘房镇 (530627102)
COUNTY_CADRE = 7004  # 镇雄县
ADMIN = 7005
GROUP = -100555123


@pytest.fixture
async def running(tmp_path) -> AsyncIterator[Running]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    await migrate.upgrade_async(url)
    async with FakeTelegramServer() as telegram:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=url,
            bot_token=DEFAULT_TOKEN,
            telegram_api_url=telegram.base_url,
            # The flows, not Telegram's pace (tests/unit/test_ratelimit.py): a group's 20 a
            # minute would make each cadre step here wait seconds.
            outbound_pacing=False,
        )
        database = await open_database(url)
        async with database.sessionmaker() as session:
            await import_regions(session, SAMPLE_REGIONS)
            users = UserRepo(session)
            for user, role, area in (
                (CADRE, Role.CADRE, "530627101"),
                (OTHER_CADRE, Role.CADRE, "530627102"),
                (COUNTY_CADRE, Role.CADRE, "530627"),
                (ADMIN, Role.ADMIN, None),
            ):
                await users.grant(user, role, area)
            session.add(UnitChat(region_code="530627101", chat_id=GROUP, linked_by=ADMIN))
            await session.commit()
        from aiogram.fsm.storage.memory import MemoryStorage

        bot = create_bot(settings)
        dispatcher = create_dispatcher(settings, database, MemoryStorage())
        await prepare(dispatcher)
        tasks = [
            asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False)),
            asyncio.create_task(OutboxWorker(bot, database.sessionmaker, poll_seconds=0.1).run()),
        ]
        running = Running(telegram, database, dispatcher, url)
        await telegram.wait_for("getUpdates", timeout=10)
        await running.say(VILLAGER, "/start")
        await running.say(VILLAGER, "红星村")
        await running.expect(VILLAGER, "已保存")
        yield running
        await dispatcher.stop_polling()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.session.close()
        await database.close()


async def report(running: Running, description: str) -> Case:
    await running.say(VILLAGER, "/report")
    await running.expect(VILLAGER, "反映")
    await running.press(VILLAGER, "rc:water")
    await running.press(VILLAGER, "rs:place_ok")
    await running.say(VILLAGER, description)
    await running.expect(VILLAGER, "已添加")
    await running.press(VILLAGER, "rs:done")
    await running.press(VILLAGER, "rs:anonymous")
    await running.press(VILLAGER, "rs:submit")
    case = await running.case()
    await running.expect(VILLAGER, case.number)
    return case


async def test_report_to_rating_and_statistics(running: Running) -> None:
    case = await report(running, "自来水停了三天")
    # The township's group gets the case with the action buttons; the reporter's id is hidden.
    notice = await running.expect(GROUP, case.number)
    assert "自来水停了三天" in notice.params["text"]
    assert str(VILLAGER) not in json.dumps(notice.params)

    await running.press(CADRE, f"ca:{case.id}:accept", chat=GROUP)
    await running.expect(VILLAGER, "受理")

    await running.press(CADRE, f"ca:{case.id}:reply", chat=GROUP)
    await running.say(CADRE, "明天派人来修", chat=GROUP)
    await running.expect(VILLAGER, "明天派人来修")

    await running.press(CADRE, f"ca:{case.id}:resolve", chat=GROUP)
    await running.press(CADRE, f"co:{case.id}:fixed", chat=GROUP)
    await running.say(CADRE, "水管修好了", chat=GROUP)
    await running.expect(VILLAGER, "水管修好了")

    await running.press(VILLAGER, f"cr:{case.id}:satisfied")
    await running.expect(VILLAGER, "已结案")

    # The statistics count it: the admin's /stats, and the command line's JSON.
    await running.say(ADMIN, "/stats")
    await running.telegram.wait_for("sendPhoto", timeout=10)
    await running.expect(ADMIN, "以古镇")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "cases", "stats", "--json",
        stdout=subprocess.PIPE, cwd=ROOT, env={"HUHUQING_DATABASE_URL": running.url},
    )  # fmt: skip
    stdout, _ = await process.communicate()
    [township] = json.loads(stdout)["townships"]
    assert township["township"] == "以古镇"
    assert (township["cases"], township["resolved"], township["satisfied"]) == (1, 1, 1)
    assert township["response_rate"] == township["satisfaction_rate"] == 1.0


async def test_missed_deadline_escalates_to_the_county(running: Running) -> None:
    case = await report(running, "一直没人受理")
    await running.expect(GROUP, case.number)
    render = running.dispatcher["render"]
    await check_deadlines(running.database.sessionmaker, render, case.accept_due + timedelta(1))
    escalated = await running.expect(COUNTY_CADRE, case.number)
    assert "⚠️" in escalated.params["text"]
    await running.expect(VILLAGER, "镇雄县")
    await running.press(COUNTY_CADRE, f"ca:{case.id}:accept")
    await running.expect(VILLAGER, "受理")
    assert (await running.case()).unit_code == "530627"


async def test_transfer_to_another_township(running: Running) -> None:
    case = await report(running, "这是塘房镇的水管")
    await running.expect(GROUP, case.number)
    await running.press(CADRE, f"ca:{case.id}:transfer", chat=GROUP)
    await running.press(CADRE, f"ca:{case.id}:to-530627102", chat=GROUP)
    await running.say(CADRE, "水管归塘房镇管", chat=GROUP)
    moved = await running.expect(OTHER_CADRE, case.number)
    assert "水管归塘房镇管" in moved.params["text"]
    await running.expect(VILLAGER, "塘房镇")
    assert (await running.case()).unit_code == "530627102"
