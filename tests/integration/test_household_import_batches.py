"""The import reads and writes a batch of rows at a time in one transaction: a wrong row after
batches already written still leaves nothing, every problem is still reported, and a GBK CSV
(as Excel in China saves it) reads like UTF-8. A household's region names come from its stored
path, and still follow the region tree when a village has moved since the import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update

import db.household_import
from db import migrate
from db.household_import import HouseholdImportError, import_households
from db.households import HouseholdRepo
from db.models import Household, HouseholdMember, HouseholdVersion, Region
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import create_engine, create_sessionmaker
from db.spreadsheets import open_table

HEAD = "number,village,head_name,status,members\n"


def row(number: int, village: str = "530627101201", status: str = "一般农户") -> str:
    return f"H-{number:03d},{village},张三明,{status},户主:60+:劳动力;配偶:60+\n"


@pytest.fixture
async def sessionmaker(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(db.household_import, "_CHUNK", 2)  # batches of two rows
    await migrate.upgrade_async(database_url)
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        await import_regions(session, SAMPLE_REGIONS)
    yield maker
    await engine.dispose()


async def count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_many_batches_are_all_written(sessionmaker, tmp_path: Path) -> None:
    path = tmp_path / "households.csv"
    path.write_text(HEAD + "".join(row(n) for n in range(7)), encoding="utf-8")
    async with sessionmaker() as session:
        report = await import_households(session, path, "test")
    assert report.added == 7
    assert await count(sessionmaker, Household) == 7
    assert await count(sessionmaker, HouseholdMember) == 14
    assert await count(sessionmaker, HouseholdVersion) == 7


async def test_a_wrong_row_after_written_batches_leaves_nothing(
    sessionmaker, tmp_path: Path
) -> None:
    path = tmp_path / "households.csv"
    lines = [row(n) for n in range(7)]
    lines[5] = row(5, village="999999")  # file row 7, in the third batch
    lines.append(row(1))  # file row 9: a number already written two batches before
    path.write_text(HEAD + "".join(lines), encoding="utf-8")
    async with sessionmaker() as session:
        with pytest.raises(HouseholdImportError) as caught:
            await import_households(session, path, "test")
    assert caught.value.problems == [
        f"{path}:9: number: H-001 repeats row 3",
        f"{path}:7: village: no region has the code 999999",
    ]
    assert await count(sessionmaker, Household) == 0
    assert await count(sessionmaker, HouseholdMember) == 0
    assert await count(sessionmaker, HouseholdVersion) == 0


async def test_a_reimport_over_several_batches_updates_by_number(
    sessionmaker, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HEAD + "".join(row(n) for n in range(5)), encoding="utf-8")
    # Two changed, one new, three as they were.
    changed = [row(0, status="未脱贫"), row(1), row(2), row(3, status="未脱贫"), row(4), row(5)]
    second.write_text(HEAD + "".join(changed), encoding="utf-8")
    async with sessionmaker() as session:
        await import_households(session, first, "test")
    async with sessionmaker() as session:
        report = await import_households(session, second, "test")
    assert (report.added, report.changed, report.unchanged) == (1, 2, 3)
    async with sessionmaker() as session:
        statuses = dict((await session.execute(select(Household.number, Household.status))).all())
    assert statuses["H-000"] == statuses["H-003"] == "未脱贫"
    assert await count(sessionmaker, HouseholdVersion) == 8
    assert await count(sessionmaker, HouseholdMember) == 12


def test_a_gbk_csv_reads_like_utf8(tmp_path: Path) -> None:
    text = HEAD + row(1)
    gbk, utf8 = tmp_path / "gbk.csv", tmp_path / "utf8.csv"
    gbk.write_bytes(text.encode("gbk"))
    utf8.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # with the BOM Excel writes
    with open_table(gbk) as a, open_table(utf8) as b:
        assert a.header == b.header == HEAD.strip().split(",")
        assert list(a.rows) == list(b.rows) == [(2, row(1).strip().split(","))]


async def test_region_names_follow_a_village_moved_after_the_import(
    sessionmaker, tmp_path: Path
) -> None:
    path = tmp_path / "households.csv"
    path.write_text(HEAD + row(1), encoding="utf-8")
    async with sessionmaker() as session:
        await import_households(session, path, "test")
    async with sessionmaker() as session:
        repo = HouseholdRepo(session)
        assert (await repo.profile(await repo.get("H-001"))).region_names == (
            "云南省", "昭通市", "镇雄县", "以古镇", "红星村",
        )  # fmt: skip
        await session.execute(
            update(Region).where(Region.code == "530627101201").values(parent_code="530627102")
        )
        await session.commit()
    async with sessionmaker() as session:
        repo = HouseholdRepo(session)
        assert (await repo.profile(await repo.get("H-001"))).region_names == (
            "云南省", "昭通市", "镇雄县", "塘房镇", "红星村",
        )  # fmt: skip
