"""Routing rules, roles, group links, statistics, and the outbox surviving a crash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from bot.config import Settings
from bot.outbox import TELEGRAM_LIMIT, split_text
from db.models import (
    Case,
    CaseEvent,
    OutboxMessage,
    RegionLevel,
    Role,
    RoutingRule,
    UnitChat,
    User,
    utcnow,
)
from db.session import Database
from db.users import UserRepo
from grievances.routing import set_rule
from grievances.service import Actor, CaseError, CaseService, Outcome, Rating, Report
from grievances.stats import township_stats, townships_under
from tests.harness import BotHarness, texts_of

ADMIN = 900
VILLAGER = 901
CADRE = 902  # 以古镇


@pytest.fixture
async def service(database: Database, harness: BotHarness):
    async with database.sessionmaker() as session:
        users = UserRepo(session)
        await users.grant(ADMIN, Role.ADMIN, None)
        await users.grant(CADRE, Role.CADRE, "530627101")
        await users.touch(VILLAGER)
    session = database.sessionmaker()
    yield CaseService(session, harness.dispatcher["render"])
    await session.close()


async def submit(service: CaseService, category: str = "water", **extra) -> Case:
    """A villager's case; its outbox holds only the unit's notices (the bot's handler sends the
    villager's tracking number at once: tests/integration/test_submit_delivery.py)."""
    reporter = await service.session.get(User, VILLAGER)
    case = await service.submit(
        Report(reporter, "zh_Hans", category, "530627101201", "描述", **extra)
    )
    await service.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.chat_id == VILLAGER
        )
    )
    await service.session.commit()
    return case


async def test_routing_rules_and_their_history(service: CaseService) -> None:
    assert (await submit(service)).unit_code == "530627101"  # the village's township
    await set_rule(service.session, "530627", "housing", RegionLevel.COUNTY, "admin 900")
    assert (await submit(service, "housing")).unit_code == "530627"
    assert (await submit(service, "water")).unit_code == "530627101"  # other categories stay
    await set_rule(service.session, "530627", "housing", RegionLevel.TOWNSHIP, "admin 900")
    assert (await submit(service, "housing")).unit_code == "530627101"
    rules = (await service.session.scalars(select(RoutingRule).order_by(RoutingRule.id))).all()
    assert [(rule.level, rule.retired_at is None) for rule in rules] == [
        ("county", False),
        ("township", True),
    ]


@pytest.mark.parametrize(
    ("about", "unit"),
    [(RegionLevel.VILLAGE, "530627101"), (RegionLevel.TOWNSHIP, "530627"),
     (RegionLevel.COUNTY, "530600")],
)  # fmt: skip
async def test_complaints_about_cadres_go_above_them(
    service: CaseService, about: RegionLevel, unit: str
) -> None:
    assert (await submit(service, "cadre_conduct", about=about)).unit_code == unit


async def test_statistics_count_rates_per_township(service: CaseService) -> None:
    now = utcnow()
    actor = Actor(CADRE, Role.CADRE)
    reporter = await service.session.get(User, VILLAGER)
    fixed = await submit(service)
    await service.accept(fixed, actor)
    await service.resolve(fixed, actor, Outcome.FIXED, "好了")
    await service.rate(fixed, reporter, Rating.SATISFIED)
    late = await submit(service)
    late.accept_due = now - timedelta(hours=1)  # missed, still waiting
    await service.session.commit()
    unhappy = await submit(service)
    await service.resolve(unhappy, actor, Outcome.NO_ACTION, "无法处理")
    await service.rate(unhappy, reporter, Rating.UNSATISFIED)  # reopens one level up

    townships = await townships_under(service.session, "530627")
    [row] = await township_stats(
        service.session, townships, now - timedelta(days=1), now + timedelta(days=1), utcnow()
    )
    # The unhappy case was reopened: not resolved any more; "no action" is never "fixed".
    assert (row.township, row.cases, row.resolved, row.fixed, row.rated, row.satisfied) == (
        "以古镇", 3, 1, 1, 2, 1
    )  # fmt: skip
    assert row.resolution_rate == round(1 / 3, 3)
    assert row.overdue_now == 1
    assert row.satisfaction_rate == 0.5
    assert row.response_rate == round(2 / 3, 3)
    assert await townships_under(service.session, "530627102") == ["530627102"]
    elsewhere = await townships_under(service.session, "220100")
    assert await township_stats(service.session, elsewhere, now - timedelta(1), now, now) == []


async def test_notifications_committed_before_a_crash_are_sent_after_restart(
    service: CaseService, settings: Settings, database: Database
) -> None:
    case = await submit(service)  # committed with its outbox row; the process "dies" here
    async with database.sessionmaker() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
        row.locked_until = utcnow() + timedelta(seconds=30)  # claimed by the dead worker
        await session.commit()
    restarted = BotHarness(settings, database)
    assert await restarted.deliver() == []  # the dead worker's lease still holds
    restarted.outbox.clock = lambda: utcnow() + timedelta(seconds=61)
    [sent] = await restarted.deliver()
    assert sent.params["chat_id"] == CADRE
    assert case.number in sent.text
    async with database.sessionmaker() as session:
        assert (await session.get(OutboxMessage, row.id)).sent_at is not None


async def test_long_notifications_are_split_under_the_limit(
    service: CaseService, harness: BotHarness
) -> None:
    case = await submit(service)
    await harness.deliver()
    await service.reply(case, Actor(CADRE, Role.CADRE), "很长的回复。" * 1200)
    sent = await harness.deliver()
    assert len(sent) == 2
    assert all(len(call.text) <= TELEGRAM_LIMIT for call in sent)
    assert "".join(call.text for call in sent).count("很长的回复。") == 1200


def test_split_never_cuts_an_html_tag_or_entity() -> None:
    text = ("a" * 4090) + "<b>bold</b>" + ("&amp;" * 10)
    pieces = split_text(text)
    assert pieces[0] == "a" * 4090
    assert "".join(pieces) == text


async def test_admin_grants_roles_and_links_a_group(
    harness: BotHarness, database: Database, service: CaseService
) -> None:
    refused = texts_of(await harness.send(VILLAGER, "/grant 555 cadre 530627101", lang="en"))
    assert "Only administrators" in refused
    texts_of(await harness.send(ADMIN, "/grant 555 cadre 530627101", lang="en"))
    told = [call.text for call in await harness.deliver() if call.params["chat_id"] == 555]
    assert told == [  # in the default locale: they have not written to the bot yet
        "您现在是云南省昭通市镇雄县以古镇的干部。/start 查看待办和超期的事项，/cases 列出"
        "全部待办，/households 查看您帮扶的农户，/web 登录网页管理台；/help 列出您能用的全部命令。"
    ]
    bad = texts_of(await harness.send(ADMIN, "/grant 556 cadre nowhere", lang="en"))
    assert "No region has the code nowhere" in bad
    async with database.sessionmaker() as session:
        granted = await session.get(User, 555)
        assert (granted.role, granted.area_code) == ("cadre", "530627101")
        assert await session.get(User, 556) is None

    in_private = texts_of(await harness.send(ADMIN, "/linkgroup 530627101", lang="en"))
    assert "group chat" in in_private
    await harness.send_in(-100777, ADMIN, "/linkgroup 530627101", lang="en")
    async with database.sessionmaker() as session:
        assert (await session.get(UnitChat, "530627101")).chat_id == -100777


async def test_stats_for_admins_and_county_cadres_only(
    harness: BotHarness, database: Database, service: CaseService
) -> None:
    await submit(service)
    assert "Only administrators" in texts_of(await harness.send(CADRE, "/stats", lang="en"))
    calls = await harness.send(ADMIN, "/stats", lang="en")
    assert [call.method for call in calls] == ["sendPhoto", "sendMessage"]
    assert "以古镇" in calls[1].text
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(CADRE, Role.CADRE, "530627")
    assert [c.method for c in await harness.send(CADRE, "/stats")] == ["sendPhoto", "sendMessage"]


async def test_admin_reads_unanswered_questions(harness: BotHarness, service: CaseService) -> None:
    await harness.send(VILLAGER, "今天天气怎么样")
    listed = texts_of(await harness.send(ADMIN, "/unanswered", lang="en"))
    assert "今天天气怎么样" in listed
    assert "只有管理员" in texts_of(await harness.send(VILLAGER, "/unanswered"))


async def test_the_bot_does_not_answer_chatter_in_a_township_group(
    harness: BotHarness, database: Database, service: CaseService
) -> None:
    assert await harness.send_in(-100777, CADRE, "明天开会讨论小额信贷") == []
    assert await harness.send_in(-100777, CADRE, "/report") == []


async def test_the_service_makes_one_case_per_confirming_update(service: CaseService) -> None:
    """The second line of defence: replicas without shared Redis may both get the update."""
    first = await submit(service)
    reporter = await service.session.get(User, VILLAGER)
    report = Report(reporter, "zh_Hans", "water", "530627101201", "再来一次")
    once = await service.submit(report, source_update_id=4242)
    again = await service.submit(report, source_update_id=4242)
    assert once.id == again.id != first.id


async def test_two_people_changing_one_case_at_once_cannot_both_win(
    service: CaseService, database: Database, harness: BotHarness
) -> None:
    case = await submit(service)
    async with database.sessionmaker() as one, database.sessionmaker() as two:
        first = CaseService(one, harness.dispatcher["render"])
        second = CaseService(two, harness.dispatcher["render"])
        mine, theirs = await one.get(Case, case.id), await two.get(Case, case.id)
        await first.accept(mine, Actor(CADRE, Role.CADRE))
        with pytest.raises(CaseError):
            await second.escalate(theirs, "accept")  # the deadline job, one moment too late
    async with database.sessionmaker() as session:
        stored = await session.get(Case, case.id)
        kinds = (await session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
        )).all()  # fmt: skip
        queued = (await session.scalars(select(OutboxMessage))).all()
    assert (stored.status, stored.unit_code, stored.escalations) == ("accepted", "530627101", 0)
    assert sorted(kinds) == ["accepted", "submitted"]
    assert not any("⚠️" in message.text for message in queued)


async def test_an_area_admin_stays_within_their_area(
    harness: BotHarness, database: Database, service: CaseService
) -> None:
    county_admin = 903
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(county_admin, Role.ADMIN, "530627")  # 镇雄县
    ok = texts_of(await harness.send(county_admin, "/grant 600 cadre 530627101", lang="en"))
    assert "is now cadre" in ok
    for attempt in (
        "/grant 903 admin",  # everything, for themselves
        "/grant 601 cadre 220100",  # 长春市
        f"/grant {ADMIN} villager",  # demote the global admin
    ):
        reply = texts_of(await harness.send(county_admin, attempt, lang="en"))
        assert "within your own area" in reply
    await harness.send_in(-100888, county_admin, "/linkgroup 220122101", lang="en")
    async with database.sessionmaker() as session:
        assert (await session.get(User, county_admin)).area_code == "530627"
        assert (await session.get(User, ADMIN)).role == "admin"
        assert await session.get(User, 601) is None
        assert await session.get(UnitChat, "220122101") is None

    # Unanswered questions: a Changchun villager's is not shown to the Yunnan county's admin.
    changchun = 604
    async with database.sessionmaker() as session:
        (await UserRepo(session).touch(changchun)).region_code = "220122101201"
        (await session.get(User, VILLAGER)).region_code = "530627101201"
        await session.commit()
    await harness.send(changchun, "长春今天冷不冷")
    await harness.send(VILLAGER, "昭通今天热不热")
    listed = texts_of(await harness.send(county_admin, "/unanswered", lang="en"))
    assert "昭通今天热不热" in listed
    assert "长春今天冷不冷" not in listed
    both = texts_of(await harness.send(ADMIN, "/unanswered", lang="en"))
    assert "长春今天冷不冷" in both


async def test_answers_marked_unhelpful_are_listed_for_admins(
    harness: BotHarness, service: CaseService
) -> None:
    await harness.send(VILLAGER, "小额信贷能贷多少钱")
    await harness.press(VILLAGER, "👎")
    listed = texts_of(await harness.send(ADMIN, "/unanswered", lang="en"))
    assert "小额信贷能贷多少钱 → 小额信贷能借多少钱" in listed  # the entry by its question


async def test_outbox_follows_a_group_upgraded_to_a_supergroup(
    service: CaseService, database: Database, harness: BotHarness
) -> None:
    async with database.sessionmaker() as session:
        session.add(UnitChat(region_code="530627101", chat_id=-100, linked_by=ADMIN))
        await session.commit()
    await submit(service)
    harness.session.fail_next(
        "sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-100999, chat_id=-100,
    )  # fmt: skip
    delivered = [c for c in await harness.deliver() if c.result]
    assert [c.params["chat_id"] for c in delivered] == [-100999]
    async with database.sessionmaker() as session:
        assert (await session.get(UnitChat, "530627101")).chat_id == -100999


async def test_a_group_that_removed_the_bot_is_unlinked_and_cadres_get_cases(
    service: CaseService, database: Database, harness: BotHarness
) -> None:
    async with database.sessionmaker() as session:
        session.add(UnitChat(region_code="530627101", chat_id=-200, linked_by=ADMIN))
        await session.commit()
    await submit(service)
    harness.session.fail_next(
        "sendMessage", 403, "Forbidden: bot was kicked from the group chat", chat_id=-200
    )
    await harness.deliver()
    async with database.sessionmaker() as session:
        assert await session.get(UnitChat, "530627101") is None
    await submit(service)
    assert [c.params["chat_id"] for c in await harness.deliver()] == [CADRE]


async def test_an_unexpected_error_is_retried_until_it_is_sent(
    service: CaseService, database: Database, harness: BotHarness
) -> None:
    """Not given up after 8 attempts: until HUHUQING_OUTBOX_GIVE_UP_DAYS (tests/integration/
    test_outbox.py has the horizon, the backoff and the alerts)."""
    await submit(service)
    for _ in range(12):
        harness.session.fail_next("sendMessage", 404, "Not Found")
    clock = utcnow()
    for attempt in range(13):
        harness.outbox.clock = lambda attempt=attempt: clock + timedelta(seconds=2**9 * attempt)
        await harness.deliver()
    async with database.sessionmaker() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
    assert (row.attempts, row.last_error, row.failed_at) == (13, "TelegramNotFound", None)
    assert row.sent_at is not None


async def test_grant_with_an_odd_id_gets_the_usage(
    harness: BotHarness, service: CaseService
) -> None:
    reply = texts_of(await harness.send(ADMIN, "/grant ² cadre 530627101", lang="en"))
    assert "Usage: /grant" in reply
