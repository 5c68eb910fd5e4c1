"""The report flow's unhappy paths, attachments, and the smaller cadre and villager actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.types import Chat, Location, Message, PhotoSize, Update
from sqlalchemy import func, select

from db.models import Case, CaseAttachment
from db.session import Database
from grievances.deadlines import check_deadlines
from handlers.keyboards import CaseAction, CaseOutcome, ReportCategory, ReportStep
from tests.harness import BotHarness, alerts_of, texts_of
from tests.integration.conftest import villager_and_cadre

# The flows run on SQLite and on PostgreSQL, as production does.
pytestmark = pytest.mark.both_databases

VILLAGER = 710  # 红星村
CADRE = 810  # 以古镇


@pytest.fixture
async def people(database: Database) -> None:
    await villager_and_cadre(database, VILLAGER, CADRE)


async def count_cases(database: Database) -> int:
    async with database.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Case))


async def send_update(harness: BotHarness, **content) -> list:
    start = len(harness.session.calls)
    update = Update(
        update_id=next(harness.updates._update_ids),
        message=Message(
            message_id=next(harness.updates._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=VILLAGER, type="private"),
            from_user=harness._user(VILLAGER, "en"),
            **content,
        ),
    )
    await harness.dispatcher.feed_update(harness.bot, update)
    return harness.session.calls[start:]


async def begin(harness: BotHarness) -> None:
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:housing")
    await harness.press_prefix(VILLAGER, "rs:place_ok")


async def finish(harness: BotHarness, text: str, identity: str = "anonymous") -> list:
    """Describe, press Done, choose the identity, submit: the calls of the submission."""
    await harness.send(VILLAGER, text)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, f"rs:{identity}")
    return await harness.press_prefix(VILLAGER, "rs:submit")


async def test_photos_and_a_location_are_kept_with_the_case(
    harness: BotHarness, database: Database, people: None
) -> None:
    await begin(harness)
    photo = [PhotoSize(file_id=f"photo-{size}", file_unique_id=f"u{size}", width=size,
                       height=size) for size in (90, 800)]  # fmt: skip
    await send_update(harness, photo=photo, caption="墙裂了")
    await send_update(harness, location=Location(latitude=27.44, longitude=104.87))
    await harness.send(VILLAGER, "房子西墙裂开一指宽")
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    review = texts_of(await harness.press_prefix(VILLAGER, "rs:submit"))
    assert "tracking number" in review
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case))
        attachments = (await session.scalars(select(CaseAttachment))).all()
    assert case.description == "墙裂了\n房子西墙裂开一指宽"
    assert [(a.kind, a.file_id, a.latitude) for a in attachments] == [
        ("photo", "photo-800", None),  # the largest size
        ("location", None, 27.44),
    ]
    # The cadre sees that there are attachments, and gets them with one button.
    [notice] = await harness.deliver()
    assert "📷 照片 1 张" in notice.text  # the cadre reads Chinese (the default locale)
    assert "📍" in notice.text
    media = await harness.press_prefix(CADRE, f"ca:{case.id}:media")
    assert [(call.method, call.params.get("photo")) for call in media[:2]] == [
        ("sendPhoto", "photo-800"),
        ("sendLocation", None),
    ]


async def test_done_without_a_description_is_refused_politely(
    harness: BotHarness, database: Database, people: None
) -> None:
    await begin(harness)
    calls = await harness.press_prefix(VILLAGER, "rs:done")
    assert alerts_of(calls) == ["Please describe the problem in a few words first."]
    other = await send_update(harness, sticker=None, text=None, contact=None, dice=None)
    assert "Please send text, photos or a location" in texts_of(other)
    assert await count_cases(database) == 0


async def test_cancel_at_any_step_sends_nothing(
    harness: BotHarness, database: Database, people: None
) -> None:
    await begin(harness)
    await harness.send(VILLAGER, "漏雨")
    assert "Stopped" in texts_of(await harness.send(VILLAGER, "/cancel"))
    # The flow's buttons are dead now, even the submit button if it is forged.
    calls = await harness.press_data(VILLAGER, ReportStep(step="submit").pack(), lang="en")
    assert alerts_of(calls) == ["That choice is no longer available."]
    calls = await harness.press_data(VILLAGER, ReportCategory(code="water").pack(), lang="en")
    assert alerts_of(calls) == ["That choice is no longer available."]
    assert await count_cases(database) == 0


async def test_commands_work_in_the_middle_of_a_report(
    harness: BotHarness, database: Database, people: None
) -> None:
    await begin(harness)
    assert "/report" in texts_of(await harness.send(VILLAGER, "/help"))
    await harness.send(VILLAGER, "漏雨了")  # still collecting the description
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:named")
    await harness.press_prefix(VILLAGER, "rs:submit")
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case))
    assert (case.description, case.anonymous) == ("漏雨了", False)


async def test_another_place_can_be_typed(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_change")
    assert "could not find" in texts_of(await harness.send(VILLAGER, "月亮村"))
    # A near miss is offered, not taken: 火星村 is not 红星村.
    [guess] = await harness.send(VILLAGER, "火星村")
    assert "Did you mean" in guess.text
    assert "Describe the problem" not in guess.text
    assert "Describe the problem" in texts_of(await harness.send(VILLAGER, "沙坝村"))
    await finish(harness, "水管爆了")
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case))
    assert (case.place_code, case.unit_code) == ("530627102202", "530627102")  # 塘房镇


async def test_up_one_level_and_resolve_reminder(
    harness: BotHarness, database: Database, people: None
) -> None:
    await begin(harness)
    await finish(harness, "危房没人来鉴定")
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case))
    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="accept").pack())
    render = harness.dispatcher["render"]
    soon = case.resolve_due - timedelta(hours=1)
    assert (await check_deadlines(database.sessionmaker, render, soon)).reminded == 1
    reminder = [c for c in await harness.deliver() if c.params["chat_id"] == CADRE]
    assert case.number in reminder[-1].text

    await harness.press_data(CADRE, CaseAction(case_id=case.id, action="up").pack())
    await harness.send(CADRE, "需要县住建局鉴定")
    async with database.sessionmaker() as session:
        moved = await session.get(Case, case.id)
    assert (moved.unit_code, moved.status) == ("530627", "submitted")


async def test_cases_list_pages_through_the_area(
    harness: BotHarness, database: Database, people: None
) -> None:
    for number in range(7):
        await begin(harness)
        await finish(harness, f"第{number}件事")
    [first] = await harness.send(CADRE, "/cases", lang="en")
    assert "Open cases: 7" in first.text
    assert first.text.count("•") == 5
    second, answered = await harness.press_prefix(CADRE, "cp:1")
    assert (second.method, answered.method) == ("editMessageText", "answerCallbackQuery")
    assert second.params["text"].count("•") == 2


async def test_a_resolved_case_nobody_rates_closes_after_a_week(
    harness: BotHarness, database: Database, people: None
) -> None:
    await begin(harness)
    await finish(harness, "墙倒了")
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case))
    await harness.press_data(CADRE, CaseOutcome(case_id=case.id, outcome="fixed").pack())
    await harness.send(CADRE, "已修好")
    async with database.sessionmaker() as session:
        resolved_at = (await session.get(Case, case.id)).resolved_at
    render = harness.dispatcher["render"]
    # Two days before the case's resolve deadline-check loop would also look: nothing yet.
    assert (
        await check_deadlines(database.sessionmaker, render, resolved_at + timedelta(6))
    ).closed == 0
    report = await check_deadlines(database.sessionmaker, render, resolved_at + timedelta(8))
    assert report.closed == 1
    async with database.sessionmaker() as session:
        closed = await session.get(Case, case.id)
    assert (closed.status, closed.outcome, closed.rating) == ("closed", "fixed", None)
    told = [c for c in await harness.deliver() if c.params["chat_id"] == VILLAGER]
    assert "not rated" in told[-1].text
