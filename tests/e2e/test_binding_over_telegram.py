"""A household's whole journey over HTTP: the real dispatcher long-polls the fake Bot API and the
outbox worker sends the notifications. A cadre creates a code and gets its QR card, the villager
binds by the deep link, asks a "我家" question and gets the household's own answer, opens /mycard,
taps "ask my helper" on a gap, and the cadre receives that case."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram.fsm.storage.memory import MemoryStorage
from PIL import Image
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher, prepare
from bot.config import Settings
from bot.outbox import OutboxWorker
from db import migrate
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.models import Case, HouseholdBinding, Role, User
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import open_database
from db.users import UserRepo
from tests.e2e.conftest import Running
from tests.fakes.telegram_server import DEFAULT_TOKEN, Call, FakeTelegramServer
from tests.qr_check import assert_qr_of

VILLAGER = 7101
CADRE = 7102  # 隆兴昌镇 (150821101), 五原县
HOUSEHOLD = "SAMPLE-150821101202-02"  # 新丰村 宋文军: may lack 医疗救助 and 防贫保


@pytest.fixture
async def running(tmp_path) -> AsyncIterator[Running]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    await migrate.upgrade_async(url)
    async with FakeTelegramServer() as telegram:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=url, bot_token=DEFAULT_TOKEN,
            telegram_api_url=telegram.base_url,
        )  # fmt: skip
        database = await open_database(url)
        async with database.sessionmaker() as session:
            await import_regions(session, SAMPLE_REGIONS)
            await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
            await UserRepo(session).grant(CADRE, Role.CADRE, "150821101")
        bot = create_bot(settings)
        dispatcher = create_dispatcher(settings, database, MemoryStorage())
        await prepare(dispatcher)
        tasks = [
            asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False)),
            asyncio.create_task(OutboxWorker(bot, database.sessionmaker, poll_seconds=0.1).run()),
        ]
        await telegram.wait_for("getUpdates", timeout=10)
        yield Running(telegram, database, dispatcher, url)
        await dispatcher.stop_polling()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.session.close()
        await database.close()


def to(chat: int) -> Callable[[Call], bool]:
    return lambda call: str(call.params.get("chat_id")) == str(chat)


async def test_bind_by_link_ask_open_the_card_and_ask_the_helper(running: Running) -> None:
    telegram, database = running.telegram, running.database
    await running.say(CADRE, f"/bindcode {HOUSEHOLD}")
    sent: Call = await telegram.wait_for("sendMessage", to(CADRE), timeout=10)
    code = re.search(r"<b>(\w{4}-\w{4})</b>", sent.params["text"]).group(1)
    link = re.search(r"https://t\.me/\S+", sent.params["text"]).group(0)
    assert link == f"https://t.me/huhuqing_bot?start=bind_{code.replace('-', '')}"
    qr: Call = await telegram.wait_for("sendPhoto", to(CADRE), timeout=10)
    assert "明白卡" in qr.params["caption"]
    assert_qr_of(qr.params["photo"].data, link)

    # Opening the link in Telegram sends "/start bind_<code>" from the villager.
    await running.say(VILLAGER, "/start " + link.rsplit("=", 1)[1])
    await running.expect(VILLAGER, "已绑定：新丰村 宋*军 户")
    async with database.sessionmaker() as session:
        binding = await session.scalar(select(HouseholdBinding))
        villager = await session.get(User, VILLAGER)
    assert (binding.telegram_id, binding.unbound_at) == (VILLAGER, None)
    assert villager.region_code == "150821101202"

    # A "我家" question gets the household's own answer, with its gaps and a button each.
    since = telegram.mark()
    await running.say(VILLAGER, "俺家还能享受啥政策")
    answer = await running.expect(VILLAGER, "新丰村 宋*军", since=since)
    assert "医疗救助" in answer.params["text"]
    assert "防贫保" in answer.params["text"]

    # /mycard: the card as text, then as pictures.
    since = telegram.mark()
    await running.say(VILLAGER, "/mycard")
    card = await running.expect(VILLAGER, "12317", since=since)
    assert "宋文军" not in card.params["text"]
    photo: Call = await telegram.wait_for("sendPhoto", to(VILLAGER), since=since, timeout=10)
    assert Image.open(io.BytesIO(photo.params["photo"].data)).width == 720

    # One tap asks the helper cadre: a 待遇咨询 case for the township, with the household.
    since = telegram.mark()
    await running.press(VILLAGER, "hga:")
    received = await running.expect(VILLAGER, "编号", since=since)
    case: Case = await running.case()
    assert case.number in received.params["text"]
    async with database.sessionmaker() as session:
        household = await HouseholdRepo(session).get(HOUSEHOLD)
    assert (case.category, case.household_id, case.unit_code) == (
        "benefit_inquiry", household.id, "150821101",
    )  # fmt: skip
    notified = await running.expect(CADRE, case.number)
    assert "待遇咨询" in notified.params["text"]
    assert "宋*军" in notified.params["text"]
    assert "宋文军" not in notified.params["text"]
