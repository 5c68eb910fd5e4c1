"""The bundled table of China's divisions: names as people type them, ancestors by code."""

from __future__ import annotations

import pytest

from db.divisions import divisions


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("云南", "530000"),
        ("云南省", "530000"),
        ("昭通", "530600"),
        ("镇雄县", "530627"),
        ("内蒙古", "150000"),
        ("巴彦淖尔", "150800"),
        ("乌拉特前旗", "150823"),
        ("大理", "532900"),  # 大理白族自治州
        ("巍山", "532927"),  # 巍山彝族回族自治县
        ("吉林", "220000"),  # the province, which holds 吉林市
        ("530627", "530627"),
    ],
)
def test_a_division_is_found_by_the_name_people_type(typed: str, code: str) -> None:
    assert divisions().named(typed) == code


@pytest.mark.parametrize("typed", ["朝阳区", "火星", "", "5306"])  # 朝阳区: Beijing and Changchun
def test_an_unknown_or_shared_name_names_no_division(typed: str) -> None:
    assert divisions().named(typed) is None


def test_ancestors_come_from_the_codes_prefix() -> None:
    assert divisions().ancestry("530627101201") == ["云南省", "昭通市", "镇雄县"]
    assert divisions().ancestry("110105") == ["北京市", "朝阳区"]  # no prefecture row
    assert divisions().ancestry("X-1") == []


def test_the_table_is_whole_and_well_formed() -> None:
    names = divisions().names
    assert len(names) > 3000  # 34 provinces, ~330 prefectures, ~2,850 counties
    assert all(len(code) == 6 and code.isdigit() for code in names)
    provinces = [code for code in names if code.endswith("0000")]
    assert len(provinces) >= 31
    assert {"云南省", "吉林省", "内蒙古自治区"} <= {names[code] for code in provinces}
