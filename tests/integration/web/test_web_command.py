"""/web in the bot: a cadre or admin gets a one-time link that signs them in to the console;
nobody else gets one, and never in a group."""

from __future__ import annotations

import re

import pytest

from bot.config import Settings
from db.models import Role
from db.session import Database
from tests.harness import BotHarness, texts_of
from tests.integration.web.conftest import YIGU, Console, give_role

pytestmark = pytest.mark.both_databases
CADRE, VILLAGER = 7401, 7402
LINK = re.compile(r'href="([^"]+/signin/[^"]+)"')


async def test_a_cadre_signs_in_with_the_link_the_bot_sent(
    harness: BotHarness, console: Console, database: Database, settings: Settings
) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    [reply] = await harness.send(CADRE, "/web")
    assert "10分钟" in reply.params["text"]
    assert reply.params["link_preview_options"]["is_disabled"] is True
    [link] = LINK.findall(reply.params["text"])
    assert link.startswith(f"{settings.web_url}/signin/")
    path = link.removeprefix(settings.web_url)
    assert (await console.client.get(path)).status == 200  # the page with its button
    assert (await console.client.post(path)).status == 200
    assert "以古镇" in await console.text("/")
    assert (await console.client.post(path)).status == 410  # once only


async def test_in_english_the_link_message_is_english(
    harness: BotHarness, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    text = texts_of(await harness.send(CADRE, "/web", lang="en"))
    assert "works once, within 10 minutes" in text


async def test_villagers_get_no_link(harness: BotHarness) -> None:
    text = texts_of(await harness.send(VILLAGER, "/web"))
    assert "只供干部和管理员使用" in text
    assert "/signin/" not in text


async def test_no_link_is_posted_in_a_group(harness: BotHarness, database: Database) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    text = texts_of(await harness.send_in(-100555, CADRE, "/web"))
    assert "私聊" in text
    assert "/signin/" not in text


async def test_a_cadre_without_an_area_is_told_to_ask_for_one(
    harness: BotHarness, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, None)
    text = texts_of(await harness.send(CADRE, "/web"))
    assert "还没有负责的地区" in text
    assert "/signin/" not in text
