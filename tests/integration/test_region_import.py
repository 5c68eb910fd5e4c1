"""`huhuqing regions import`: good files load, a bad row names its line and imports nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import migrate
from db.models import Region
from db.region_import import SAMPLE_REGIONS, RegionImportError, import_regions
from db.regions import RegionRepo
from db.session import create_engine, create_sessionmaker

GOOD_CSV = """code,name,level,parent,aliases
53,云南省,province,,云南|滇
5306,昭通市,city,53,昭通
530627,镇雄县,county,5306,
530627101,以古镇,township,530627,
530627101201,红星村,village,530627101,红星;紅星
"""


@pytest.fixture
async def sessionmaker(database_url: str):
    await migrate.upgrade_async(database_url)
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def count_regions(sessionmaker) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Region))


async def test_csv_registry_imports_with_aliases(sessionmaker, tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    async with sessionmaker() as session:
        assert await import_regions(session, path) == 5
    async with sessionmaker() as session:
        repo = RegionRepo(session)
        assert await repo.full_name("530627101201") == "云南省昭通市镇雄县以古镇红星村"
        assert [r.code for r in await repo.find("紅星")] == ["530627101201"]


async def test_sample_yaml_registry_imports_and_reimports(sessionmaker) -> None:
    for _ in range(2):  # importing again updates in place
        async with sessionmaker() as session:
            assert await import_regions(session, SAMPLE_REGIONS) == 34
    assert await count_regions(sessionmaker) == 34
    async with sessionmaker() as session:
        village = await session.get(Region, "150824101201")
        assert village.is_sample
        assert [alias.alias for alias in village.aliases] == ["乌兰"]


async def test_bad_csv_rows_are_reported_by_line_and_nothing_is_imported(
    sessionmaker, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        GOOD_CSV
        + "530627101202,,village,530627101,\n"  # line 7: no name
        + "530627101203,新华村,hamlet,530627101,\n"  # line 8: unknown level
        + "530627101204,沙坝村,village,999,\n"  # line 9: unknown parent
        + "53,云南,province,,\n"  # line 10: repeated code
        + "530627102,塘房镇,township,530627101,\n",  # line 11: parent below it
        encoding="utf-8",
    )
    async with sessionmaker() as session:
        with pytest.raises(RegionImportError) as caught:
            await import_regions(session, path)
    problems = "\n".join(caught.value.problems)
    assert f"{path}:7: name is missing" in problems
    assert f"{path}:8: level must be one of" in problems
    assert f"{path}:9: parent 999 is neither in this file nor imported" in problems
    assert f"{path}:10: code 53 repeats line 2" in problems
    assert f"{path}:11: parent 530627101 is a township, not above a township" in problems
    assert await count_regions(sessionmaker) == 0


async def test_bad_yaml_row_is_reported_by_line(sessionmaker, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "- {code: '53', name: 云南省, level: province}\n"
        "- {code: '5306', name: 昭通市, level: city}\n",  # a city needs a parent
        encoding="utf-8",
    )
    async with sessionmaker() as session:
        with pytest.raises(RegionImportError, match=r"bad.yaml:2: a city needs a parent"):
            await import_regions(session, path)
    assert await count_regions(sessionmaker) == 0


async def test_a_file_may_build_on_regions_already_imported(sessionmaker, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text(GOOD_CSV, encoding="utf-8")
    second = tmp_path / "second.csv"
    second.write_text(
        "code,name,level,parent,aliases\n530627101202,新华村,village,530627101,\n",
        encoding="utf-8",
    )
    async with sessionmaker() as session:
        await import_regions(session, first)
    async with sessionmaker() as session:
        await import_regions(session, second)
    assert await count_regions(sessionmaker) == 6
