"""The household registry: CSV and XLSX import (all or nothing, ID numbers refused), re-import
with history, list and export, the eligibility profile, and the demo's fictional households."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import migrate
from db.household_import import (
    SAMPLE_HOUSEHOLDS,
    HouseholdImportError,
    export_households,
    import_households,
)
from db.household_template import HEADER
from db.households import HouseholdRepo
from db.models import Household, HouseholdVersion, HouseholdVisit
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import create_engine, create_sessionmaker
from db.spreadsheets import read_table, write_table
from knowledge.households import (
    BenefitKind,
    Cause,
    FollowUp,
    MemberFlag,
    MonitorKind,
    Status,
)

HEAD = "number,village,head_name,status,status_year,monitor_kind,main_cause,members,benefits,helpers,visits\n"  # noqa: E501
GOOD = (
    HEAD + "H-001,530627101201,张三明,已脱贫,2019,,因病,户主:60+:劳动力;配偶:16-59:大病,"
    "小额信贷:50000:2024-12-15:2027-12-14,包保干部:王建国:138-0000-0001,2026-10-12:住房:王建国:好\n"
    + "H-002,220122101201,李四平,监测户,,边缘易致贫户,因学,子女:6-15:在校学生,,,\n"
)


@pytest.fixture
async def sessionmaker(database_url: str):
    await migrate.upgrade_async(database_url)
    engine = create_engine(database_url)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        await import_regions(session, SAMPLE_REGIONS)
    yield maker
    await engine.dispose()


def csv_file(tmp_path: Path, text: str, name: str = "households.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def count(sessionmaker, model=Household) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def import_file(sessionmaker, path: Path, by: str = "test"):
    async with sessionmaker() as session:
        return await import_households(session, path, by)


async def test_csv_import_stores_every_part(sessionmaker, tmp_path: Path) -> None:
    report = await import_file(sessionmaker, csv_file(tmp_path, GOOD))
    assert (report.added, report.changed, report.unchanged) == (2, 0, 0)
    async with sessionmaker() as session:
        household = await HouseholdRepo(session).get("H-001")
        assert household.head_name == "张三明"  # stored; shown masked
        assert household.region_path.endswith("/530627101/530627101201/")
        assert [m.flags for m in household.members] == [["劳动力"], ["大病"]]
        assert household.benefits[0].due == date(2027, 12, 14)
        assert household.helpers[0].phone == "138-0000-0001"
        assert household.visits[0].checklist == ["住房"]
        versions = (await session.scalars(select(HouseholdVersion))).all()
        assert {(v.version, v.changed_by) for v in versions} == {(1, "test")}


async def test_xlsx_import_reads_excel_cells(sessionmaker, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["户编号", "村代码", "户主姓名", "户类型", "脱贫年度", "享受政策"])
    # Excel gives numbers as numbers: the village code and the year must still read right.
    sheet.append(["X-1", 530627101201, "王秀英", "已脱贫", 2020, "低保:3600"])
    sheet.append([None, None, None, None, None, None])  # a blank row is skipped
    sheet.append(["X-2", "150824101201", "赵德福", "一般农户", None, None])
    path = tmp_path / "households.xlsx"
    workbook.save(path)
    report = await import_file(sessionmaker, path)
    assert report.added == 2
    async with sessionmaker() as session:
        household = await HouseholdRepo(session).get("X-1")
        assert (household.region_code, household.status_year) == ("530627101201", 2020)
        assert household.benefits[0].kind == BenefitKind.DIBAO


async def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(
    sessionmaker, tmp_path: Path
) -> None:
    path = csv_file(
        tmp_path,
        GOOD
        + "H-003,530627101201,,已脱贫,2019,,,,,,\n"  # row 4: no head name
        + "H-004,999999,周桂兰,未脱贫,,,,,,,\n"  # row 5: unknown village
        + "H-005,530627101,吴长顺,未脱贫,,,,,,,\n"  # row 6: a township, not a village
        + "H-006,530627101201,徐金花,监测户,,,,户主:老年,,,\n"  # row 7: two problems
        + "H-001,530627101201,孙文军,一般农户,,,,,,,\n",  # row 8: repeated number
    )
    with pytest.raises(HouseholdImportError) as caught:
        await import_file(sessionmaker, path)
    problems = caught.value.problems
    assert f"{path}:4: head_name: required" in problems
    assert f"{path}:5: village: no region has the code 999999" in problems
    assert f"{path}:6: village: 530627101 is a township (以古镇), not a village" in problems
    assert f"{path}:7: monitor_kind: required for 监测户" in problems
    assert any(p.startswith(f"{path}:7: members: 户主: age band '老年'") for p in problems)
    assert f"{path}:8: number: H-001 repeats row 2" in problems
    assert await count(sessionmaker) == 0


async def test_a_column_named_like_id_cards_is_refused(sessionmaker, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "number,village,head_name,status,身份证号码\nH-1,530627101201,张三明,一般农户,\n",
    )
    with pytest.raises(HouseholdImportError) as caught:
        await import_file(sessionmaker, path)
    assert caught.value.problems == [
        f"{path}:1: 身份证号码: a column of ID-card or bank numbers is refused; "
        "such numbers are never stored"
    ]
    assert await count(sessionmaker) == 0


async def test_id_card_and_bank_numbers_in_cells_are_refused(sessionmaker, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "number,village,head_name,status,work,remark\n"
        "H-1,530627101201,张三明,一般农户,6222 0212 3456 7890,\n"
        "H-2,530627101201,李四平,一般农户,6222021234567891,53062719800101123X\n"
        "H-3,530627101201,王建国,一般农户,,\n",
    )
    with pytest.raises(HouseholdImportError) as caught:
        await import_file(sessionmaker, path)
    problems = caught.value.problems
    assert f"{path}:1: remark: unknown column (the template's: {', '.join(HEADER)})" in problems
    assert (
        f"{path}:2: work: looks like a bank card number; ID-card and bank numbers are never "
        "accepted (and 1 more rows)" in problems
    )
    assert (
        f"{path}:3: remark: looks like an ID-card number; ID-card and bank numbers are never "
        "accepted" in problems
    )
    assert await count(sessionmaker) == 0


async def test_an_id_number_typed_into_excel_is_refused(sessionmaker, tmp_path: Path) -> None:
    rows = [["H-1", "530627101201", "张三明", "一般农户", "530627198001011234"]]
    path = tmp_path / "households.xlsx"
    write_table(path, ["number", "village", "head_name", "status", "work"], rows)
    with pytest.raises(HouseholdImportError) as caught:
        await import_file(sessionmaker, path)
    assert caught.value.problems == [
        f"{path}:2: work: looks like an ID-card number; ID-card and bank numbers are never accepted"
    ]


async def test_reimport_updates_by_number_and_keeps_history(sessionmaker, tmp_path: Path) -> None:
    await import_file(sessionmaker, csv_file(tmp_path, GOOD), by="import a.csv by county")
    changed = GOOD.replace("已脱贫,2019,,因病", "已脱贫,2020,,因残").replace(
        "2026-10-12:住房:王建国:好", "2026-11-20:饮水:赵志强:水管修好"
    )
    report = await import_file(
        sessionmaker, csv_file(tmp_path, changed, "b.csv"), by="import b.csv by county"
    )
    assert (report.added, report.changed, report.unchanged) == (0, 1, 1)
    async with sessionmaker() as session:
        household = await HouseholdRepo(session).get("H-001")
        assert (household.version, household.status_year, household.main_cause) == (2, 2020, "因残")
        # Visits are added to those recorded (cadres record them too), never dropped.
        assert [v.visited_on for v in household.visits] == [date(2026, 10, 12), date(2026, 11, 20)]
        versions = (
            await session.scalars(
                select(HouseholdVersion)
                .where(HouseholdVersion.household_id == household.id)
                .order_by(HouseholdVersion.version)
            )
        ).all()
        assert [v.changed_by for v in versions] == [
            "import a.csv by county",
            "import b.csv by county",
        ]
        assert [v.content["main_cause"] for v in versions] == ["因病", "因残"]
        assert versions[1].content["visits"].count(";") == 1
    assert await count(sessionmaker) == 2
    assert await count(sessionmaker, HouseholdVisit) == 2


async def test_list_and_export_round_trip(sessionmaker, tmp_path: Path) -> None:
    async with sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "demo", sample=True)
    async with sessionmaker() as session:
        repo = HouseholdRepo(session)
        yunnan = await repo.numbers(await repo.area_path("530000"))
        village = await repo.numbers(await repo.area_path("530627101201"))
        everything = await repo.numbers()
    assert len(everything) == 28
    assert len(yunnan) == 12
    assert village == [
        ("SAMPLE-530627101201-01", "红星村", "张*明", "已脱贫"),
        ("SAMPLE-530627101201-02", "红星村", "李*平", "未脱贫"),
    ]
    for name in ("all.csv", "all.xlsx"):
        path = tmp_path / name
        async with sessionmaker() as session:
            assert await export_households(session, path, None) == 28
        table = read_table(path)
        assert tuple(table.header) == HEADER
        assert "张三明" in {cells[2] for _, cells in table.rows}  # the office's file keeps names
        report = await import_file(sessionmaker, path)
        assert (report.added, report.changed, report.unchanged) == (0, 0, 28)
    async with sessionmaker() as session:
        path = tmp_path / "inner_mongolia.csv"
        area = await HouseholdRepo(session).area_path("150000")
        assert await export_households(session, path, area) == 8


async def test_a_stored_household_becomes_a_profile(sessionmaker, tmp_path: Path) -> None:
    text = (
        HEAD.replace(",visits", ",other_causes,measures,housing_safe")
        + "H-9,530627101201,张三明,已脱贫,2019,,因病,户主:60+;子女:6-15:在校学生|残疾,"
        "小额信贷:50000:2024-12-15:2027-12-14,包保干部:王建国:138-0000-0001,"
        "缺劳力|缺技术,产业帮扶:肉牛:2025::::进行中;就业帮扶:培训:2024::::已完成,否\n"
    )
    await import_file(sessionmaker, csv_file(tmp_path, text))
    async with sessionmaker() as session:
        repo = HouseholdRepo(session)
        profile = await repo.profile(await repo.get("H-9"))
    assert profile.number == "H-9"
    assert profile.region_names == ("云南省", "昭通市", "镇雄县", "以古镇", "红星村")
    assert (profile.status, profile.status_year) == (Status.OUT, 2019)
    assert profile.causes == (Cause.ILLNESS, Cause.NO_LABOUR, Cause.NO_SKILLS)
    assert profile.has_flag(MemberFlag.STUDENT)
    assert profile.has_flag(MemberFlag.DISABLED)
    assert profile.has_benefit(BenefitKind.MICROCREDIT)
    assert profile.benefits[0].due == date(2027, 12, 14)
    assert profile.housing_safe is False
    assert profile.safe_water is None
    assert profile.open_measures == ("产业帮扶",)


async def test_the_demo_households_cover_every_case(sessionmaker) -> None:
    async with sessionmaker() as session:
        report = await import_households(session, SAMPLE_HOUSEHOLDS, "demo", sample=True)
    assert report.added == 28
    async with sessionmaker() as session:
        households = (await session.scalars(select(Household))).all()
        villages = {code for code in await session.scalars(
            select(Household.region_code).distinct()
        )}  # fmt: skip
    assert all(h.is_sample and h.number.startswith("SAMPLE-") for h in households)
    assert len(villages) == 14  # every sample village
    assert {h.status for h in households} == set(Status)
    assert {h.monitor_kind for h in households} - {None} == set(MonitorKind)
    assert {h.follow_up for h in households} - {None} == set(FollowUp)
    causes = {h.main_cause for h in households} | {c for h in households for c in h.other_causes}
    assert causes - {None} == set(Cause)
    assert {b.kind for h in households for b in h.benefits} == set(BenefitKind)
    loans = [b for h in households for b in h.benefits if b.kind == BenefitKind.MICROCREDIT]
    assert all(loan.start and loan.due for loan in loans)
    assert any(
        date(2026, 12, 1) <= loan.due <= date(2026, 12, 1) + timedelta(days=30) for loan in loans
    )
    phones = [x.phone for h in households for x in h.helpers]
    assert phones
    assert all(phone.startswith("138-0000-") for phone in phones)
    assert "虚构" in SAMPLE_HOUSEHOLDS.read_text(encoding="utf-8").splitlines()[0]
    async with sessionmaker() as session:  # loading the demo again changes nothing
        again = await import_households(session, SAMPLE_HOUSEHOLDS, "demo", sample=True)
    assert again.unchanged == 28
