"""The Audit log page: the admin action log of the admin's area, newest first, filtered and
paged; the household-view log of the area; cadres refused; the log itself append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from db.models import AdminAction, HouseholdView, Role
from db.regions import RegionRepo
from db.session import Database
from grievances.roles import area_path_of
from tests.integration.web.conftest import NONGAN, YIGU, ZHENXIONG, Console, give_role

pytestmark = pytest.mark.both_databases
COUNTY_ADMIN, ADMIN, CADRE = 8401, 8402, 8501
# 2026-12-01 01:00 and 2026-11-30 23:00 in Beijing: one each side of the day's start there.
AFTER_MIDNIGHT = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
BEFORE_MIDNIGHT = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


async def _log(database: Database, *rows: tuple[str, str, str | None, datetime, int]) -> None:
    """Rows of (action, target, region code or None for everything, when, actor)."""
    async with database.sessionmaker() as session:
        regions = RegionRepo(session)
        for action, target, code, at, actor in rows:
            session.add(
                AdminAction(
                    at=at,
                    actor_id=actor,
                    actor_role="admin",
                    origin="bot",
                    action=action,
                    target=target,
                    area_path=await area_path_of(regions, code),
                    details={"role": "cadre", "area": code},
                )
            )
        await session.commit()


@pytest.fixture
async def county_admin(console: Console, database: Database) -> Console:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await console.sign_in(COUNTY_ADMIN)
    return console


async def test_an_admin_reads_the_log_of_their_area_only(
    county_admin: Console, database: Database
) -> None:
    await _log(
        database,
        ("role.grant", "target-yigu", YIGU, AFTER_MIDNIGHT, ADMIN),
        ("case.accept", "target-county", ZHENXIONG, BEFORE_MIDNIGHT, COUNTY_ADMIN),
        ("role.revoke", "target-nongan", NONGAN, AFTER_MIDNIGHT, ADMIN),
        ("kb.save", "target-everything", None, AFTER_MIDNIGHT, ADMIN),
    )
    shown = await county_admin.text("/audit")
    assert shown.index("target-yigu") < shown.index("target-county")  # newest first
    assert "target-nongan" not in shown
    assert "target-everything" not in shown
    assert "web.sign_in" not in shown  # the admin's own sign-in concerns no area
    assert "管理员 8402" in shown
    assert "role: cadre; area: 530627101" in shown
    assert '<option value="role.">' in shown
    assert 'value="kb."' not in shown  # no action of that kind in the area
    await give_role(database, ADMIN, Role.ADMIN, None)
    await county_admin.sign_in(ADMIN)
    everything = await county_admin.text("/audit")
    for target in ("target-yigu", "target-county", "target-nongan", "target-everything"):
        assert target in everything


async def test_filters_by_action_actor_and_beijing_day(
    county_admin: Console, database: Database
) -> None:
    await _log(
        database,
        ("role.grant", "granted-after", YIGU, AFTER_MIDNIGHT, ADMIN),
        ("role.revoke", "revoked-before", YIGU, BEFORE_MIDNIGHT, ADMIN),
        ("case.accept", "accepted-after", YIGU, AFTER_MIDNIGHT, COUNTY_ADMIN),
    )
    roles = await county_admin.text("/audit?action=role.")
    assert "granted-after" in roles
    assert "revoked-before" in roles
    assert "accepted-after" not in roles
    by_actor = await county_admin.text(f"/audit?actor={COUNTY_ADMIN}")
    assert "accepted-after" in by_actor
    assert "granted-after" not in by_actor
    first_of_december = await county_admin.text("/audit?since=2026-12-01&until=2026-12-01")
    assert "granted-after" in first_of_december
    assert "revoked-before" not in first_of_december
    thirtieth = await county_admin.text("/audit?since=2026-11-30&until=2026-11-30")
    assert "revoked-before" in thirtieth
    assert "granted-after" not in thirtieth
    bad = await county_admin.get("/audit?actor=someone&since=yesterday")
    assert bad.status == 400
    assert "不是 Telegram ID" in await bad.text()
    assert (await county_admin.get("/audit?since=yesterday")).status == 400


async def test_the_log_is_paged_by_fifty(county_admin: Console, database: Database) -> None:
    rows = [
        (
            "role.grant",
            f"row-{number:02d}|",
            YIGU,
            AFTER_MIDNIGHT + timedelta(seconds=number),
            ADMIN,
        )
        for number in range(55)
    ]
    await _log(database, *rows)
    first = await county_admin.text("/audit?action=role.")
    assert first.count("row-") == 50
    assert "row-54|" in first
    assert "row-04|" not in first
    assert "/audit?action=role.&amp;page=2" in first
    second = await county_admin.text("/audit?action=role.&page=2")
    assert second.count("row-") == 5
    assert "row-00|" in second
    assert "/audit?action=role.&amp;page=1" in second
    assert "page=3" not in second


async def test_household_views_of_the_area(county_admin: Console, database: Database) -> None:
    async with database.sessionmaker() as session:
        regions = RegionRepo(session)
        for number, code in (("HH-YIGU-1", YIGU), ("HH-NONGAN-1", NONGAN)):
            session.add(
                HouseholdView(
                    household_number=number,
                    region_path=await area_path_of(regions, code) + "999/",
                    viewer=f"telegram:{CADRE}",
                    viewer_role="cadre",
                    action="view",
                )
            )
        await session.commit()
    views = await county_admin.text("/audit/views")
    assert "HH-YIGU-1" in views
    assert "HH-NONGAN-1" not in views
    assert f"干部 telegram:{CADRE}" in views
    assert "HH-YIGU-1" not in await county_admin.text("/audit/views?number=HH-OTHER")
    assert (await county_admin.get("/audit/views?since=1.12.")).status == 400


async def test_cadres_have_no_audit_log(console: Console, database: Database) -> None:
    await give_role(database, CADRE, Role.CADRE, ZHENXIONG)
    await console.sign_in(CADRE)
    assert (await console.get("/audit")).status == 403
    assert (await console.get("/audit/views")).status == 403


async def test_the_audit_page_speaks_three_languages(county_admin: Console) -> None:
    assert "管理操作" in await county_admin.text("/audit")
    await county_admin.get("/language/zh_Hant?next=/audit")
    assert "農戶查看記錄" in await county_admin.text("/audit")
    await county_admin.get("/language/en?next=/audit")
    english = await county_admin.text("/audit")
    assert "Admin actions" in english
    assert "No actions match." in english
    assert "Household views" in await county_admin.text("/audit/views")


async def test_the_database_refuses_to_change_or_delete_the_log(database: Database) -> None:
    await _log(database, ("role.grant", "kept", YIGU, AFTER_MIDNIGHT, ADMIN))
    for statement in (
        update(AdminAction).values(target="rewritten"),
        delete(AdminAction),
    ):
        async with database.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(statement)
    async with database.sessionmaker() as session:
        assert (await session.scalars(select(AdminAction.target))).all() == ["kept"]
