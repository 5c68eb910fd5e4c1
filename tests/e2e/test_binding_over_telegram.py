"""Binding end to end over HTTP: the real dispatcher long-polls the fake Bot API; a cadre creates a
code and gets its QR code, the villager opens the deep link and is bound."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher, prepare
from bot.config import Settings
from db import migrate
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.models import HouseholdBinding, Role, User
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from tests.fakes.telegram_server import DEFAULT_TOKEN, Call, FakeTelegramServer
from tests.qr_check import assert_qr_of

VILLAGER = 7101
CADRE = 7102  # 以古镇 (530627101)
HOUSEHOLD = "SAMPLE-530627101201-01"  # 红星村: 张三明


@pytest.fixture
async def running(tmp_path) -> AsyncIterator[tuple[FakeTelegramServer, Database]]:
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
            await UserRepo(session).grant(CADRE, Role.CADRE, "530627101")
        bot = create_bot(settings)
        dispatcher = create_dispatcher(settings, database, MemoryStorage())
        await prepare(dispatcher)
        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        await telegram.wait_for("getUpdates", timeout=10)
        yield telegram, database
        await dispatcher.stop_polling()
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        await bot.session.close()
        await database.close()


def to(chat: int) -> Callable[[Call], bool]:
    return lambda call: str(call.params.get("chat_id")) == str(chat)


async def test_a_cadre_creates_a_code_and_the_villager_binds_by_deep_link(
    running: tuple[FakeTelegramServer, Database],
) -> None:
    telegram, database = running
    telegram.send_text(CADRE, f"/bindcode {HOUSEHOLD}")
    sent: Call = await telegram.wait_for("sendMessage", to(CADRE), timeout=10)
    code = re.search(r"<b>(\w{4}-\w{4})</b>", sent.params["text"]).group(1)
    link = re.search(r"https://t\.me/\S+", sent.params["text"]).group(0)
    assert link == f"https://t.me/huhuqing_bot?start=bind_{code.replace('-', '')}"
    photo: Call = await telegram.wait_for("sendPhoto", to(CADRE), timeout=10)
    assert "明白卡" in photo.params["caption"]
    assert_qr_of(photo.params["photo"].data, link)

    # Opening the link in Telegram sends "/start bind_<code>" from the villager.
    telegram.send_text(VILLAGER, "/start " + link.rsplit("=", 1)[1])
    told: Call = await telegram.wait_for("sendMessage", to(VILLAGER), timeout=10)
    assert "已绑定：红星村 张*明 户" in told.params["text"]
    async with database.sessionmaker() as session:
        binding = await session.scalar(select(HouseholdBinding))
        villager = await session.get(User, VILLAGER)
    assert (binding.telegram_id, binding.unbound_at) == (VILLAGER, None)
    assert villager.region_code == "530627101201"
