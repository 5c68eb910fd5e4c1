"""Nothing false told: a township with no cadre and no linked group hands its case one level up
(or to the area's admins); the reporter is told who handles it and the admins that the township
has nobody; "the handlers are told" only when someone was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Case, CaseEvent, Role
from db.session import Database
from db.users import UserRepo
from handlers.keyboards import CaseOutcome
from tests.harness import BotHarness, texts_of

pytestmark = pytest.mark.both_databases

VILLAGER = 720  # lives in 红星村, 以古镇 (530627101), 镇雄县 (530627)
COUNTY_CADRE = 820
COUNTY_ADMIN = 821


async def add(database: Database, *granted: tuple[int, Role, str]) -> None:
    async with database.sessionmaker() as session:
        users = UserRepo(session)
        for user_id, role, area in granted:
            await users.grant(user_id, role, area)
        (await users.touch(VILLAGER)).region_code = "530627101201"
        await session.commit()


async def report(harness: BotHarness, database: Database, text: str) -> tuple[Case, str]:
    """The case and the reporter's confirmation, as delivered."""
    await harness.send(VILLAGER, "/report", lang="en")
    await harness.press_prefix(VILLAGER, "rc:water")
    await harness.press_prefix(VILLAGER, "rs:place_ok")
    await harness.send(VILLAGER, text)
    await harness.press_prefix(VILLAGER, "rs:done")
    await harness.press_prefix(VILLAGER, "rs:anonymous")
    await harness.press_prefix(VILLAGER, "rs:submit")
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()))
    [received] = [text for text in harness.texts(VILLAGER) if "tracking number" in text]
    return case, received


async def test_a_township_with_nobody_hands_the_case_up_and_says_so(
    harness: BotHarness, database: Database
) -> None:
    await add(database, (COUNTY_CADRE, Role.CADRE, "530627"), (COUNTY_ADMIN, Role.ADMIN, "530627"))
    case, received = await report(harness, database, "自来水停了三天")
    assert case.unit_code == "530627"  # 镇雄县, not 以古镇 where nobody would see it
    assert "以古镇 has no one registered to handle cases, so" in received
    assert "镇雄县 handles it" in received
    delivered = await harness.deliver()
    to = {call.params["chat_id"]: call.text for call in delivered}
    assert set(to) == {COUNTY_CADRE, COUNTY_ADMIN}
    assert "以古镇没有登记干部，也没有关联工作群，所以这件诉求交给了您" in to[COUNTY_CADRE]
    assert case.number in to[COUNTY_CADRE]
    async with database.sessionmaker() as session:
        kinds = (await session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id))).all()
    assert kinds == ["submitted", "unstaffed"]


async def test_the_area_admins_are_told_when_the_unit_above_takes_it(
    harness: BotHarness, database: Database
) -> None:
    await add(database, (COUNTY_CADRE, Role.CADRE, "530627"), (COUNTY_ADMIN, Role.ADMIN, "530600"))
    case, _ = await report(harness, database, "路灯坏了")
    delivered = {call.params["chat_id"]: call.text for call in await harness.deliver()}
    assert "以古镇没有登记干部，也没有关联工作群" in delivered[COUNTY_ADMIN]
    assert f"诉求{case.number}已改由云南省昭通市镇雄县办理" in delivered[COUNTY_ADMIN]
    assert "/grant" in delivered[COUNTY_ADMIN]


async def test_nobody_anywhere_is_said_plainly_and_nobody_is_claimed_told(
    harness: BotHarness, database: Database
) -> None:
    await add(database)
    case, received = await report(harness, database, "桥塌了")
    assert "Nobody is registered yet to handle cases for" in received
    assert "handles it" not in received
    await harness.send(VILLAGER, "/mycases", lang="en")
    await harness.press_prefix(VILLAGER, f"cv:{case.id}")
    await harness.press_prefix(VILLAGER, f"cai:{case.id}")
    added = texts_of(await harness.send(VILLAGER, "桥是昨天塌的"))
    assert "Nobody is registered to handle it yet" in added
    assert "the handlers are told" not in added


async def test_a_case_reopened_where_nobody_is_registered_says_so(
    harness: BotHarness, database: Database
) -> None:
    township_cadre = 822
    await add(database, (township_cadre, Role.CADRE, "530627101"))
    case, _ = await report(harness, database, "水又停了")
    await harness.press_data(township_cadre, CaseOutcome(case_id=case.id, outcome="fixed").pack())
    await harness.send(township_cadre, "修好了")
    await harness.deliver()
    await harness.press_prefix(VILLAGER, f"cr:{case.id}:unsatisfied")
    await harness.press_prefix(VILLAGER, f"crs:{case.id}")
    told = texts_of(await harness.deliver())
    assert "is reopened and goes to 云南省昭通市镇雄县" in told
    assert "Nobody is registered there yet to handle it" in told
