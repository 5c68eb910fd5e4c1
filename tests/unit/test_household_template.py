"""The household file template: the mini-syntax, its checks, and the ID-number refusal."""

from __future__ import annotations

import re
from datetime import date

import pytest

from db.household_import import TEMPLATE_CSV, TEMPLATE_XLSX
from db.household_template import HEADER, format_row, id_like, parse_row, template_notes
from db.households import masked_name
from db.models import MeasureStatus
from db.spreadsheets import read_table
from knowledge.households import BenefitKind, Cause, MemberFlag, Status

ROW = {
    "number": "H-1",
    "village": "530627101201",
    "head_name": "张三明",
    "status": "已脱贫",
    "status_year": "2019",
    "main_cause": "因病",
    "other_causes": "缺劳力、缺技术",
    "land_mu": "3.5",
    "housing_safe": "是",
    "safe_water": "否",
    "members": "户主:60+:劳动力；子女:6-15:在校学生;配偶:16-59:大病|慢性病",
    "measures": (
        "产业帮扶:肉牛养殖:2025:5000:年增收3000元:王建国:进行中;就业帮扶:公益岗位:2025::::已完成"
    ),
    "benefits": "低保:3600;小额信贷:50000:2024-12-15:2027-12-14",
    "income": "2025:9200;2024:8500",
    "helpers": "包保干部:王建国:138-0000-0001",
    "visits": "2026-10-12:住房|饮水:王建国:屋顶已修好: 换了瓦",
}


@pytest.mark.parametrize(
    ("name", "masked"), [("张三明", "张*明"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("张", "张")]
)
def test_names_are_masked(name: str, masked: str) -> None:
    assert masked_name(name) == masked


def test_a_full_row_parses_and_formats_back() -> None:
    household, problems = parse_row(ROW)
    assert problems == []
    assert household is not None
    assert household.status is Status.OUT
    assert household.other_causes == (Cause.NO_LABOUR, Cause.NO_SKILLS)
    assert household.members[1].flags == {MemberFlag.STUDENT}
    assert household.members[2].flags == {MemberFlag.SERIOUS_ILLNESS, MemberFlag.CHRONIC_ILLNESS}
    loan = household.benefits[1]
    assert (loan.kind, loan.amount) == (BenefitKind.MICROCREDIT, 50000)
    assert loan.due == date(2027, 12, 14)
    assert household.measures[1].status is MeasureStatus.DONE
    assert household.measures[1].amount is None
    assert household.incomes == ((2024, 8500), (2025, 9200))
    assert household.visits[0].note == "屋顶已修好: 换了瓦"
    cells = format_row(household)
    assert list(cells) == list(HEADER)
    assert cells["measures"].endswith("就业帮扶:公益岗位:2025::::已完成")
    assert parse_row(cells) == (household, [])


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"status": "脱贫"}, "status", "is not one of"),
        ({"status_year": ""}, "status_year", "required for 已脱贫"),
        ({"monitor_kind": "边缘易致贫户"}, "monitor_kind", "only a 监测户"),
        ({"members": "户主:70"}, "members", "age band '70'"),
        ({"members": "户主:60+:聋哑"}, "members", "'聋哑' is not one of"),
        ({"benefits": "小额信贷:50000"}, "benefits", "needs its start and due dates"),
        ({"benefits": "低保:三千"}, "benefits", "not an amount"),
        ({"measures": "产业帮扶:肉牛"}, "measures", "needs a type and a status"),
        ({"helpers": "县长:王建国"}, "helpers", "is not one of"),
        ({"income": "2025:9200;2025:9300"}, "income", "year 2025 appears twice"),
        ({"visits": "2026-13-01:住房"}, "visits", "is not a date"),
        ({"housing_safe": "还行"}, "housing_safe", "is not 是 or 否"),
        ({"head_name": ""}, "head_name", "required"),
    ],
)
def test_bad_cells_name_their_column(change: dict[str, str], column: str, reason: str) -> None:
    household, problems = parse_row({**ROW, **change})
    assert household is None
    assert any(c == column and reason in r for c, r in problems), problems


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("530627198001011234", "ID-card"),
        ("53062719800101123X", "ID-card"),
        ("身份证 53062719800101123x", "ID-card"),
        ("6222021234567890", "bank card"),
        ("6222 0212 3456 7890 123", "bank card"),
        ("6222-0212-3456-7890", "bank card"),
    ],
)
def test_id_and_bank_numbers_are_recognised(value: str, kind: str) -> None:
    assert kind in (id_like(value) or "")


@pytest.mark.parametrize(
    "value", ["138-0000-0001", "2024-12-15", "SAMPLE-530627101201-01", "50000", ROW["benefits"]]
)
def test_ordinary_cells_are_not_id_like(value: str) -> None:
    assert id_like(value) is None


def test_the_shipped_templates_agree_and_document_every_column() -> None:
    csv_table, xlsx_table = read_table(TEMPLATE_CSV), read_table(TEMPLATE_XLSX)
    assert tuple(csv_table.header) == tuple(xlsx_table.header) == HEADER
    assert csv_table.rows == xlsx_table.rows
    notes = "\n".join(template_notes())
    assert all(re.search(rf"^ +{name}\*? ", notes, re.M) for name in HEADER)
    household, problems = parse_row(dict(zip(HEADER, csv_table.rows[0][1], strict=True)))
    assert problems == []
    assert household is not None
