"""Binding accounts to households, in-process: codes, links, members, unbinding, guessing limits,
and cadres acting only within their area."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from db import migrate
from db.bindings import BindingRepo, Outcome
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.models import BindingAttempt, BindingCode, HouseholdBinding, Role, User, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from handlers.keyboards import BindingUnbind
from tests.harness import BotHarness, alerts_of, texts_of

VILLAGER = 700
SPOUSE = 701
CADRE = 800  # 以古镇 (530627101)
OTHER_CADRE = 801  # 塘房镇 (530627102)
OTHER_ADMIN = 803  # an admin of 塘房镇
GROUP = -100555
HOUSEHOLD = "SAMPLE-530627101201-01"  # 红星村, 以古镇: 张三明
OTHER_HOUSEHOLD = "SAMPLE-530627102201-01"  # 塘房镇
LINKED = "已绑定：红星村 张*明 户"
REFUSED = "这个绑定码用不了"
NOT_FOUND = "没有找到这一户。"


@pytest.fixture
async def people(database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        users = UserRepo(session)
        await users.grant(CADRE, Role.CADRE, "530627101")
        await users.grant(OTHER_CADRE, Role.CADRE, "530627102")
        await users.grant(OTHER_ADMIN, Role.ADMIN, "530627102")


async def new_code(harness: BotHarness, cadre: int = CADRE, number: str = HOUSEHOLD) -> str:
    calls = await harness.send(cadre, f"/bindcode {number}")
    found = re.search(r"<b>(\w{4}-\w{4})</b>", texts_of(calls))
    assert found, texts_of(calls)
    return found.group(1)


async def bindings(database: Database) -> list[HouseholdBinding]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(select(HouseholdBinding).order_by(HouseholdBinding.id))
        return list(rows.all())


async def test_a_cadre_creates_a_code_and_the_villager_binds_by_the_link(
    harness: BotHarness, database: Database, people: None
) -> None:
    calls = await harness.send(CADRE, f"/bindcode {HOUSEHOLD}")
    text = texts_of(calls)
    code = re.search(r"<b>(\w{4}-\w{4})</b>", text).group(1)
    link = f"https://t.me/huhuqing_bot?start=bind_{code.replace('-', '')}"
    assert "红星村 张*明" in text
    assert link in text
    assert "张三明" not in text
    [photo] = [call for call in calls if call.method == "sendPhoto"]
    assert "明白卡" in photo.text
    assert photo.params["chat_id"] == CADRE

    told = texts_of(await harness.send(VILLAGER, f"/start bind_{code.replace('-', '')}"))
    assert LINKED in told
    async with database.sessionmaker() as session:
        villager = await session.get(User, VILLAGER)
        assert villager.region_code == "530627101201"  # the household's village, at once
        stored = await session.scalar(select(BindingCode))
    assert (stored.used_by, stored.created_by) == (VILLAGER, f"telegram:{CADRE}")
    assert code.replace("-", "") not in str(vars(stored))  # only the hash is kept
    [binding] = await bindings(database)
    assert (binding.telegram_id, binding.unbound_at) == (VILLAGER, None)


async def test_bind_command_several_members_and_a_code_works_once(
    harness: BotHarness, database: Database, people: None
) -> None:
    first, second = await new_code(harness), await new_code(harness)
    assert LINKED in texts_of(await harness.send(VILLAGER, f"/bind  {first.lower()}"))
    # The same code again, by anyone: refused.
    assert REFUSED in texts_of(await harness.send(SPOUSE, f"/bind {first}"))
    spaced = " ".join(second.replace("-", ""))
    assert LINKED in texts_of(await harness.send(SPOUSE, f"/bind {spaced}"))
    assert [b.telegram_id for b in await bindings(database)] == [VILLAGER, SPOUSE]

    listed = await harness.send(CADRE, f"/bindings {HOUSEHOLD}")
    assert "：2 个" in texts_of(listed)
    labels = [label for label, _ in listed[0].buttons]
    assert labels == [f"解除 {VILLAGER} 的绑定", f"解除 {SPOUSE} 的绑定"]
    # Without a code: how to get one. Binding again to one's own household keeps the code.
    assert "/bind K7MQ-4QXA" in texts_of(await harness.send(VILLAGER, "/bind"))
    third = await new_code(harness)
    assert "已经绑定了 红星村 张*明 户" in texts_of(await harness.send(VILLAGER, f"/bind {third}"))
    async with database.sessionmaker() as session:
        household = await HouseholdRepo(session).get(HOUSEHOLD)
        assert await BindingRepo(session).open_codes(household) == 1


async def test_expired_and_revoked_codes_are_refused_alike(
    harness: BotHarness, database: Database, people: None
) -> None:
    expired, revoked = await new_code(harness), await new_code(harness)
    async with database.sessionmaker() as session:
        await session.execute(
            update(BindingCode)
            .where(BindingCode.id == 1)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    assert "：1 个" in texts_of(await harness.send(CADRE, f"/revokecodes {HOUSEHOLD}"))
    for code in (expired, revoked, "AAAA-AAAA"):
        told = texts_of(await harness.send(VILLAGER, f"/bind {code}"))
        assert told == "这个绑定码用不了。请核对一下，或者向村干部要一个新的。"
    assert await bindings(database) == []
    assert LINKED in texts_of(await harness.send(VILLAGER, f"/bind {await new_code(harness)}"))


@pytest.fixture
async def any_database(database_url: str) -> AsyncIterator[Database]:
    """The registry on SQLite and on PostgreSQL."""
    await migrate.upgrade_async(database_url)
    database = await open_database(database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
    yield database
    await database.close()


async def test_the_repository_on_a_clock(any_database: Database) -> None:
    """Expiry after 7 days, one use, revocation and the guessing limit, with a given time."""
    start = utcnow()
    async with any_database.sessionmaker() as session:
        users, repo = UserRepo(session), BindingRepo(session)
        household = await HouseholdRepo(session).get(HOUSEHOLD)
        late, member, guesser = [await users.touch(uid) for uid in (VILLAGER, SPOUSE, 702)]
        code, expires = await repo.create_code(household, "test", now=start)
        assert expires == start + timedelta(days=7)
        later = start + timedelta(days=7, seconds=1)
        assert (await repo.bind(late, code, now=later)).outcome == Outcome.INVALID

        code, _ = await repo.create_code(household, "test", now=start)
        soon = start + timedelta(days=6, hours=23)
        bound = await repo.bind(member, code, now=soon)
        assert (bound.outcome, bound.household.number) == (Outcome.BOUND, HOUSEHOLD)
        assert (await repo.bind(late, code, now=soon)).outcome == Outcome.INVALID

        revoked, _ = await repo.create_code(household, "test", now=start)
        assert await repo.revoke_codes(household, now=start) == 2  # with the first, unused one
        assert (await repo.bind(guesser, revoked, now=start)).outcome == Outcome.INVALID

        right, _ = await repo.create_code(household, "test", now=start)
        for minute in range(1, 5):  # with the revoked one above: five wrong codes
            moment = start + timedelta(minutes=minute)
            assert (await repo.bind(guesser, "XXXX-XXXX", now=moment)).outcome == Outcome.INVALID
        blocked = await repo.bind(guesser, right, now=start + timedelta(minutes=10))
        assert (blocked.outcome, blocked.wait) == (Outcome.BLOCKED, timedelta(minutes=50))
        after = start + timedelta(hours=1, seconds=1)
        assert (await repo.bind(guesser, right, now=after)).outcome == Outcome.BOUND
        assert [b.telegram_id for b in await repo.members(household)] == [SPOUSE, 702]


async def test_a_member_unbinds_themself_after_confirming(
    harness: BotHarness, database: Database, people: None
) -> None:
    assert "还没有绑定" in texts_of(await harness.send(VILLAGER, "/unbind"))
    await harness.send(VILLAGER, f"/bind {await new_code(harness)}")
    asked = texts_of(await harness.send(VILLAGER, "/unbind"))
    assert "要解除您的账号与 红星村 张*明 户的绑定吗？" in asked
    assert "没有改动" in texts_of(await harness.press_prefix(VILLAGER, "ubk"))
    assert (await bindings(database))[0].unbound_at is None

    await harness.send(VILLAGER, "/unbind")
    told = texts_of(await harness.press_prefix(VILLAGER, "ub:"))
    assert "您的账号已解除与 红星村 张*明 户的绑定。" in told
    assert (await bindings(database))[0].unbound_at is not None
    assert "还没有绑定" in texts_of(await harness.send(VILLAGER, "/unbind"))


async def test_traditional_readers_see_the_household_in_traditional_characters(
    harness: BotHarness, database: Database, people: None
) -> None:
    # Unlinked, /unbind is no dead end: it says how to link.
    unbound = texts_of(await harness.send(VILLAGER, "/unbind", lang="zh-TW"))
    assert "還沒有綁定" in unbound
    assert "/bind" in unbound
    told = texts_of(await harness.send(VILLAGER, f"/bind {await new_code(harness)}"))
    assert "已綁定：紅星村 張*明 戶。" in told
    again = texts_of(await harness.send(VILLAGER, f"/bind {await new_code(harness)}"))
    assert "紅星村 張*明" in again
    assert "红星村" not in told + again
    assert "紅星村 張*明" in texts_of(await harness.send(VILLAGER, "/unbind"))
    assert "紅星村 張*明" in texts_of(await harness.press_prefix(VILLAGER, "ub:"))


async def test_a_cadre_of_the_area_unbinds_a_member_and_no_one_else_can(
    harness: BotHarness, database: Database, people: None
) -> None:
    await harness.send(VILLAGER, f"/bind {await new_code(harness)}")
    [binding] = await bindings(database)
    forged = BindingUnbind(binding_id=binding.id).pack()
    for outsider in (OTHER_CADRE, OTHER_ADMIN, SPOUSE):
        calls = await harness.press_data(outsider, forged)
        assert alerts_of(calls) == ["这个选项已经失效了。"]
    assert (await bindings(database))[0].unbound_at is None

    await harness.send(CADRE, f"/bindings {HOUSEHOLD}")
    told = texts_of(await harness.press_prefix(CADRE, "ub:"))
    assert f"账号 {VILLAGER} 已解除与 红星村 张*明 户的绑定。" in told
    assert (await bindings(database))[0].unbound_at is not None
    # A second tap (or a stale button) finds nothing to do.
    assert alerts_of(await harness.press_data(CADRE, forged)) == ["这个选项已经失效了。"]


async def test_guessing_is_stopped_after_five_wrong_codes_for_an_hour(
    harness: BotHarness, database: Database, people: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="db.bindings")
    code = await new_code(harness)
    guesses = ["AAAA-AAA3", "AAAA-AAA4", "AAAA-AAA6", "AAAA-AAA7", "AAAA-AAA9"]
    for guess in guesses:
        assert REFUSED in texts_of(await harness.send(VILLAGER, f"/bind {guess}"))
    # Now even the right code is not looked at.
    told = texts_of(await harness.send(VILLAGER, f"/bind {code}"))
    assert told == "输错的次数太多了。请等 60 分钟后再试。"
    assert await bindings(database) == []
    # Another villager is not held up by this one's guesses.
    assert REFUSED in texts_of(await harness.send(SPOUSE, "/bind AAAA-AAAA"))

    await attempts_earlier(database, timedelta(minutes=30))
    told = texts_of(await harness.send(VILLAGER, f"/start bind_{code}"))
    assert told == "输错的次数太多了。请等 30 分钟后再试。"
    await attempts_earlier(database, timedelta(minutes=31))
    assert LINKED in texts_of(await harness.send(VILLAGER, f"/bind {code}"))

    logged = [r.getMessage() for r in caplog.records if r.name == "db.bindings"]
    assert logged == (
        [f"binding attempt user={VILLAGER} outcome=invalid"] * 5
        + [f"binding attempt user={VILLAGER} outcome=blocked"]
        + [f"binding attempt user={SPOUSE} outcome=invalid"]
        + [f"binding attempt user={VILLAGER} outcome=blocked"]
        + [f"binding attempt user={VILLAGER} outcome=bound"]
    )
    everything = caplog.text.upper()
    for typed in [code, *guesses]:
        assert typed not in everything
        assert typed.replace("-", "") not in everything
    async with database.sessionmaker() as session:
        oks = (await session.scalars(select(BindingAttempt.ok).order_by(BindingAttempt.id))).all()
    assert oks == [False] * 6 + [True]  # blocked tries are not attempts


async def attempts_earlier(database: Database, by: timedelta) -> None:
    """As if the attempts so far had been made that much earlier."""
    async with database.sessionmaker() as session:
        for attempt in (await session.scalars(select(BindingAttempt))).all():
            attempt.at -= by
        await session.commit()


async def test_cadres_act_only_within_their_area(
    harness: BotHarness, database: Database, people: None
) -> None:
    for command in ("bindcode", "revokecodes", "bindings"):
        outside = await harness.send(OTHER_CADRE, f"/{command} {HOUSEHOLD}")
        forged = await harness.send(OTHER_CADRE, f"/{command} SAMPLE-530627101201-99")
        admin = await harness.send(OTHER_ADMIN, f"/{command} {HOUSEHOLD}")
        assert texts_of(outside) == texts_of(forged) == texts_of(admin) == NOT_FOUND
    async with database.sessionmaker() as session:
        assert await session.scalar(select(BindingCode)) is None

    # Within their own area they can; a villager cannot at all; in a group nothing is shown.
    own = await harness.send(OTHER_ADMIN, f"/bindcode {OTHER_HOUSEHOLD}")
    assert re.search(r"<b>\w{4}-\w{4}</b>", texts_of(own))
    villager = texts_of(await harness.send(VILLAGER, f"/bindcode {HOUSEHOLD}"))
    assert villager == "只有乡镇和县里的干部才能这样做。"
    group = texts_of(await harness.send_in(GROUP, CADRE, f"/bindcode {HOUSEHOLD}"))
    assert group == "请在和我的私聊里办这件事。"
    async with database.sessionmaker() as session:
        codes = (await session.scalars(select(BindingCode))).all()
    assert len(codes) == 1
