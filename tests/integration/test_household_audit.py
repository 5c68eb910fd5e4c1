"""The audit log of household views: a row for every kind of view a cadre or admin makes (bot and
command line), none for a refused attempt; read with `huhuqing audit` and, by admins of the area
only, with /audit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.__main__ import main
from bot.config import Settings
from db import audit, migrate
from db.audit import ViewAction
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.models import HouseholdView, Role, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from tests.harness import BotHarness, texts_of

CADRE = 800  # 以古镇 (530627101)
OTHER_CADRE = 801  # 塘房镇 (530627102)
ADMIN = 900  # 以古镇
OTHER_ADMIN = 901  # 塘房镇
COUNTY_ADMIN = 902  # 永善县 (530627)
VILLAGER = 700
HOUSEHOLD = "SAMPLE-530627101201-01"  # 红星村, 以古镇
NEIGHBOUR = "SAMPLE-530627101202-01"  # 新华村, 以古镇
OUTSIDE = "SAMPLE-530627102201-01"  # 塘房镇
YIGU = "530000/530600/530627/530627101/"


@pytest.fixture
async def people(database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        users = UserRepo(session)
        await users.grant(CADRE, Role.CADRE, "530627101")
        await users.grant(OTHER_CADRE, Role.CADRE, "530627102")
        await users.grant(ADMIN, Role.ADMIN, "530627101")
        await users.grant(OTHER_ADMIN, Role.ADMIN, "530627102")
        await users.grant(COUNTY_ADMIN, Role.ADMIN, "530627")


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`huhuqing` run in-process on the test's database (in a thread: it runs its own loop)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("HUHUQING_DATABASE_URL", settings.database_url)
    return tmp_path


async def huhuqing(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def logged(database: Database) -> list[tuple[str, str, str, str]]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(select(HouseholdView).order_by(HouseholdView.id))
        return [(r.viewer, r.viewer_role, r.action, r.household_number) for r in rows]


async def test_every_kind_of_view_is_logged_and_refusals_are_not(
    harness: BotHarness, database: Database, people: None, cli: Path
) -> None:
    # Refused: another area, a villager, a number that does not exist, a group chat.
    for user, text in (
        (OTHER_CADRE, f"/household {HOUSEHOLD}"),
        (OTHER_CADRE, f"/bindings {HOUSEHOLD}"),
        (OTHER_CADRE, f"/bindcode {HOUSEHOLD}"),
        (VILLAGER, f"/household {HOUSEHOLD}"),
        (VILLAGER, "/households"),
        (VILLAGER, f"/bindcode {HOUSEHOLD}"),
        (CADRE, "/household NO-SUCH-NUMBER"),
    ):
        await harness.send(user, text)
    await harness.send_in(-100777, CADRE, f"/household {HOUSEHOLD}")
    assert await logged(database) == []

    cadre = f"telegram:{CADRE}"
    await harness.send(CADRE, f"/household {HOUSEHOLD}")
    await harness.send(CADRE, f"/bindings {HOUSEHOLD}")
    await harness.send(CADRE, f"/bindcode {HOUSEHOLD}")
    await harness.press(CADRE, "记录走访")
    await harness.press(CADRE, "今天")
    await harness.press(CADRE, "完成")
    await harness.send(CADRE, "/skip")
    assert await logged(database) == [
        (cadre, "cadre", "view", HOUSEHOLD),
        (cadre, "cadre", "bindings", HOUSEHOLD),
        (cadre, "cadre", "bindcode", HOUSEHOLD),
        (cadre, "cadre", "visit", HOUSEHOLD),
    ]
    await harness.send(CADRE, "/households")
    listed = (await logged(database))[4:]
    assert sorted(number for *_, number in listed) == sorted(
        [HOUSEHOLD, NEIGHBOUR, "SAMPLE-530627101201-02", "SAMPLE-530627101202-02"]
    )
    assert {row[:3] for row in listed} == {(cadre, "cadre", "list")}

    # The command line: an export logs each household written, in bulk; a code, its household.
    start = len(await logged(database))
    assert await huhuqing("households", "export", str(cli / "yigu.csv"), "--region", "以古镇") == 0
    assert await huhuqing("households", "bindcode", OUTSIDE) == 0
    assert await huhuqing("households", "export", str(cli / "x.csv"), "--region", "火星村") == 1
    rows = (await logged(database))[start:]
    assert len(rows) == 4 + 1
    exported, code = rows[:4], rows[4]
    assert {number for *_, number in exported} == {number for *_, number in listed}
    assert {(viewer.split(":")[0], role, action) for viewer, role, action, _ in exported} == {
        ("cli", "admin", "export")
    }
    assert code[1:] == ("admin", "bindcode", OUTSIDE)


@pytest.fixture
async def any_database(database_url: str) -> AsyncIterator[Database]:
    await migrate.upgrade_async(database_url)
    database = await open_database(database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
    yield database
    await database.close()


async def test_the_log_on_both_databases(any_database: Database) -> None:
    """One row per household, in bulk for an area; read back by area, number and time."""
    async with any_database.sessionmaker() as session:
        before = utcnow()
        assert await audit.record_area(session, YIGU, "cli:alice", "admin", ViewAction.EXPORT) == 4
        outside = await HouseholdRepo(session).get(OUTSIDE)
        await audit.record(session, [outside], "telegram:801", "cadre", ViewAction.VIEW)
        mine = await audit.views_in_area(session, YIGU)
        assert len(mine) == 4
        assert {(v.viewer, v.action) for v in mine} == {("cli:alice", "export")}
        assert all(v.at >= before and v.household_id is not None for v in mine)
        everything = await audit.views_in_area(session, None, since=before, limit=10)
        assert everything[0].household_number == OUTSIDE  # the newest first
        assert len(everything) == 5
        assert await audit.views_in_area(session, YIGU, number=OUTSIDE) == []
        later = before + timedelta(hours=1)
        assert await audit.views_in_area(session, "", since=later) == []


async def add_views(database: Database) -> None:
    """Views at known times, in two townships."""
    async with database.sessionmaker() as session:
        repo = HouseholdRepo(session)
        for number, viewer, action, at in (
            (HOUSEHOLD, "telegram:800", "view", datetime(2026, 11, 1, 2, 0, tzinfo=UTC)),
            (NEIGHBOUR, "telegram:800", "list", datetime(2026, 11, 20, 15, 59, tzinfo=UTC)),
            (HOUSEHOLD, "cli:alice", "export", datetime(2026, 11, 20, 16, 1, tzinfo=UTC)),
            (OUTSIDE, "telegram:801", "view", datetime(2026, 11, 25, 3, 0, tzinfo=UTC)),
        ):
            household = await repo.get(number)
            session.add(
                HouseholdView(
                    household_id=household.id,
                    household_number=number,
                    region_path=household.region_path,
                    viewer=viewer,
                    viewer_role="admin" if viewer.startswith("cli") else "cadre",
                    action=action,
                    at=at,
                )
            )
        await session.commit()


async def test_huhuqing_audit_filters(
    database: Database, people: None, cli: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_views(database)

    async def lines(*argv: str) -> list[list[str]]:
        assert await huhuqing("audit", *argv) == 0
        return [line.split("\t") for line in capsys.readouterr().out.splitlines()]

    everything = await lines()
    assert [row[4] for row in everything] == [OUTSIDE, HOUSEHOLD, NEIGHBOUR, HOUSEHOLD]
    assert everything[0] == ["2026-11-25 11:00:00+08:00", "telegram:801", "cadre", "view", OUTSIDE]
    assert [row[4] for row in await lines("--region", "530627101")] == [
        HOUSEHOLD, NEIGHBOUR, HOUSEHOLD,
    ]  # fmt: skip
    assert [row[3] for row in await lines("--region", "以古镇", "--household", HOUSEHOLD)] == [
        "export", "view",
    ]  # fmt: skip
    # --since is a day in China: 2026-11-21 00:00 there is 2026-11-20 16:00 UTC.
    assert [row[1] for row in await lines("--since", "2026-11-21")] == ["telegram:801", "cli:alice"]
    assert [row[4] for row in await lines("--limit", "1")] == [OUTSIDE]
    assert await lines("--region", "塘房镇", "--household", HOUSEHOLD) == []

    for argv, message in (
        (["--since", "21/11/2026"], "--since needs a date like 2026-12-01"),
        (["--limit", "0"], "--limit needs a whole number"),
        (["--limit", "ten"], "--limit needs a whole number"),
        (["--region", "火星村"], "no region has the code or name 火星村"),
    ):
        assert await huhuqing("audit", *argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert message in err
        assert "Traceback" not in err


async def test_audit_command_for_admins_of_the_area_only(
    harness: BotHarness, database: Database, people: None
) -> None:
    await add_views(database)
    text = texts_of(await harness.send(ADMIN, "/audit"))
    assert text.splitlines()[0] == "您辖区农户的查看记录（最新的在前）："
    assert "telegram:800 (干部) 查看 " + HOUSEHOLD in text
    assert "cli:alice (管理员) 导出" in text
    assert OUTSIDE not in text
    assert "2026-11-01 10:00" in text  # China's time

    one = texts_of(await harness.send(ADMIN, f"/audit {NEIGHBOUR}"))
    assert one.splitlines() == [
        f"农户 {NEIGHBOUR} 的查看记录（最新的在前）：",
        f"• 2026-11-20 23:59 telegram:800 (干部) 列表中显示 {NEIGHBOUR}",
    ]
    nothing = "没有查看农户的记录。"
    assert texts_of(await harness.send(ADMIN, f"/audit {OUTSIDE}")) == nothing
    assert texts_of(await harness.send(ADMIN, "/audit NO-SUCH-NUMBER")) == nothing
    assert OUTSIDE in texts_of(await harness.send(OTHER_ADMIN, "/audit"))
    assert HOUSEHOLD not in texts_of(await harness.send(OTHER_ADMIN, "/audit"))
    county = texts_of(await harness.send(COUNTY_ADMIN, "/audit"))
    for number in (HOUSEHOLD, NEIGHBOUR, OUTSIDE):
        assert number in county

    for user in (CADRE, VILLAGER):
        assert texts_of(await harness.send(user, "/audit")) == "只有管理员可以进行此操作。"
    assert "私聊" in texts_of(await harness.send_in(-100777, ADMIN, "/audit"))
