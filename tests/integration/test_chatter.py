"""Talk that is not a question: a greeting gets a greeting, thanks a short word; a question
outside the knowledge base gets an honest "I don't know", not unrelated suggestions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import UnansweredQuestion
from db.session import Database
from tests.harness import BotHarness, texts_of

VILLAGER = 611


def labels(calls: list) -> list[str]:
    return [label for call in calls for label, _ in call.buttons]


def suggested(calls: list) -> list[str]:
    return [data for call in calls for _, data in call.buttons if data.startswith("kbs:")]


@pytest.mark.parametrize(
    "greeting",
    [
        "你好",
        "您好！",
        "在吗",
        "在吗？",
        "有人吗",
        "老师好",
        "你是谁",
        # who or what the bot is, in the regions' words
        "你是不是机器人",
        "你是干嘛的哟",
        "整啥呢你",
        "您是做甚的呀",
        "这是个什么东西",
    ],
)
async def test_a_greeting_gets_a_greeting_and_the_topics(
    harness: BotHarness, greeting: str
) -> None:
    calls = await harness.send(VILLAGER, greeting)
    text = texts_of(calls)
    assert text.startswith("您好！我能回答扶贫政策方面的问题")
    assert "/report" in text
    assert "请用文字输入" not in text
    assert {"小额信贷", "看病报销", "饮水安全"} <= set(labels(calls))
    assert suggested(calls) == []  # no policy entry is offered for a "在吗"


async def test_thanks_and_goodbye_get_a_short_word(harness: BotHarness) -> None:
    for thanks in ("谢谢", "谢谢你！", "好的，谢谢", "非常感谢"):
        calls = await harness.send(VILLAGER, thanks)
        assert texts_of(calls) == "不客气！有问题随时再问我。"
        assert labels(calls) == []
    assert texts_of(await harness.send(VILLAGER, "再见")) == "再见！有问题随时来问我。"
    assert texts_of(await harness.send(VILLAGER, "好的")) == "好的。还有别的问题，直接打字问我。"


async def test_talk_in_the_readers_language(harness: BotHarness) -> None:
    assert texts_of(await harness.send(VILLAGER, "你好", lang="zh-TW")).startswith(
        "您好！我能回答扶貧政策方面的問題"
    )
    assert texts_of(await harness.send(VILLAGER, "謝謝")) == "不客氣！有問題隨時再問我。"
    assert texts_of(await harness.send(VILLAGER, "thanks", lang="en")).startswith(
        "You are welcome!"
    )


async def test_a_greeting_with_a_question_is_answered(harness: BotHarness) -> None:
    reply = texts_of(await harness.send(VILLAGER, "你好，小额信贷能贷多少钱"))
    assert "5万元" in reply


@pytest.mark.parametrize("question", ["天气怎么样", "明天会下雨吗", "玉米多少钱一斤"])
async def test_a_question_outside_the_policies_gets_an_honest_no(
    harness: BotHarness, database: Database, question: str
) -> None:
    calls = await harness.send(VILLAGER, question)
    text = texts_of(calls)
    assert "没找到相关内容" in text
    assert "12317" in text
    assert "小额信贷" in labels(calls)  # the topics
    assert suggested(calls) == []
    async with database.sessionmaker() as session:
        stored = (await session.scalars(select(UnansweredQuestion.text))).all()
    assert list(stored) == [question]  # the administrators see what was asked


async def test_talk_is_not_stored_as_an_unanswered_question(
    harness: BotHarness, database: Database
) -> None:
    for talk in ("你好", "在吗", "谢谢"):
        await harness.send(VILLAGER, talk)
    async with database.sessionmaker() as session:
        assert (await session.scalars(select(UnansweredQuestion))).all() == []


async def test_a_particular_name_or_number_is_told_where_to_find_it(
    harness: BotHarness, database: Database
) -> None:
    """No document holds the 第一书记's number: the villager is told where such numbers are
    (the 明白纸, the household's record), not given the first secretary's duties."""
    calls = await harness.send(VILLAGER, "第一书记的电话是多少")
    text = texts_of(calls)
    assert text.startswith("政策文件里没有具体的人名、电话、地址和日子")
    assert "明白纸" in text
    assert "12317" in text
    assert "200天" not in text  # not Changchun's rule on how long they stay
    assert suggested(calls) == []
    async with database.sessionmaker() as session:
        stored = (await session.scalars(select(UnansweredQuestion))).all()
    assert [(row.text, row.decision) for row in stored] == [("第一书记的电话是多少", "particular")]
    english = texts_of(await harness.send(VILLAGER + 1, "第一书记的电话是多少", lang="en"))
    assert english.startswith("The policy documents hold no particular names")
