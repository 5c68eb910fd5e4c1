"""A villager's way back to their cases: /mycases opens each case with its messages, outcome
and the buttons that apply now; 不满意 asks for the reason first; deadlines are Beijing dates."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from bot.app import create_bot
from bot.config import Settings
from bot.local_session import LocalSession
from bot.outbox import OutboxWorker
from bot.runners.console import Console
from db.models import Case, CaseEvent, Role
from db.session import Database
from db.users import UserRepo
from handlers.keyboards import CaseAction, CaseOutcome
from tests.harness import BotHarness, texts_of

pytestmark = pytest.mark.both_databases

VILLAGER = 710  # lives in 红星村, 以古镇 (530627101)
CADRE = 810  # 以古镇
COUNTY_CADRE = 811  # 镇雄县 (530627)
CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}")


@pytest.fixture
async def people(database: Database) -> None:
    async with database.sessionmaker() as session:
        users = UserRepo(session)
        await users.grant(CADRE, Role.CADRE, "530627101")
        await users.grant(COUNTY_CADRE, Role.CADRE, "530627")
        (await users.touch(VILLAGER)).region_code = "530627101201"
        await session.commit()


async def report(harness: BotHarness, database: Database, text: str, lang: str) -> Case:
    await harness.send(VILLAGER, "/report", lang=lang)
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, text)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    await harness.press_prefix(VILLAGER, "rs:submit")
    async with database.sessionmaker() as session:
        return await session.scalar(select(Case).order_by(Case.id.desc()))


async def resolve(harness: BotHarness, cadre: int, case: Case, note: str) -> None:
    await harness.press_data(cadre, CaseOutcome(case_id=case.id, outcome="fixed").pack())
    await harness.send(cadre, note)


async def open_from_mycases(harness: BotHarness, case: Case, lang: str = "en") -> str:
    """/mycases, then the case's button: the view's text."""
    listed = texts_of(await harness.send(VILLAGER, "/mycases", lang=lang))
    assert case.number in listed
    view = await harness.press_prefix(VILLAGER, f"cv:{case.id}")
    return texts_of(view)


async def test_a_missed_notification_is_no_dead_end(
    harness: BotHarness, database: Database, people: None
) -> None:
    """The cadre's reply and outcome are in the case's view, and it is rated from there."""
    case = await report(harness, database, "自来水停了三天", "en")
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="accept").pack())
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="reply").pack())
    await harness.send(CADRE, "明天上午派人来修")
    await resolve(harness, CADRE, case, "水管已修好")
    # The notifications are never looked at: the villager comes back later through /mycases.
    view = await open_from_mycases(harness, case)
    for seen in ("自来水停了三天", "accepted it", "明天上午派人来修", "fixed", "水管已修好"):
        assert seen in view
    assert str(CADRE) not in view  # the cadre is never named by id
    assert "Are you satisfied" in view
    await harness.press_prefix(VILLAGER, f"cr:{case.id}:basically")
    async with database.sessionmaker() as session:
        stored = await session.get(Case, case.id)
    assert (stored.status, stored.rating) == ("closed", "basically")
    closed = await open_from_mycases(harness, case)
    assert "You rated it: Basically satisfied" in closed
    assert "/report starts a new report" in closed


async def test_an_open_case_offers_add_information_and_a_question_is_shown(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "水有怪味", "en")
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="info").pack())
    await harness.send(CADRE, "是哪一户的水？")
    view = await open_from_mycases(harness, case)
    assert "asked: 是哪一户的水？" in view
    await harness.press_prefix(VILLAGER, f"cai:{case.id}")
    assert "the handlers are told" in texts_of(await harness.send(VILLAGER, "三组王家"))
    assert "You added: 三组王家" in await open_from_mycases(harness, case)


async def test_not_satisfied_asks_for_a_reason_which_goes_to_the_next_unit(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "水还是不通", "en")
    await resolve(harness, CADRE, case, "修好了")
    await harness.deliver()
    await open_from_mycases(harness, case)
    asked = texts_of(await harness.press_prefix(VILLAGER, f"cr:{case.id}:unsatisfied"))
    assert "What was not right?" in asked
    async with database.sessionmaker() as session:
        assert (await session.get(Case, case.id)).status == "resolved"  # not before the reason
    await harness.send(VILLAGER, "只修了一半")
    told = await harness.deliver()
    [county] = [call for call in told if call.params["chat_id"] == COUNTY_CADRE]
    assert "只修了一半" in county.text
    async with database.sessionmaker() as session:
        stored = await session.get(Case, case.id)
        reason = await session.scalar(select(CaseEvent.note).where(CaseEvent.kind == "rated"))
    assert (stored.status, stored.unit_code, reason) == ("reopened", "530627", "只修了一半")


async def test_not_satisfied_without_a_reason(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "路灯不亮", "en")
    await resolve(harness, CADRE, case, "换了灯泡")
    await harness.deliver()
    await harness.press_prefix(VILLAGER, f"cr:{case.id}:unsatisfied")
    await harness.press_prefix(VILLAGER, f"crs:{case.id}")
    async with database.sessionmaker() as session:
        assert (await session.get(Case, case.id)).status == "reopened"
    # The second time it closes at once: nothing reopens, so nothing to ask.
    await resolve(harness, COUNTY_CADRE, case, "已再次处理")
    await harness.deliver()
    asked = texts_of(await harness.press_prefix(VILLAGER, f"cr:{case.id}:unsatisfied"))
    assert "What was not right?" not in asked
    async with database.sessionmaker() as session:
        assert (await session.get(Case, case.id)).status == "closed"


async def test_deadlines_are_dates_in_beijing_time(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "自来水停了", "zh-hans")
    [received] = [text for text in harness.texts(VILLAGER) if case.number in text]
    listed = texts_of(await harness.send(VILLAGER, "/mycases"))
    for text in (received, listed):
        assert "（北京时间）" in text
        assert re.search(r"应在\d{1,2}月\d{1,2}日[上下]午（北京时间）前受理", text)
        assert not CLOCK_TIME.search(text)
    assert "由云南省昭通市镇雄县以古镇办理：" in received  # no stray spaces in Chinese
    english = texts_of(await harness.send(VILLAGER, "/mycases", lang="en"))
    assert re.search(r"to be accepted by [A-Z][a-z]{2} \d{1,2}, (morning|afternoon)", english)
    assert "(Beijing time)" in english


async def test_another_villagers_case_is_not_found(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "水停了", "en")
    other = texts_of(await harness.send(VILLAGER + 1, f"/mycases {case.number}", lang="en"))
    assert "Case not found." in other
    assert "水停了" not in other
    mine = texts_of(await harness.send(VILLAGER, f"/mycases {case.number.lower()}"))
    assert "水停了" in mine


async def test_the_readme_two_role_demo_on_the_console(
    harness: BotHarness, database: Database, settings: Settings
) -> None:
    """Two consoles on one database, as `huhuqing chat` and `huhuqing chat --user 20001`: the
    villager reports, the cadre accepts and replies, the villager finds it all in /mycases."""
    villager, cadre = (
        console(harness, database, settings, 10001),
        console(harness, database, settings, 20001),
    )
    for line in ("/start", "红星村", "/report", "4", "1", "村里自来水停了三天", "1", "1", "1"):
        await villager.handle_line(line)
    assert "诉求编号是" in villager.out.getvalue()
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(20001, Role.CADRE, "530627101")
        await session.commit()
        case = await session.scalar(select(Case))
    for line in ("/cases", "1", "1", "1", "明天上午派人来修"):  # the case, 受理, 回复诉求人, text
        await cadre.handle_line(line)
    await villager.handle_line("/mycases")  # what came meanwhile is shown first
    shown = villager.out.getvalue()
    assert shown.index("明天上午派人来修") < shown.rindex("查看")
    await villager.handle_line("1")
    view = villager.out.getvalue().rsplit("您反映的问题：", 1)[1]
    assert "以古镇已受理。" in view
    assert "以古镇：明天上午派人来修" in view
    # The case screen now offers 回复诉求人 and 办结; 办结 turns its buttons into the outcomes.
    await cadre.handle_line("2")
    assert "[1] 已解决" in cadre.out.getvalue().rsplit("bot>", 1)[1]
    for line in ("1", "水管已修好"):  # 已解决, the note for the villager
        await cadre.handle_line(line)
    await villager.handle_line("/mycases")
    await villager.handle_line("1")
    assert "您对办理结果满意吗？" in villager.out.getvalue().rsplit("您反映的问题：", 1)[1]
    for line in ("3", "只修了一半"):  # 不满意, the reason
        await villager.handle_line(line)
    async with database.sessionmaker() as session:
        assert (await session.get(Case, case.id)).status == "reopened"


def console(harness: BotHarness, database: Database, settings: Settings, user: int) -> Console:
    """One `huhuqing chat --user USER` on the harness's dispatcher and database."""
    session = LocalSession()
    bot = create_bot(settings, session=session)
    outbox = OutboxWorker(bot, database.sessionmaker)
    shown = Console(harness.dispatcher, bot, session, user, "zh-hans", io.StringIO(), outbox)
    return shown
