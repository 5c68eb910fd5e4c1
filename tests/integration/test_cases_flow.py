"""Grievances from report to rating, in-process: what each person is sent, what the DB holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import Case, CaseEvent, OutboxMessage, Role, UnitChat, User, utcnow
from db.session import Database
from db.users import UserRepo
from grievances.deadlines import check_deadlines
from handlers.keyboards import CaseAction, CaseOutcome, CaseRate
from tests.harness import BotHarness, alerts_of, texts_of

# The flows run on SQLite and on PostgreSQL, as production does.
pytestmark = pytest.mark.both_databases

VILLAGER = 700  # lives in 红星村, 以古镇 (530627101), 镇雄县 (530627)
TOWNSHIP_CADRE = 800  # 以古镇
OTHER_CADRE = 801  # 塘房镇 (530627102), the next township
COUNTY_CADRE = 802  # 镇雄县
GROUP = -100555  # 以古镇's group chat


@pytest.fixture
async def people(database: Database) -> None:
    async with database.sessionmaker() as session:
        users = UserRepo(session)
        await users.grant(TOWNSHIP_CADRE, Role.CADRE, "530627101")
        await users.grant(OTHER_CADRE, Role.CADRE, "530627102")
        await users.grant(COUNTY_CADRE, Role.CADRE, "530627")
        villager = await users.touch(VILLAGER)
        villager.region_code = "530627101201"
        await session.commit()


async def report(harness: BotHarness, text: str, *, anonymous: bool = True) -> Case:
    """The villager goes through the whole report flow (in English, to read the prompts)."""
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, text)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous" if anonymous else "rs:named")
    calls = await harness.press_prefix(VILLAGER, "rs:submit")
    assert "tracking number" in texts_of(calls)
    async with harness.dispatcher["knowledge"].sessionmaker() as session:
        return await session.scalar(select(Case).order_by(Case.id.desc()))


async def db_case(database: Database, case_id: int) -> Case:
    async with database.sessionmaker() as session:
        return await session.get(Case, case_id)


async def test_report_accept_reply_resolve_rate(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "村里的自来水停了三天，没人管")
    assert (case.unit_code, case.status, case.category) == ("530627101", "submitted", "water")
    assert case.number in texts_of(harness.session.calls)

    # No group linked: the township's cadre gets the case, with the action buttons.
    delivered = await harness.deliver()
    [notice] = [call for call in delivered if call.params["chat_id"] == TOWNSHIP_CADRE]
    assert "村里的自来水停了三天，没人管" in notice.text
    assert case.number in notice.text
    assert {data.split(":")[2] for _, data in notice.buttons} == {
        "accept", "reply", "info", "resolve", "transfer"
    }  # fmt: skip

    await harness.press_data(TOWNSHIP_CADRE, CaseAction(case_id=case.id, action="accept").pack())
    told = texts_of(await harness.deliver())
    assert "accepted" in told
    assert case.number in told

    await harness.press_data(TOWNSHIP_CADRE, CaseAction(case_id=case.id, action="reply").pack())
    await harness.send(TOWNSHIP_CADRE, "明天上午派人来修")
    told = texts_of(await harness.deliver())
    assert "明天上午派人来修" in told

    await harness.press_data(TOWNSHIP_CADRE, CaseOutcome(case_id=case.id, outcome="fixed").pack())
    await harness.send(TOWNSHIP_CADRE, "水管已修好")
    resolved = await harness.deliver()
    assert "水管已修好" in texts_of(resolved)
    assert {data.split(":")[2] for _, data in resolved[0].buttons} == {
        "satisfied", "basically", "unsatisfied"
    }  # fmt: skip

    await harness.press_data(VILLAGER, CaseRate(case_id=case.id, rating="satisfied").pack())
    stored = await db_case(database, case.id)
    assert (stored.status, stored.outcome, stored.rating) == ("closed", "fixed", "satisfied")
    async with database.sessionmaker() as session:
        kinds = (
            await session.scalars(
                select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ).all()
    assert kinds == ["submitted", "accepted", "replied", "resolved", "rated", "closed"]


async def test_unsatisfied_rating_reopens_once_one_level_up(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "水还是不通")
    for _ in range(2):
        stored = await db_case(database, case.id)
        cadre = TOWNSHIP_CADRE if stored.unit_code == "530627101" else COUNTY_CADRE
        await harness.press_data(cadre, CaseOutcome(case_id=case.id, outcome="partly_fixed").pack())
        await harness.send(cadre, "修了一部分")
        await harness.press_data(VILLAGER, CaseRate(case_id=case.id, rating="unsatisfied").pack())
        if cadre == TOWNSHIP_CADRE:  # 不满意 asks for the reason before it reopens the case
            await harness.send(VILLAGER, "只修了一半，还是没水")
            told = await harness.deliver()
            [reopened] = [c for c in told if c.params["chat_id"] == COUNTY_CADRE]
            assert "只修了一半，还是没水" in reopened.text
    stored = await db_case(database, case.id)
    # The first 不满意 reopened it at the county; the second closed it.
    assert (stored.status, stored.unit_code, stored.reopened) == ("closed", "530627", True)
    assert stored.rating == "unsatisfied"
    async with database.sessionmaker() as session:
        kinds = (
            await session.scalars(
                select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ).all()
    assert kinds == [
        "submitted", "resolved", "rated", "reopened", "resolved", "rated", "closed"
    ]  # fmt: skip


async def test_group_chat_gets_the_case_and_cadres_act_there(
    harness: BotHarness, database: Database, people: None
) -> None:
    async with database.sessionmaker() as session:
        session.add(UnitChat(region_code="530627101", chat_id=GROUP, linked_by=1))
        await session.commit()
    case = await report(harness, "补助没发")
    delivered = await harness.deliver()
    assert [call.params["chat_id"] for call in delivered] == [GROUP]
    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:accept", chat_id=GROUP)
    assert (await db_case(database, case.id)).assignee_id == TOWNSHIP_CADRE


async def test_anonymous_reporter_is_never_shown_to_cadres(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "有人优亲厚友")
    await harness.deliver()
    await harness.send(TOWNSHIP_CADRE, f"/case {case.number}")
    await harness.send(TOWNSHIP_CADRE, "/cases")
    cadre_saw = [
        call for call in harness.session.calls if call.params.get("chat_id") == TOWNSHIP_CADRE
    ]
    assert cadre_saw
    for call in cadre_saw:
        assert str(VILLAGER) not in str(call.params)

    named = await report(harness, "我愿意实名反映", anonymous=False)
    delivered = await harness.deliver()
    assert any(str(VILLAGER) in call.text for call in delivered if named.number in call.text)


async def test_html_in_a_description_is_shown_literally(harness: BotHarness, people: None) -> None:
    await report(harness, "<b>水</b> & <script>x</script>")
    [notice] = await harness.deliver()
    assert "&lt;b&gt;水&lt;/b&gt; &amp; &lt;script&gt;" in notice.text
    assert "<script>" not in notice.text


@pytest.mark.parametrize(
    "forged",
    [
        lambda case_id: ("/case {number}", None),
        lambda case_id: (None, CaseAction(case_id=case_id, action="accept").pack()),
        lambda case_id: (None, CaseAction(case_id=case_id, action="show").pack()),
        lambda case_id: (None, CaseOutcome(case_id=case_id, outcome="fixed").pack()),
        lambda case_id: (None, CaseAction(case_id=case_id, action="to-530627102").pack()),
    ],
)
async def test_a_cadre_of_another_township_cannot_reach_the_case(
    harness: BotHarness, database: Database, people: None, forged
) -> None:
    case = await report(harness, "别的乡镇不该看到")
    await harness.deliver()
    command, data = forged(case.id)
    if command:
        reply = texts_of(await harness.send(OTHER_CADRE, command.format(number=case.number)))
        assert "not found" in reply.lower() or "未找到" in reply or "没有找到" in reply
    else:
        calls = await harness.press_data(OTHER_CADRE, data, lang="en")
        assert alerts_of(calls) == ["Case not found."]
    listed = texts_of(await harness.send(OTHER_CADRE, "/cases", lang="en"))
    assert case.number not in listed
    stored = await db_case(database, case.id)
    assert (stored.status, stored.assignee_id, stored.unit_code) == (
        "submitted", None, "530627101"
    )  # fmt: skip
    # ... and the county above it can.
    assert case.number in texts_of(await harness.send(COUNTY_CADRE, "/cases", lang="en"))


async def test_a_villager_cannot_act_as_a_cadre(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "我自己受理试试")
    calls = await harness.press_data(
        VILLAGER, CaseAction(case_id=case.id, action="accept").pack(), lang="en"
    )
    assert alerts_of(calls) == ["Case not found."]
    assert (await db_case(database, case.id)).status == "submitted"


async def test_the_same_confirming_update_twice_makes_one_case(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, "重复提交测试")
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    [review] = [c for c in harness.session.calls if c.buttons and c.buttons[0][1] == "rs:submit"]
    update = harness.updates.press(
        harness._user(VILLAGER, "en"), "rs:submit", review.result["message_id"]
    )
    await harness.dispatcher.feed_update(harness.bot, update)
    await harness.dispatcher.feed_update(harness.bot, update)  # Telegram delivers it again
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Case)) == 1


async def test_transfer_to_the_next_township(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "这是塘房镇的事")
    await harness.deliver()
    await harness.press_data(
        TOWNSHIP_CADRE, CaseAction(case_id=case.id, action="to-530627102").pack()
    )
    await harness.send(TOWNSHIP_CADRE, "属于塘房镇管辖")
    delivered = await harness.deliver()
    stored = await db_case(database, case.id)
    assert (stored.unit_code, stored.status) == ("530627102", "submitted")
    to_new_unit = [c for c in delivered if c.params["chat_id"] == OTHER_CADRE]
    assert "属于塘房镇管辖" in to_new_unit[0].text
    assert any(c.params["chat_id"] == VILLAGER for c in delivered)


async def test_missed_deadline_reminds_then_escalates(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "两天了没人理")
    await harness.deliver()
    render = harness.dispatcher["render"]
    later = case.accept_due - timedelta(hours=1)
    report_ = await check_deadlines(database.sessionmaker, render, later)
    assert (report_.reminded, report_.escalated) == (1, 0)
    reminder = await harness.deliver()
    assert [c.params["chat_id"] for c in reminder] == [TOWNSHIP_CADRE]
    # Once only.
    assert (await check_deadlines(database.sessionmaker, render, later)).reminded == 0

    report_ = await check_deadlines(database.sessionmaker, render, case.accept_due + timedelta(1))
    assert report_.escalated == 1
    stored = await db_case(database, case.id)
    assert (stored.unit_code, stored.escalations) == ("530627", 1)
    delivered = await harness.deliver()
    assert {c.params["chat_id"] for c in delivered} == {COUNTY_CADRE, VILLAGER}


async def test_villager_adds_information_when_asked(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "水有怪味")
    await harness.press_data(TOWNSHIP_CADRE, CaseAction(case_id=case.id, action="info").pack())
    await harness.send(TOWNSHIP_CADRE, "是哪一户的水？")
    asked = await harness.deliver()
    assert "是哪一户的水？" in texts_of(asked)
    assert (await db_case(database, case.id)).status == "info_requested"
    await harness.press_prefix(VILLAGER, f"cai:{case.id}")
    await harness.send(VILLAGER, "三组王家")
    told = await harness.deliver()
    assert "三组王家" in texts_of(told)
    assert (await db_case(database, case.id)).status == "accepted"
    listed = texts_of(await harness.send(VILLAGER, "/mycases", lang="en"))
    assert case.number in listed


async def test_blocked_reporter_is_marked_and_not_retried(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, "我会屏蔽机器人")
    await harness.deliver()
    harness.session.fail_next(
        "sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=VILLAGER
    )
    await harness.press_data(TOWNSHIP_CADRE, CaseAction(case_id=case.id, action="accept").pack())
    await harness.deliver()
    async with database.sessionmaker() as session:
        assert (await session.get(User, VILLAGER)).blocked_at is not None
        failed = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.failed_at.is_not(None)))).all()  # fmt: skip
    assert len(failed) == 1
    assert await harness.deliver() == []  # nothing retried


async def test_rate_limited_message_waits_and_is_sent_later(
    harness: BotHarness, database: Database, people: None
) -> None:
    await report(harness, "限流测试")
    harness.session.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
    await harness.deliver()
    async with database.sessionmaker() as session:
        [pending] = (  # the unit's notice (the villager's number was sent by the handler)
            await session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
        ).all()
    assert pending.next_attempt_at > utcnow() + timedelta(seconds=3)
    harness.outbox.clock = lambda: utcnow() + timedelta(seconds=6)
    delivered = await harness.deliver()
    assert [c.params["chat_id"] for c in delivered] == [TOWNSHIP_CADRE]


async def test_a_cadre_reporting_anonymously_is_not_named_in_the_history(
    harness: BotHarness, database: Database, people: None
) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(VILLAGER, Role.CADRE, "530627102")  # a cadre elsewhere
    case = await report(harness, "我也是干部，但匿名反映")
    [history] = await harness.send(COUNTY_CADRE, f"/case {case.number}", lang="en")
    assert "reported (reporter)" in history.text
    assert str(VILLAGER) not in history.text


async def test_odd_case_numbers_get_a_polite_not_found(harness: BotHarness, people: None) -> None:
    for odd in ("²", "99999999999999999999999", "<b>", "K7M"):
        [reply] = await harness.send(TOWNSHIP_CADRE, f"/case {odd}", lang="en")
        assert reply.text == "Case not found."
    forged = CaseAction(case_id=10**30, action="accept").pack()
    assert alerts_of(await harness.press_data(TOWNSHIP_CADRE, forged)) == ["Case not found."]


async def test_a_user_who_blocked_the_bot_is_reached_again_after_writing_to_it(
    harness: BotHarness, database: Database, people: None
) -> None:
    async with database.sessionmaker() as session:
        (await session.get(User, VILLAGER)).blocked_at = utcnow()
        await session.commit()
    await harness.send(VILLAGER, "/mycases")
    async with database.sessionmaker() as session:
        assert (await session.get(User, VILLAGER)).blocked_at is None


async def test_a_failing_handler_apologises_and_logs_no_content(
    harness: BotHarness, people: None, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    phone = "13812345678"

    async def broken(self):
        raise RuntimeError(f"INSERT ... {phone} 克扣补助")  # as a database error would repeat it

    monkeypatch.setattr(type(harness.dispatcher["knowledge"]), "index", broken)
    [reply] = await harness.send(VILLAGER, f"我的电话{phone}，补助被拿走", lang="en")
    assert "Sorry, something went wrong" in reply.text
    assert phone not in caplog.text
    assert "RuntimeError" in caplog.text


async def test_cadre_steps_refuse_what_they_should_not_do(
    harness: BotHarness, database: Database, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await report(harness, "测试办理步骤")
    await harness.deliver()
    # A transfer to a unit that was not offered (another county's township) is refused.
    forged = CaseAction(case_id=case.id, action="to-220122101").pack()
    assert alerts_of(await harness.press_data(TOWNSHIP_CADRE, forged, lang="en")) == [
        "This case cannot do that now."
    ]
    # An over-long note is refused and the step stays open.
    await harness.press_data(TOWNSHIP_CADRE, CaseAction(case_id=case.id, action="reply").pack())
    too_long = texts_of(await harness.send(TOWNSHIP_CADRE, "长" * 2001, lang="en"))
    assert "too long" in too_long
    # A text typed long after the button is not relayed to the reporter.
    import handlers.cases

    monkeypatch.setattr(handlers.cases, "NOTE_WAIT_SECONDS", -1)
    late = texts_of(await harness.send(TOWNSHIP_CADRE, "这句话是写给别人的", lang="en"))
    assert "expired" in late
    assert "这句话是写给别人的" not in texts_of(await harness.deliver())


async def test_case_details_are_not_shown_in_an_unrelated_group(
    harness: BotHarness, people: None
) -> None:
    case = await report(harness, "不该出现在村群里")
    reply = texts_of(await harness.send_in(-100999, TOWNSHIP_CADRE, f"/case {case.number}"))
    assert "不该出现在村群里" not in reply
    assert "私聊" in reply or "private" in reply
    private = texts_of(await harness.send(TOWNSHIP_CADRE, f"/case {case.number}"))
    assert "不该出现在村群里" in private


async def test_a_complaint_about_village_cadres_goes_privately_to_township_cadres(
    harness: BotHarness, database: Database, people: None
) -> None:
    async with database.sessionmaker() as session:
        session.add(UnitChat(region_code="530627101", chat_id=GROUP, linked_by=1))
        await session.commit()
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:cadre_conduct")
    await harness.press_prefix(VILLAGER, "ra:village")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, "村主任优亲厚友")
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    await harness.press_prefix(VILLAGER, "rs:submit")
    delivered = await harness.deliver()
    assert [call.params["chat_id"] for call in delivered] == [TOWNSHIP_CADRE]  # not the group
