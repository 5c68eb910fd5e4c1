"""Replies that matter survive a failing Bot API: the tracking number goes through the outbox,
and a tap retried because its answer was lost gets that answer again and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Case, CaseEvent, CaseStatus, OutboxMessage, Role, User, utcnow
from db.session import Database
from db.users import UserRepo
from grievances.service import Actor, CaseService, Notice, Outcome, Report
from tests.harness import BotHarness, alerts_of, texts_of
from tests.integration.conftest import villager_and_cadre

# The flows run on SQLite and on PostgreSQL, as production does.
pytestmark = pytest.mark.both_databases

VILLAGER = 7301  # 红星村
CADRE = 7302  # 以古镇
TRACKING = "tracking number"


@pytest.fixture
async def people(database: Database) -> None:
    await villager_and_cadre(database, VILLAGER, CADRE)


def no_text(notice: Notice) -> tuple[str, None]:
    return "", None


async def to_review(harness: BotHarness) -> None:
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, "村里的水管冻裂了，三天没水")
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")


async def cases(database: Database) -> list[Case]:
    async with database.sessionmaker() as session:
        return list((await session.scalars(select(Case))).all())


async def test_a_tracking_number_telegram_refused_once_is_sent_later(
    harness: BotHarness, database: Database, people: None
) -> None:
    await to_review(harness)
    harness.session.fail_next("sendMessage", 502, "Bad Gateway", chat_id=VILLAGER)
    calls = await harness.press_prefix(VILLAGER, "rs:submit")
    assert TRACKING not in texts_of([call for call in calls if call.result is not None])
    [case] = await cases(database)

    harness.outbox.clock = lambda: utcnow() + timedelta(seconds=5)  # the worker's next round
    delivered = await harness.deliver()

    to_villager = [call.text for call in delivered if call.params["chat_id"] == VILLAGER]
    assert len(to_villager) == 1
    assert TRACKING in to_villager[0]
    assert case.number in to_villager[0]
    assert len(await cases(database)) == 1


async def test_the_tracking_number_is_committed_with_the_case(
    harness: BotHarness, database: Database, people: None
) -> None:
    """Even if the process died right after the commit, the outbox would still hold it."""
    await to_review(harness)
    await harness.press_prefix(VILLAGER, "rs:submit")
    [case] = await cases(database)
    async with database.sessionmaker() as session:
        [row] = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == VILLAGER))
        ).all()
    assert case.number in row.text
    assert row.case_id == case.id
    assert row.sent_at is not None  # sent by the handler, not left for the worker


async def test_submit_tapped_again_names_the_case_it_sent_and_sends_no_second(
    harness: BotHarness, database: Database, people: None
) -> None:
    await to_review(harness)
    harness.session.fail_next("sendMessage", 502, "Bad Gateway", chat_id=VILLAGER)
    await harness.press_prefix(VILLAGER, "rs:submit")  # the number did not arrive

    again = await harness.press_prefix(VILLAGER, "rs:submit")  # so the villager taps again

    [case] = await cases(database)
    assert any(case.number in alert for alert in alerts_of(again)), alerts_of(again)
    assert "no longer available" not in texts_of(again)


async def test_an_old_summarys_submit_does_not_claim_a_report_sent_much_later(
    harness: BotHarness, database: Database, people: None
) -> None:
    await to_review(harness)
    await harness.press_prefix(VILLAGER, "rs:cancel")
    message_id, data = harness.find_button(VILLAGER, "Submit")  # the cancelled summary's
    async with database.sessionmaker() as session:  # another report, three hours later
        villager = await session.get_one(User, VILLAGER)
        later = CaseService(session, no_text, clock=lambda: utcnow() + timedelta(hours=3))
        await later.submit(Report(villager, "en", "housing", "530627101201", "房子漏雨"))

    calls = await harness.press_data(VILLAGER, data, message_id, lang="en")

    assert alerts_of(calls) == ["That choice is no longer available."]
    assert len(await cases(database)) == 1


async def event_kinds(session: AsyncSession, case: Case) -> list[str]:
    query = select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
    return list((await session.scalars(query)).all())


async def submitted_case(harness: BotHarness, database: Database) -> Case:
    await to_review(harness)
    await harness.press_prefix(VILLAGER, "rs:submit")
    [case] = await cases(database)
    return case


async def test_accept_tapped_again_gets_the_same_answer(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await submitted_case(harness, database)
    await harness.deliver()
    first = await harness.press_prefix(CADRE, f"ca:{case.id}:accept", lang="en")
    again = await harness.press_prefix(CADRE, f"ca:{case.id}:accept", lang="en")

    answer = f"Case {case.number} accepted by you."
    assert answer in texts_of(first)
    assert answer in texts_of(again)
    assert "cannot do that now" not in texts_of(again) + " ".join(alerts_of(again))
    async with database.sessionmaker() as session:
        events = await event_kinds(session, case)
    assert events.count("accepted") == 1


async def test_accept_by_another_cadre_after_it_was_taken_is_still_refused(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await submitted_case(harness, database)
    await harness.deliver()
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(7303, Role.CADRE, "530627101")
        stored = await session.get_one(Case, case.id)
        await CaseService(session, no_text).accept(stored, Actor(7303, Role.CADRE))
    again = await harness.press_prefix(CADRE, f"ca:{case.id}:accept", lang="en")
    assert alerts_of(again) == ["This case cannot do that now."]


async def test_rating_tapped_again_thanks_again_and_rates_once(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await submitted_case(harness, database)
    async with database.sessionmaker() as session:
        stored = await session.get_one(Case, case.id)
        await CaseService(session, harness.dispatcher["render"]).resolve(
            stored, Actor(CADRE, Role.CADRE), Outcome.FIXED, "修好了"
        )
    await harness.deliver()
    first = await harness.press_prefix(VILLAGER, f"cr:{case.id}:satisfied", lang="en")
    again = await harness.press_prefix(VILLAGER, f"cr:{case.id}:satisfied", lang="en")
    assert alerts_of(first) == alerts_of(again) == ["Thank you for your rating."]
    async with database.sessionmaker() as session:
        stored = await session.get_one(Case, case.id)
        events = await event_kinds(session, case)
    assert stored.status == CaseStatus.CLOSED
    assert events.count("rated") == 1


async def test_resolve_outcome_tapped_again_says_it_is_resolved(
    harness: BotHarness, database: Database, people: None
) -> None:
    case = await submitted_case(harness, database)
    await harness.deliver()
    await harness.press_prefix(CADRE, f"ca:{case.id}:resolve", lang="en")
    await harness.press_prefix(CADRE, f"co:{case.id}:fixed", lang="en")
    await harness.send(CADRE, "水管已经换好了", lang="en")
    again = await harness.press_prefix(CADRE, f"co:{case.id}:fixed", lang="en")
    assert alerts_of(again) == [f"Case {case.number} resolved; the reporter is asked to rate it."]
