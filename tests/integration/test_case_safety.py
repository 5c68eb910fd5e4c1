"""Cases under attack and bad input (issue 9, points 12, 16, 17, 18, 20): where case details,
lists and figures may be shown, long replies, forged ids and malformed buttons, invisible or NUL
characters in what people type, and a complaint with no cadre above it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.types import Chat
from sqlalchemy import select

import handlers.admin
from bot.app import prepare
from bot.config import Settings
from bot.local_session import ApiCall
from db import migrate
from db.models import Case, CaseEvent, Role, UnitChat, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from grievances.stats import AreaStats, Period, TownshipStats
from handlers.keyboards import CaseAction, CaseAddInfo, CaseOutcome, CaseRate, CasesPage
from tests.harness import BotHarness, alerts_of, texts_of

# The flows run on SQLite and on PostgreSQL, as production does.
pytestmark = pytest.mark.both_databases

VILLAGER = 720  # 红星村, 以古镇 (530627101), 镇雄县 (530627)
CADRE = 820  # 以古镇
ADMIN = 920  # an administrator of everything
TOWNSHIP, VILLAGE = "530627101", "530627101201"
GROUP = -100720  # 以古镇's linked group
OTHER_GROUP = -100721  # a group nobody linked
TELEGRAM_LIMIT = 4096
SORRY = "Sorry, something went wrong"
NOT_HERE = "Open cases in a private chat with me, or in the unit's own group."


async def add_people(database: Database, *granted: tuple[int, Role, str | None]) -> None:
    async with database.sessionmaker() as session:
        users = UserRepo(session)
        for user_id, role, area in granted:
            await users.grant(user_id, role, area)
        villager = await users.touch(VILLAGER)
        villager.region_code = VILLAGE
        await session.commit()


@pytest.fixture
async def people(database: Database) -> None:
    await add_people(database, (CADRE, Role.CADRE, TOWNSHIP), (ADMIN, Role.ADMIN, None))


async def link_group(database: Database) -> None:
    async with database.sessionmaker() as session:
        session.add(UnitChat(region_code=TOWNSHIP, chat_id=GROUP, linked_by=ADMIN))
        await session.commit()


async def report(
    harness: BotHarness, database: Database, text: str, category: str = "water",
    about: str | None = None,
) -> Case:  # fmt: skip
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, f"rc:{category}")
    if about:
        await harness.press_prefix(VILLAGER, f"ra:{about}")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, text)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    assert "tracking number" in texts_of(await harness.press_prefix(VILLAGER, "rs:submit"))
    async with database.sessionmaker() as session:
        return await session.scalar(select(Case).order_by(Case.id.desc()))


async def press_in(harness: BotHarness, chat_id: int, user_id: int, data: str) -> list[ApiCall]:
    """Press a button with this data under a message in a group chat."""
    start = len(harness.session.calls)
    chat = Chat(id=chat_id, type="supergroup", title="群")
    update = harness.updates.press(harness._user(user_id, "en"), data, 1, chat)
    await harness.dispatcher.feed_update(harness.bot, update)
    return harness.session.calls[start:]


def sent(calls: list[ApiCall]) -> list[ApiCall]:
    return [call for call in calls if call.method == "sendMessage"]


# --- 12. details, lists and figures only in private chats or the unit's own group -----------


async def test_a_complaint_about_cadres_is_never_shown_in_a_group(
    harness: BotHarness, database: Database, people: None
) -> None:
    await link_group(database)
    case = await report(harness, database, "村主任优亲厚友", "cadre_conduct", "village")
    assert case.unit_code == TOWNSHIP  # the township handles it: its group is linked
    for chat in (GROUP, OTHER_GROUP):
        typed = texts_of(await harness.send_in(chat, CADRE, f"/case {case.number}", lang="en"))
        assert "优亲厚友" not in typed
        assert "private chat" in typed
        pressed = await press_in(harness, chat, CADRE, f"ca:{case.id}:show")
        assert not sent(pressed)
        assert alerts_of(pressed) == [NOT_HERE]
        # Nor can a forged action button bring it into the group.
        assert not sent(await press_in(harness, chat, CADRE, f"ca:{case.id}:resolve"))
    private = texts_of(await harness.send(CADRE, f"/case {case.number}"))
    assert "优亲厚友" in private


async def test_an_ordinary_case_shows_in_its_units_group_only(
    harness: BotHarness, database: Database, people: None
) -> None:
    await link_group(database)
    case = await report(harness, database, "自来水停了三天")
    in_group = texts_of(await harness.send_in(GROUP, CADRE, f"/case {case.number}"))
    assert "自来水停了三天" in in_group
    elsewhere = texts_of(await harness.send_in(OTHER_GROUP, CADRE, f"/case {case.number}"))
    assert "自来水停了三天" not in elsewhere


async def test_lists_answer_only_in_private_or_the_areas_own_group(
    harness: BotHarness, database: Database, people: None
) -> None:
    await link_group(database)
    ordinary = await report(harness, database, "自来水停了三天")
    complaint = await report(harness, database, "村主任优亲厚友", "cadre_conduct", "village")
    elsewhere = await harness.send_in(OTHER_GROUP, CADRE, "/cases", lang="en")
    assert ordinary.number not in texts_of(elsewhere)
    assert texts_of(elsewhere) == NOT_HERE
    paging = await press_in(harness, OTHER_GROUP, CADRE, CasesPage(page=0).pack())
    assert [call.method for call in paging] == ["answerCallbackQuery"]
    # In the township's own group: its cases, but not the complaint about cadres.
    own_group = texts_of(await harness.send_in(GROUP, CADRE, "/cases"))
    assert ordinary.number in own_group
    assert complaint.number not in own_group
    assert "干部作风" not in own_group
    # Privately the cadre sees both.
    private = texts_of(await harness.send(CADRE, "/cases"))
    assert ordinary.number in private
    assert complaint.number in private


async def test_stats_and_unanswered_answer_only_in_private_or_the_admins_own_group(
    harness: BotHarness, database: Database, people: None
) -> None:
    await report(harness, database, "自来水停了三天")
    for command in ("/stats", "/unanswered"):
        elsewhere = await harness.send_in(OTHER_GROUP, ADMIN, command, lang="en")
        assert [call.method for call in elsewhere] == ["sendMessage"]
        assert "private chat" in texts_of(elsewhere)
    private = await harness.send(ADMIN, "/stats")
    assert [call.method for call in private] == ["sendPhoto", "sendMessage"]


# --- 16. long replies are split ----------------------------------------------------------


async def test_a_long_history_is_shown_in_pieces(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "水" * 2990 + "尾巴")
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="reply").pack())
    await harness.send(CADRE, "回" * 1990 + "答完")
    for calls in (
        await harness.send(CADRE, f"/case {case.number}"),
        await harness.press_data(CADRE, CaseAction(case_id=case.id, action="show").pack()),
    ):
        pieces = sent(calls)
        assert len(pieces) >= 2
        assert all(len(piece.text or "") <= TELEGRAM_LIMIT for piece in pieces)
        whole = "".join(piece.text or "" for piece in pieces)
        assert "尾巴" in whole
        assert "答完" in whole
        assert pieces[-1].buttons  # the case's buttons come last
        assert not pieces[0].buttons


async def test_stats_of_many_townships_are_split(
    harness: BotHarness, people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        TownshipStats(f"T{number}", f"云南省昭通市镇雄县第{number}号乡镇", 9, 8, 7, 6, 5, 4, 3, 1)
        for number in range(120)
    ]

    async def many(*_args: object) -> AreaStats:
        return AreaStats(Period.last_days(30, utcnow()), rows, [])

    monkeypatch.setattr(handlers.admin, "area_stats", many)
    monkeypatch.setattr(handlers.admin, "stats_png", lambda _rows: b"png")
    pieces = sent(await harness.send(ADMIN, "/stats"))
    assert len(pieces) >= 2
    assert all(len(piece.text or "") <= TELEGRAM_LIMIT for piece in pieces)
    assert "第119号乡镇" in "".join(piece.text or "" for piece in pieces)


# --- 17. forged ids and malformed buttons ---------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        CaseRate(case_id=10**20, rating="satisfied").pack(),
        CaseAddInfo(case_id=2**63).pack(),
        CaseAction(case_id=10**20, action="show").pack(),
        CaseOutcome(case_id=2**63, outcome="fixed").pack(),
        CasesPage(page=10**20).pack(),
        "ca:abc:show",
        "ca:",
        "co:1",
        "cp:x",
        "cr:1",
        "cai:",
        "cai:-1",
        "rs",
        "rc:a:b",
        "rpl",
        # other routers' buttons, malformed, and data no router knows
        "rn:x",
        "rp:",
        "lang:xx",
        "hga:abc",
        "hcc:",
        "ntf:maybe",
        "zz:1",
        "",
    ],
)
async def test_every_forged_or_malformed_button_is_answered_without_harm(
    harness: BotHarness, database: Database, people: None, data: str
) -> None:
    await report(harness, database, "自来水停了三天")
    for user in (VILLAGER, CADRE):
        calls = await harness.press_data(user, data, lang="en")
        answers = [call for call in calls if call.method == "answerCallbackQuery"]
        assert len(answers) == 1, data
        assert not any(SORRY in text for text in [*alerts_of(calls), texts_of(calls)])
    async with database.sessionmaker() as session:
        assert (await session.scalar(select(Case))).status == "submitted"


async def test_a_huge_telegram_id_is_refused_by_grant(harness: BotHarness, people: None) -> None:
    reply = texts_of(await harness.send(ADMIN, "/grant 99999999999999999999999 cadre 530627101"))
    assert "Usage" in reply or "用法" in reply
    assert SORRY not in reply
    assert "出了点问题" not in reply


# --- 18. NUL and invisible characters in what people type ----------------------------------


@pytest.fixture
async def any_harness(database_url: str) -> AsyncIterator[tuple[BotHarness, Database]]:
    """The bot on SQLite and on PostgreSQL (which refuses U+0000 in text)."""
    await migrate.upgrade_async(database_url)
    database = await open_database(database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
    settings = Settings(_env_file=None, database_url=database_url, bot_token=None)  # type: ignore[call-arg]
    harness = BotHarness(settings, database)
    await prepare(harness.dispatcher)
    await add_people(database, (CADRE, Role.CADRE, TOWNSHIP))
    yield harness, database
    await database.close()


async def test_nul_characters_are_stripped_from_everything_stored(
    any_harness: tuple[BotHarness, Database],
) -> None:
    harness, database = any_harness
    case = await report(harness, database, "水管\x00坏了\x00")
    assert case.description == "水管坏了"
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="reply").pack())
    assert "Sent" in texts_of(await harness.send(CADRE, "明天\x00来修", lang="en"))
    await harness.send(VILLAGER, "/mycases")
    await harness.press_data(VILLAGER, CaseAddInfo(case_id=case.id).pack())
    assert "Added" in texts_of(await harness.send(VILLAGER, "还有\x00一处"))
    async with database.sessionmaker() as session:
        notes = (await session.scalars(select(CaseEvent.note).order_by(CaseEvent.id))).all()
    assert notes == [None, "明天来修", "还有一处"]


async def test_a_description_of_invisible_characters_is_refused(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    invisible = "\u200b\u200c\u200d\ufeff\u2060 \u200b"
    assert "could not read any words" in texts_of(await harness.send(VILLAGER, invisible))
    assert alerts_of(await harness.press_prefix(VILLAGER, "rs:done")) == [
        "Please describe the problem in a few words first."
    ]
    async with database.sessionmaker() as session:
        assert await session.scalar(select(Case)) is None


async def test_invisible_replies_and_additions_are_refused(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "自来水停了三天")
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="reply").pack())
    refused = texts_of(await harness.send(CADRE, "\u200b\u200b", lang="en"))
    assert "could not read any words" in refused
    assert "Sent" in texts_of(await harness.send(CADRE, "明天来修"))  # the step stayed open
    await harness.press_data(VILLAGER, CaseAddInfo(case_id=case.id).pack())
    assert "could not read any words" in texts_of(await harness.send(VILLAGER, "\u2060\ufeff"))
    async with database.sessionmaker() as session:
        kinds = (await session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id))).all()
    assert kinds == ["submitted", "replied"]


# --- 20. a complaint with no cadre above reaches the area's admins -------------------------


async def test_a_complaint_about_township_cadres_with_nobody_above_reaches_the_admins(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await report(harness, database, "镇长吃拿卡要", "cadre_conduct", "township")
    assert case.unit_code == "530627"  # the county, where nobody is registered
    delivered = await harness.deliver()
    assert [call.params["chat_id"] for call in delivered] == [ADMIN]  # never the township cadre
    assert case.number in delivered[0].text
