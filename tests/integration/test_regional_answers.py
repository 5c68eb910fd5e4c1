"""A regional rule reaches only its region: the bot asks a newcomer's village first, and tells a
user of another region honestly that their documents do not say."""

from __future__ import annotations

from db.models import Region
from db.session import Database
from handlers.keyboards import AnswerShow
from tests.harness import BotHarness, texts_of

NEWCOMER = 611
INCOME_LINE = "贫困户识别的收入标准是多少"  # only Changchun's document sets one (3200元)
FIRST_SECRETARY = "第一书记要在村里住多久"  # Yunnan and Changchun each have their rule


async def choose_village(harness: BotHarness, user: int, village: str) -> list:
    await harness.send(user, "/start")
    return await harness.send(user, village)


async def test_a_newcomer_is_asked_for_the_village_and_then_answered_for_it(
    harness: BotHarness,
) -> None:
    asked = await harness.send(NEWCOMER, INCOME_LINE)
    assert "3200" not in texts_of(asked)
    assert "请先告诉我您在哪个村" in texts_of(asked)

    answered = await harness.send(NEWCOMER, "陈家店村")  # a village of Changchun
    text = texts_of(answered)
    assert "已保存" in text
    assert "3200" in text
    assert "适用地区：长春市" in text
    assert "发布于 2017" in text


async def test_a_newcomer_in_another_region_is_told_their_documents_do_not_say(
    harness: BotHarness,
) -> None:
    await harness.send(NEWCOMER, INCOME_LINE)
    answered = texts_of(await harness.send(NEWCOMER, "红星村"))  # a village of Yunnan
    assert "您所在地区的文件里没有说到这件事" in answered
    assert "我只知道长春市的规定（2017）" in answered


async def test_a_question_naming_its_region_is_answered_for_that_region(
    harness: BotHarness,
) -> None:
    [reply] = await harness.send(NEWCOMER, "长春" + INCOME_LINE)
    assert "3200" in reply.text
    assert "适用地区：长春市" in reply.text


async def test_a_yunnan_villager_is_never_given_changchuns_line_as_their_own(
    harness: BotHarness,
) -> None:
    await choose_village(harness, NEWCOMER, "红星村")
    [reply] = await harness.send(NEWCOMER, INCOME_LINE)
    assert reply.text.startswith("您所在地区的文件里没有说到这件事")
    assert "👎" in [label for label, _ in reply.buttons]


async def test_traditional_and_english_users_get_the_notice_in_their_language(
    harness: BotHarness,
) -> None:
    await choose_village(harness, NEWCOMER, "紅星村")
    [reply] = await harness.send(NEWCOMER, INCOME_LINE, lang="zh-TW")
    assert reply.text.startswith("您所在地區的文件")
    await choose_village(harness, NEWCOMER + 1, "红星村")
    [reply] = await harness.send(NEWCOMER + 1, INCOME_LINE, lang="en")
    assert reply.text.startswith("The documents I have for your area say nothing about this")


async def test_a_villagers_topic_list_holds_their_regions_rules_and_the_general_ones(
    harness: BotHarness,
) -> None:
    await choose_village(harness, NEWCOMER, "红星村")  # Yunnan
    await harness.send(NEWCOMER, "/topics")
    calls = await harness.press(NEWCOMER, "贫困识别")
    listing = next(call for call in calls if call.method == "sendMessage")
    shown = {
        AnswerShow.unpack(data).entry_id for _, data in listing.buttons if data.startswith("kbs:")
    }
    index = await harness.dispatcher["knowledge"].index()
    assert shown
    assert all(index.get(entry_id).region in ("all", "云南省") for entry_id in shown)
    assert "identification.income_line" not in shown  # Changchun's 3200元 line


async def test_a_county_imported_without_its_province_still_gets_the_provinces_rules(
    harness: BotHarness, database: Database
) -> None:
    """A county office imports its own county and below; its villagers are still in Yunnan."""
    async with database.sessionmaker() as session:
        county = await session.get(Region, "530627")  # 镇雄县, parent of 红星村's township
        county.parent_code = None
        await session.commit()
    await choose_village(harness, NEWCOMER, "红星村")
    [reply] = await harness.send(NEWCOMER, FIRST_SECRETARY)
    assert "8502个贫困村" in reply.text  # Yunnan's rule, as the villager's own
    assert "适用地区：云南省" in reply.text
    assert "长春" not in reply.text


async def test_a_province_imported_under_its_short_name_still_gets_its_rules(
    harness: BotHarness, database: Database
) -> None:
    async with database.sessionmaker() as session:
        (await session.get(Region, "530000")).name = "云南"  # the entries say 云南省
        await session.commit()
    await choose_village(harness, NEWCOMER, "红星村")
    [reply] = await harness.send(NEWCOMER, FIRST_SECRETARY)
    assert reply.text.startswith("2018年云南")  # as the villager's own rule, not another's
