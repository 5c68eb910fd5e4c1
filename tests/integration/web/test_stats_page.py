"""The statistics page: the same figures as `huhuqing cases stats --json` (and so the bot's
/stats), per township of the viewer's area and week by week, for a period of Beijing dates;
never another area's township; bad dates answered politely; every language."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from bot.case_commands import print_stats
from db.models import Case, CaseStatus, Role, utcnow
from db.regions import RegionRepo
from db.session import Database
from grievances.routing import unit_path
from grievances.stats import LOCAL_TIME
from tests.integration.web.conftest import NONGAN, TANGFANG, YIGU, ZHENXIONG, Console, give_role

pytestmark = pytest.mark.both_databases
COUNTY_ADMIN, ADMIN, YIGU_CADRE, COUNTY_CADRE = 8101, 8102, 8103, 8104
VILLAGES = {YIGU: "530627101201", TANGFANG: "530627102201", "220122101": "220122101201"}
ROW = re.compile(r'<tr data-township="([^"]*)">(.*?)</tr>', re.S)
CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
WEEK_ROW = re.compile(r"<tr><th scope=\"row\">(\d{4}-\d\d-\d\d)</th>(.*?)</tr>", re.S)
COUNT_COLUMNS = (
    "accepted_in_time", "resolved", "fixed", "resolved_in_time", "rated", "satisfied"
)  # fmt: skip
NUMBERS = itertools.count()
RATES = ("response_rate", "resolution_rate", "on_time_rate", "satisfaction_rate")


async def add_cases(database: Database, cases: list[dict[str, Any]]) -> None:
    """Cases as the service leaves them, written directly: (township, created, what happened)."""
    async with database.sessionmaker() as session:
        regions = RegionRepo(session)
        paths = {code: unit_path(await regions.path(code)) for code in VILLAGES}
        rows = []
        for number, given in enumerate(cases):
            township, created = given.pop("township"), given.pop("created")
            rows.append({
                "number": f"T{next(NUMBERS):05d}", "reporter_id": 900 + number,
                "reporter_locale": "zh_Hans", "anonymous": True, "category": "water",
                "place_code": VILLAGES[township], "township_code": township,
                "unit_code": township, "unit_path": paths[township], "description": "自来水停了",
                "created_at": created, "accept_due": created + timedelta(days=2),
                "resolve_due": created + timedelta(days=15), "escalations": 0,
                "reopened": False, "accept_reminded": False, "resolve_reminded": False,
                "status": CaseStatus.SUBMITTED, **given,
            })  # fmt: skip
        await session.execute(insert(Case), rows)
        await session.commit()


def done(created: datetime, hours: int, days: int, outcome: str, rating: str | None) -> dict:
    return {
        "status": CaseStatus.CLOSED if rating else CaseStatus.RESOLVED,
        "accepted_at": created + timedelta(hours=hours),
        "resolved_at": created + timedelta(days=days),
        "outcome": outcome,
        "rating": rating,
    }


@pytest.fixture
async def cases(database: Database) -> None:
    """Over the last 40 days: 以古镇 and 塘房镇 (镇雄县), 合隆镇 (农安县, another province)."""
    now = utcnow()
    ago = [now - timedelta(days=days, hours=3) for days in range(40)]
    await add_cases(database, [
        {"township": YIGU, "created": ago[1]},  # waiting, not yet overdue
        {"township": YIGU, "created": ago[5]},  # waiting past its deadline: overdue
        {"township": YIGU, "created": ago[6], **done(ago[6], 5, 3, "fixed", "satisfied")},
        {"township": YIGU, "created": ago[9], **done(ago[9], 70, 20, "partly_fixed", "basically")},
        {"township": YIGU, "created": ago[12], **done(ago[12], 1, 2, "no_action", "unsatisfied")},
        {"township": YIGU, "created": ago[20], **done(ago[20], 3, 4, "fixed", None)},
        {"township": YIGU, "created": ago[35], **done(ago[35], 1, 1, "fixed", "satisfied")},
        {"township": TANGFANG, "created": ago[2], "status": CaseStatus.ACCEPTED,
         "accepted_at": ago[2] + timedelta(hours=2)},
        {"township": TANGFANG, "created": ago[25], **done(ago[25], 2, 9, "fixed", "satisfied")},
        {"township": TANGFANG, "created": ago[28], "status": CaseStatus.ACCEPTED,
         "accepted_at": ago[28] + timedelta(hours=2)},  # past its resolve deadline: overdue
        {"township": "220122101", "created": ago[3], **done(ago[3], 1, 1, "fixed", "satisfied")},
    ])  # fmt: skip


def table(page: str) -> dict[str, list[str]]:
    """The per-township table: township code → its cells as shown."""
    return {code: CELL.findall(cells) for code, cells in ROW.findall(page)}


async def command_line(database: Database, region: str | None) -> dict[str, dict]:
    """`huhuqing cases stats --json [--region R]`, run in-process."""
    out = io.StringIO()
    async with database.sessionmaker() as session:
        await print_stats(session, region, 30, True, "zh_Hans", out)
    return {row["township_code"]: row for row in json.loads(out.getvalue())["townships"]}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def assert_agree(shown: dict[str, list[str]], expected: dict[str, dict]) -> None:
    assert set(shown) == set(expected)
    for code, row in expected.items():
        cells = shown[code]
        assert cells[0] == row["township"]
        assert [int(cells[1]), int(cells[2])] == [row["cases"], row["overdue_now"]]
        assert cells[3:7] == [percent(row[rate]) for rate in RATES]
        assert [int(cell) for cell in cells[7:13]] == [row[name] for name in COUNT_COLUMNS]


async def test_a_county_admin_sees_the_command_lines_figures(
    console: Console, database: Database, cases: None
) -> None:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await console.sign_in(COUNTY_ADMIN)
    response = await console.get("/stats")
    assert response.status == 200
    page = await response.text()
    expected = await command_line(database, ZHENXIONG)
    assert set(expected) == {YIGU, TANGFANG}
    assert expected[YIGU]["cases"] == 6  # the 35-day-old case is outside the default period
    assert expected[YIGU]["overdue_now"] == 1
    assert expected[TANGFANG]["overdue_now"] == 1
    assert expected[YIGU]["satisfaction_rate"] == pytest.approx(2 / 3, abs=0.001)
    assert_agree(table(page), expected)
    assert "<svg" in page
    assert "<script" not in page
    assert "style=" not in page


async def test_an_admin_of_everything_and_a_county_cadre_agree_too(
    console: Console, second_console: Console, database: Database, cases: None
) -> None:
    await give_role(database, ADMIN, Role.ADMIN, None)
    await give_role(database, COUNTY_CADRE, Role.CADRE, ZHENXIONG)
    await console.sign_in(ADMIN)
    await second_console.sign_in(COUNTY_CADRE)
    everything = table(await console.text("/stats"))
    assert set(everything) == {YIGU, TANGFANG, "220122101"}
    assert_agree(everything, await command_line(database, None))
    county = table(await second_console.text("/stats"))
    assert set(county) == {YIGU, TANGFANG}
    assert_agree(county, await command_line(database, ZHENXIONG))


async def test_a_township_cadre_has_no_statistics_as_in_the_bot(
    console: Console, database: Database, cases: None
) -> None:
    """The bot gives /stats to admins and to cadres of a county or above; so does the page."""
    await give_role(database, YIGU_CADRE, Role.CADRE, YIGU)
    await console.sign_in(YIGU_CADRE)
    for path in ("/stats", "/stats.csv", f"/stats?from=2000-01-01&area={TANGFANG}"):
        refused = await console.get(path)
        assert refused.status == 403
        assert "响应率" not in await refused.text()
    assert 'href="/stats"' not in await console.text("/")


async def test_a_county_admin_never_sees_another_county(
    console: Console, database: Database, cases: None
) -> None:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, NONGAN)
    await console.sign_in(COUNTY_ADMIN)
    page = await console.text("/stats")
    assert list(table(page)) == ["220122101"]
    assert "以古镇" not in page
    assert "塘房镇" not in page


async def test_the_weeks_add_up_to_the_period_of_beijing_dates(
    console: Console, database: Database, cases: None
) -> None:
    """A case at 23:30 on the last day in Beijing counts; one at 00:10 the day after does not,
    although both are the same UTC day."""
    last = datetime(2026, 3, 20).date()
    evening = datetime(2026, 3, 20, 23, 30, tzinfo=LOCAL_TIME).astimezone(UTC)
    await add_cases(database, [
        {"township": YIGU, "created": datetime(2026, 3, 1, 0, 5, tzinfo=LOCAL_TIME)},
        {"township": YIGU, "created": evening, **done(evening, 1, 1, "fixed", "satisfied")},
        {"township": TANGFANG, "created": datetime(2026, 3, 10, 12, tzinfo=LOCAL_TIME)},
        {"township": YIGU, "created": evening + timedelta(minutes=40)},
        {"township": YIGU, "created": datetime(2026, 2, 28, 23, 50, tzinfo=LOCAL_TIME)},
    ])  # fmt: skip
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await console.sign_in(COUNTY_ADMIN)
    page = await console.text(f"/stats?from=2026-03-01&to={last}")
    rows = table(page)
    assert {code: int(cells[1]) for code, cells in rows.items()} == {YIGU: 2, TANGFANG: 1}
    weeks = WEEK_ROW.findall(page)
    assert [day for day, _cells in weeks] == ["2026-03-01", "2026-03-08", "2026-03-15"]
    assert [int(CELL.findall(cells)[0]) for _day, cells in weeks] == [1, 1, 1]
    total = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)
    assert CELL.findall(total)[1:] == ["3", "2", "33.3%", "33.3%", "33.3%", "100.0%"]
    download = await console.get(f"/stats.csv?from=2026-03-01&to={last}")
    assert download.headers["Content-Type"].startswith("text/csv")
    sheet = list(csv.reader(io.StringIO((await download.text()).lstrip("\ufeff"))))
    assert [(line[0], line[2]) for line in sheet[1:]] == [(YIGU, "2"), (TANGFANG, "1")]


async def test_bad_dates_are_answered_politely_with_the_last_30_days(
    console: Console, database: Database, cases: None
) -> None:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await console.sign_in(COUNTY_ADMIN)
    default = table(await console.text("/stats"))
    today = utcnow().astimezone(LOCAL_TIME).date()
    for query, said in (
        ("from=2026-13-01", "日期的写法如2026-01-31"),
        ("from=abc&to=2026-01-01", "日期的写法如2026-01-31"),
        ("from=2026-03-02&to=2026-03-01", "开始日期不能晚于结束日期"),
        ("from=0001-01-01&to=0001-01-02", "请选择2000年至2100年之间的日期"),
        ("from=2000-01-01&to=2026-01-01", "时间段最长三年"),
        ("to=9999-12-31", "请选择2000年至2100年之间的日期"),
    ):
        response = await console.get(f"/stats?{query}")
        assert response.status == 200, query
        page = await response.text()
        assert said in page, query
        assert table(page) == default, query
        assert f'name="to" value="{today}"' in page
        assert (await console.get(f"/stats.csv?{query}")).status == 200


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh_Hans", ("各乡镇", "按期办结率", "逐周")), ("zh_Hant", ("各鄉鎮", "按期辦結率", "逐週")),
     ("en", ("Per township", "On-time rate", "Week by week"))],
)  # fmt: skip
async def test_the_page_speaks_each_language(
    console: Console, database: Database, cases: None, language: str, words: tuple[str, ...]
) -> None:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await console.sign_in(COUNTY_ADMIN)
    await console.get(f"/language/{language}?next=/stats")
    page = await console.text("/stats")
    assert all(word in page for word in words), page[:400]
    assert len(table(page)) == 2


async def test_signed_out_visitors_see_no_statistics(console: Console, cases: None) -> None:
    assert (await console.get("/stats")).status == 401
    assert (await console.get("/stats.csv")).status == 401
