"""handlers/access.py: a cadre without an area handles nothing — no case and no household of any
area, in the bot or through the rule itself — while an admin without an area sees everything."""

from __future__ import annotations

import pytest

from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.models import Case, Role, User
from db.regions import RegionRepo
from db.session import Database
from db.users import UserRepo
from grievances.service import CaseService, Report
from handlers.access import area_path, household_in_area
from tests.harness import BotHarness, texts_of

VILLAGER, NO_AREA_CADRE, TOWNSHIP_CADRE, ADMIN = 601, 602, 603, 604
TOWNSHIP, VILLAGE = "530627101", "530627101201"  # 以古镇, its 红星村
HOUSEHOLD = "SAMPLE-530627101201-01"  # 张三明 (shown 张*明), of 红星村


@pytest.fixture
async def case(database: Database, harness: BotHarness) -> Case:
    """A case and a household of 以古镇; a cadre and an admin without an area, a cadre with one."""
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        users = UserRepo(session)
        await users.grant(NO_AREA_CADRE, Role.CADRE, None)
        await users.grant(TOWNSHIP_CADRE, Role.CADRE, TOWNSHIP)
        await users.grant(ADMIN, Role.ADMIN, None)
        (await users.touch(VILLAGER)).region_code = VILLAGE
        await session.commit()
        reporter = await session.get_one(User, VILLAGER)
        report = Report(reporter, "zh_Hans", "water", VILLAGE, "村里的水管坏了")
        return await CaseService(session, harness.dispatcher["render"]).submit(report)


async def test_the_rule_gives_a_cadre_without_an_area_nothing(
    database: Database, case: Case
) -> None:
    async with database.sessionmaker() as session:
        regions = RegionRepo(session)
        users = {
            user_id: await session.get_one(User, user_id)
            for user_id in (NO_AREA_CADRE, TOWNSHIP_CADRE, ADMIN)
        }
        assert await area_path(users[NO_AREA_CADRE], regions) is None
        assert await area_path(users[ADMIN], regions) == ""  # everything
        assert case.unit_path.startswith(await area_path(users[TOWNSHIP_CADRE], regions) or "?")
        assert await household_in_area(users[NO_AREA_CADRE], regions, session, HOUSEHOLD) is None
        found = await household_in_area(users[TOWNSHIP_CADRE], regions, session, HOUSEHOLD)
        assert found is not None
        assert found.number == HOUSEHOLD


async def test_a_cadre_without_an_area_sees_no_case_in_the_bot(
    harness: BotHarness, case: Case
) -> None:
    listed = texts_of(await harness.send(NO_AREA_CADRE, "/cases", lang="en"))
    assert listed == "Only township and county cadres can see cases."
    shown = texts_of(await harness.send(NO_AREA_CADRE, f"/case {case.number}", lang="en"))
    assert case.number not in shown
    assert "村里的水管坏了" not in shown
    # The same case is listed to its township's cadre: the check above can fail.
    assert case.number in texts_of(await harness.send(TOWNSHIP_CADRE, "/cases", lang="en"))


async def test_a_cadre_without_an_area_sees_no_household_in_the_bot(
    harness: BotHarness, case: Case
) -> None:
    listed = texts_of(await harness.send(NO_AREA_CADRE, "/households", lang="en"))
    assert listed == "Only township and county cadres can do this."
    shown = texts_of(await harness.send(NO_AREA_CADRE, f"/household {HOUSEHOLD}", lang="en"))
    assert shown == "Only township and county cadres can do this."
    assert "张*明" in texts_of(
        await harness.send(TOWNSHIP_CADRE, f"/household {HOUSEHOLD}", lang="en")
    )
