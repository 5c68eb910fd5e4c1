"""Typing instead of pressing during /report: the words stay in the report, the flow goes on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Case
from db.session import Database
from db.users import UserRepo
from tests.harness import BotHarness, texts_of
from tests.integration.conftest import villager_and_cadre

VILLAGER = 720  # 红星村
NEWCOMER = 721  # village not known
CADRE = 820
ASKS_PLACE = "事情发生在您的村（云南省昭通市镇雄县以古镇红星村）吗？"


@pytest.fixture
async def people(database: Database) -> None:
    await villager_and_cadre(database, VILLAGER, CADRE)
    async with database.sessionmaker() as session:
        await UserRepo(session).touch(NEWCOMER)
        await session.commit()


async def the_case(database: Database) -> Case:
    async with database.sessionmaker() as session:
        return await session.scalar(select(Case))


async def submit(harness: BotHarness, user: int) -> None:
    await harness.press_prefix(user, "rs:done")
    await harness.press_prefix(user, "rs:anonymous")
    await harness.press_prefix(user, "rs:submit")


def labels(calls: list) -> list[str]:
    return [label for call in calls for label, _ in call.buttons]


async def test_a_category_typed_by_name_is_chosen(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report")
    reply = await harness.send(VILLAGER, "饮水")
    assert texts_of(reply) == ASKS_PLACE
    described = texts_of(await harness.press_prefix(VILLAGER, "rs:place_ok"))
    assert "已收到您的消息" not in described  # "饮水" names the category, it is no description
    await harness.send(VILLAGER, "村里的水管冻裂了")
    await submit(harness, VILLAGER)
    case = await the_case(database)
    assert (case.category, case.description) == ("water", "村里的水管冻裂了")


async def test_a_complaint_typed_at_the_category_step_is_kept(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report")
    # It names its category (水管: drinking water) and tells the problem: both are kept.
    assert texts_of(await harness.send(VILLAGER, "水管坏了三个月了没人来修")) == ASKS_PLACE
    described = texts_of(await harness.press_prefix(VILLAGER, "rs:place_ok"))
    assert "已收到您的消息：“水管坏了三个月了没人来修”" in described
    await submit(harness, VILLAGER)
    case = await the_case(database)
    assert (case.category, case.description) == ("water", "水管坏了三个月了没人来修")


async def test_a_complaint_naming_no_category_asks_for_one_and_keeps_the_words(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report")
    reply = await harness.send(VILLAGER, "路灯坏了半年了")
    assert texts_of(reply).startswith("您说的话我已经记下")
    assert {"饮水", "危房改造", "取消"} <= set(labels(reply))  # still in the report flow
    await harness.press_prefix(VILLAGER, "rc:other")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await submit(harness, VILLAGER)
    case = await the_case(database)
    assert (case.category, case.description) == ("other", "路灯坏了半年了")


async def test_a_complaint_typed_at_the_village_question_is_not_a_village(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report")
    await harness.press_prefix(VILLAGER, "rc:housing")
    reply = await harness.send(VILLAGER, "屋顶漏雨好几个月了")
    assert "没有找到" not in texts_of(reply)
    assert texts_of(reply) == "您说的话我已经记下，会写进反映的内容里。\n" + ASKS_PLACE
    assert labels(reply) == ["是", "其他地方", "取消"]
    assert "已收到您的消息：“屋顶漏雨好几个月了”" in texts_of(await harness.send(VILLAGER, "是的"))
    await harness.send(VILLAGER, "西墙也裂了")
    await submit(harness, VILLAGER)
    case = await the_case(database)
    assert case.place_code == "530627101201"
    assert case.description == "屋顶漏雨好几个月了\n西墙也裂了"


async def test_a_newcomer_tells_the_problem_then_the_village(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(NEWCOMER, "/report")
    await harness.press_prefix(NEWCOMER, "rc:water")
    reply = texts_of(await harness.send(NEWCOMER, "家里已经停水一个礼拜了"))
    assert reply == "您说的话我已经记下，会写进反映的内容里。\n事情发生在哪个村？请输入村名。"
    # A misspelt village is still asked again as a village.
    assert "没有找到叫“蓝月村”的村" in texts_of(await harness.send(NEWCOMER, "蓝月村"))
    described = texts_of(await harness.send(NEWCOMER, "红星村"))
    assert "已收到您的消息：“家里已经停水一个礼拜了”" in described
    await submit(harness, NEWCOMER)
    case = await the_case(database)
    assert (case.place_code, case.description) == ("530627101201", "家里已经停水一个礼拜了")


async def test_added_comes_with_the_done_button(harness: BotHarness, people: None) -> None:
    await harness.send(VILLAGER, "/report")
    await harness.press_prefix(VILLAGER, "rc:housing")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    reply = await harness.send(VILLAGER, "房子西墙裂开一指宽")
    assert texts_of(reply) == "已添加。可以继续发送，或点“完成”。"
    assert labels(reply) == ["完成", "取消"]


async def test_traditional_readers_see_the_place_in_traditional_characters(
    harness: BotHarness, people: None
) -> None:
    await harness.send(VILLAGER, "/report", lang="zh-TW")
    reply = texts_of(await harness.send(VILLAGER, "飲水"))
    assert "雲南省昭通市鎮雄縣以古鎮紅星村" in reply
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, "水裡有泥沙")
    await harness.press_prefix(VILLAGER, "rs:done")
    review = texts_of(await harness.press_prefix(VILLAGER, "rs:anonymous"))
    assert "地點：雲南省昭通市鎮雄縣以古鎮紅星村" in review


async def test_the_village_picker_speaks_traditional(harness: BotHarness) -> None:
    reply = await harness.send(NEWCOMER, "/start", lang="zh-TW")
    assert {"雲南省", "吉林省"} <= set(labels(reply))
