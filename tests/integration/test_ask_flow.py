"""A villager asks in Telegram: answer with source and buttons, suggestions, topics, feedback."""

from __future__ import annotations

from sqlalchemy import select

from db.knowledge import KnowledgeRepo
from db.models import AnswerFeedback, UnansweredQuestion
from db.session import Database
from handlers.keyboards import AnswerFeedback as FeedbackButton
from handlers.keyboards import AnswerShow
from knowledge.entries import Entry
from knowledge.service import import_entries
from tests.harness import BotHarness, alerts_of, texts_of

VILLAGER = 601


async def rows(database: Database, model) -> list:
    async with database.sessionmaker() as session:
        return list((await session.scalars(select(model))).all())


async def test_answer_names_its_source_and_offers_more_and_feedback(harness: BotHarness) -> None:
    [reply] = await harness.send(VILLAGER, "小额信贷能贷多少钱")
    assert "5万元" in reply.text
    # Each document it rests on, and the clause in it.
    assert (
        "📄 来源：长春市《关于进一步推进脱贫攻坚工作的意见》 八、24.强化扶贫资金投入；"
        in reply.text
    )
    assert "（2020年2月） 二、(二)3.做好扶贫小额信贷工作，发布于 2017" in reply.text
    assert reply.params["reply_parameters"]["message_id"]  # a reply to the question
    labels = [label for label, _ in reply.buttons]
    assert labels == ["更多说明", "👍", "👎"]

    more = await harness.press(VILLAGER, "更多说明")
    assert "巴彦淖尔" in texts_of(more)


async def test_an_unknown_command_is_answered_in_private_only(harness: BotHarness) -> None:
    # A typo, or /skip when there is nothing to skip: never silence.
    for command in ("/fooo", "/skip", "/mycrad"):
        assert texts_of(await harness.send(VILLAGER, command)) == (
            "这个命令在这里用不了。发 /help 看看我能做什么，或者直接打字提问。"
        )
    english = texts_of(await harness.send(VILLAGER, "/fooo", lang="en"))
    assert english.startswith("I cannot do that command here. Send /help")
    # A township's group chat is not answered for every cadre's command.
    assert await harness.send_in(-100123, VILLAGER, "/fooo") == []
    # Known commands still reach their handlers.
    assert "/report" in texts_of(await harness.send(VILLAGER, "/help"))


async def test_traditional_user_gets_traditional_answer(harness: BotHarness) -> None:
    [reply] = await harness.send(VILLAGER, "小額信貸能貸多少錢", lang="zh-TW")
    assert "5萬元" in reply.text
    assert (
        "📄 來源：長春市《關於進一步推進脫貧攻堅工作的意見》 八、24.強化扶貧資金投入；"
        in reply.text
    )


async def test_english_user_gets_the_chinese_answer_with_a_note(harness: BotHarness) -> None:
    [reply] = await harness.send(VILLAGER, "小额信贷能贷多少钱", lang="en")
    assert reply.text.startswith("From the Chinese policy documents")
    assert "5万元" in reply.text
    assert "Source:" in reply.text


async def test_feedback_is_stored_with_the_question(
    harness: BotHarness, database: Database
) -> None:
    await harness.send(VILLAGER, "小额信贷能贷多少钱")
    assert alerts_of(await harness.press(VILLAGER, "👎")) == [
        "谢谢。管理员会看到这个回答没有帮到您。"
    ]
    await harness.send(VILLAGER, "贷款要抵押不")
    await harness.press(VILLAGER, "👍")
    stored = sorted(await rows(database, AnswerFeedback), key=lambda row: row.id)
    assert [(row.helpful, row.question) for row in stored] == [
        (False, "小额信贷能贷多少钱"),
        (True, "贷款要抵押不"),
    ]
    assert stored[0].entry_id == "microcredit.amount"
    assert stored[0].entry_version == 1


async def test_forged_feedback_for_an_unknown_entry_stores_nothing(
    harness: BotHarness, database: Database
) -> None:
    data = FeedbackButton(entry_id="no.such", version=1, helpful=False).pack()
    assert alerts_of(await harness.press_data(VILLAGER, data)) == ["这个选项已经失效了。"]
    assert await rows(database, AnswerFeedback) == []


async def test_out_of_scope_gets_topics_and_hotline_and_is_stored(
    harness: BotHarness, database: Database
) -> None:
    [reply] = await harness.send(VILLAGER, "今天天气怎么样")
    assert "12317" in reply.text
    assert "小额信贷" in reply.buttons[0][0]
    [stored] = await rows(database, UnansweredQuestion)
    assert (stored.text, stored.decision) == ("今天天气怎么样", "out_of_scope")

    topic = await harness.press(VILLAGER, "小额信贷")
    assert "小额信贷能借多少钱" in [label for label, _ in topic[0].buttons]
    answer = await harness.press(VILLAGER, "小额信贷能借多少钱")
    assert "5万元" in texts_of(answer)


async def test_unsure_question_offers_suggestions_that_answer_when_pressed(
    harness: BotHarness, database: Database
) -> None:
    # Two entries that both half-match the question: neither is a clear winner.
    twins = [
        Entry.model_validate(
            {
                "id": f"test.{slug}",
                "topic": "employment",
                "questions": [f"{name}补贴怎么领", f"{name}补贴多少钱", f"{name}补贴标准"],
                "answer": f"{name}补贴按规定发放。",
                "source": {"file": "004_459aa350c9be443e.txt", "clause": "x"},
                "region": "all",
                "effective": "2020-02",
                "general_note": "a test entry",
            }
        )
        for slug, name in (("travel", "交通"), ("training", "培训"))
    ]
    async with database.sessionmaker() as session:
        await import_entries(session, twins, "test")
    harness.dispatcher["knowledge"].check_seconds = 0

    [reply] = await harness.send(VILLAGER, "补贴怎么领")
    assert "不太确定" in reply.text
    assert {AnswerShow.unpack(data).entry_id for _, data in reply.buttons} >= {
        "test.travel",
        "test.training",
    }
    shown = await harness.press(VILLAGER, "交通补贴怎么领")
    assert "交通补贴按规定发放" in texts_of(shown)
    [stored] = await rows(database, UnansweredQuestion)
    assert (stored.text, stored.decision) == ("补贴怎么领", "unsure")


async def test_complaint_is_pointed_to_reporting(harness: BotHarness, database: Database) -> None:
    [reply] = await harness.send(VILLAGER, "我家的补助被克扣了")
    assert "反映" in reply.text
    assert "12317" in reply.text
    assert reply.buttons[0][1] == "rs:start"  # the report flow, with this as its description
    assert await rows(database, UnansweredQuestion) == []  # a complaint is not kept there


async def test_html_and_huge_messages_are_handled_safely(
    harness: BotHarness, database: Database
) -> None:
    # A long message about things the knowledge base does not hold: kept for the admins, cut.
    message = "<script>alert(1)</script> & " + "俺家玉米今年收成不好，集上玉米现在啥价钱？" * 100
    [reply] = await harness.send(VILLAGER, message)
    assert "<script>" not in reply.text
    assert "12317" in reply.text  # the honest "I do not know", not an answer
    [stored] = await rows(database, UnansweredQuestion)
    assert (stored.text, stored.decision) == (message[:500], "out_of_scope")


async def test_empty_looking_message_gets_a_hint_and_nothing_is_stored(
    harness: BotHarness, database: Database
) -> None:
    [reply] = await harness.send(VILLAGER, "😀😀")
    assert "小额信贷能贷多少" in reply.text
    assert await rows(database, UnansweredQuestion) == []


async def test_unanswered_questions_are_listed_for_admins(
    harness: BotHarness, database: Database
) -> None:
    for question in ("今天天气怎么样", "火车票怎么买"):
        await harness.send(VILLAGER, question)
    async with database.sessionmaker() as session:
        listed = await KnowledgeRepo(session).unanswered()
    assert [row.text for row in listed] == ["火车票怎么买", "今天天气怎么样"]
