"""The cases pages: the area's list and its filters, a case's page, the steps a cadre takes on
it (as the bot takes them: the reporter told through the outbox, an audit row in the same
commit), the exports; a case of another township is "not found" whichever way it is asked."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.i18n import create_i18n
from db.models import (
    AdminAction,
    Case,
    CaseAttachment,
    CaseEvent,
    CaseStatus,
    OutboxMessage,
    Role,
    utcnow,
)
from db.session import Database
from grievances.service import Actor, CaseService, Outcome
from handlers.notices import LOCAL_TIME, NoticeRenderer
from tests.integration.web.conftest import (
    HONGXING,
    REPORTER,
    TANGFANG,
    YIGU,
    ZHENXIONG,
    Console,
    give_role,
    make_case,
)

pytestmark = pytest.mark.both_databases
YIGU_CADRE, TANGFANG_CADRE, COUNTY_ADMIN = 7401, 7402, 7403
LIANGSHUIJING = "530627102201"  # a village of 塘房镇 (HONGXING is one of 以古镇)
YIGU_PATH = "530000/530600/530627/530627101/"


async def stored(database: Database, number: str) -> Case:
    async with database.sessionmaker() as session:
        return await session.scalar(select(Case).where(Case.number == number))


async def count(database: Database, model: type, *where: object) -> int:
    async with database.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def reporter_notices(database: Database, number: str) -> list[str]:
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        query = select(OutboxMessage.text).where(
            OutboxMessage.case_id == case.id, OutboxMessage.chat_id == REPORTER
        )
        return list((await session.scalars(query.order_by(OutboxMessage.id))).all())


async def audit(database: Database, action: str) -> list[AdminAction]:
    async with database.sessionmaker() as session:
        query = select(AdminAction).where(AdminAction.action == action)
        return list((await session.scalars(query.order_by(AdminAction.id))).all())


def version_of(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found is not None
    return found.group(1)


@pytest.fixture
async def staff(database: Database) -> None:
    await give_role(database, YIGU_CADRE, Role.CADRE, YIGU)
    await give_role(database, TANGFANG_CADRE, Role.CADRE, TANGFANG)
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)


async def test_the_list_shows_the_area_newest_first(
    console: Console, database: Database, staff: None
) -> None:
    older = await make_case(database, created=utcnow() - timedelta(days=2))
    newer = await make_case(database, category="housing")
    theirs = await make_case(database, LIANGSHUIJING)
    await console.sign_in(YIGU_CADRE)
    response = await console.get("/cases")
    assert response.status == 200
    page = await response.text()
    assert theirs not in page
    assert page.index(newer) < page.index(older)
    assert f'href="/cases/{newer}"' in page
    for shown in ("饮水", "危房改造", "红星村", "以古镇", "待受理"):
        assert shown in page
    assert "塘房镇" not in page  # not even among the townships to filter by

    await console.sign_in(COUNTY_ADMIN)
    page = await console.text("/cases")
    assert all(number in page for number in (older, newer, theirs))


async def test_each_filter_narrows_the_list(
    console: Console, database: Database, staff: None
) -> None:
    water = await make_case(database)
    housing = await make_case(database, category="housing")
    late = await make_case(database, LIANGSHUIJING, created=utcnow() - timedelta(days=30))
    old = await make_case(database, created=datetime(2025, 3, 1, 20, tzinfo=LOCAL_TIME))
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case).where(Case.number == housing))
        await CaseService(session, NoticeRenderer(create_i18n("zh_Hans"))).resolve(
            case, Actor(COUNTY_ADMIN, Role.ADMIN), Outcome.FIXED, "修好了"
        )
    await console.sign_in(COUNTY_ADMIN)

    async def listed(query: str) -> set[str]:
        response = await console.get(f"/cases?{query}")
        assert response.status == 200
        page = await response.text()
        return {number for number in (water, housing, late, old) if number in page}

    assert await listed("") == {water, housing, late, old}
    assert await listed("status=open") == {water, late, old}
    assert await listed("status=resolved") == {housing}
    assert await listed("status=all") == {water, housing, late, old}
    assert await listed("category=housing") == {housing}
    assert await listed(f"township={TANGFANG}") == {late}
    assert await listed("overdue=1") == {late, old}
    assert await listed("status=open&overdue=1") == {late, old}  # the home page's links
    # The days are Beijing's: 20:00 on 1 March in Beijing is still 1 March there.
    assert await listed("from=2025-03-01&to=2025-03-01") == {old}
    assert await listed("to=2025-02-28") == set()
    recent = (utcnow() - timedelta(days=10)).astimezone(LOCAL_TIME).date().isoformat()
    assert await listed(f"from={recent}&category=water") == {water}
    home = await console.text("/")
    assert 'href="/cases?status=open"' in home

    # A value that is not valid is left out, with a polite line, never an error page.
    await console.sign_in(YIGU_CADRE)
    response = await console.get(
        f"/cases?status=lost&category=nope&township={TANGFANG}&from=2025-13-40&overdue=maybe"
        "&to=31.12.2025&page=-3"
    )
    assert response.status == 200
    page = await response.text()
    assert {number for number in (water, housing, late, old) if number in page} == {
        water, housing, old
    }  # fmt: skip
    for said in ("“lost”", "“nope”", f"“{TANGFANG}”", "“2025-13-40”", "“maybe”", "“31.12.2025”"):
        assert said in page
    assert f"乡镇“{TANGFANG}”不在您的辖区内" in page


async def test_fifty_cases_a_page(console: Console, database: Database, staff: None) -> None:
    first = await make_case(database)
    async with database.sessionmaker() as session:
        template = await session.scalar(select(Case).where(Case.number == first))
        for index in range(50):
            session.add(
                Case(
                    number=f"{index:03d}-AAA",
                    reporter_id=REPORTER,
                    reporter_locale="en",
                    category="water",
                    place_code=HONGXING,
                    township_code=YIGU,
                    unit_code=YIGU,
                    unit_path=YIGU_PATH,
                    description="批量",
                    created_at=template.created_at + timedelta(minutes=index + 1),
                    accept_due=template.accept_due,
                    resolve_due=template.resolve_due,
                )
            )
        await session.commit()
    await console.sign_in(YIGU_CADRE)
    page_one = await console.text("/cases?status=open")
    assert "共 51 件" in page_one
    assert "第 1 页，共 2 页" in page_one
    assert "049-AAA" in page_one  # the newest first
    assert first not in page_one
    assert 'href="/cases?status=open&amp;page=2"' in page_one
    page_two = await console.text("/cases?status=open&page=2")
    assert first in page_two
    assert "049-AAA" not in page_two
    assert 'href="/cases?status=open"' in page_two  # back to the first page
    assert first in await console.text("/cases?status=open&page=9")  # past the end: the last


async def test_a_case_of_another_township_is_not_found(
    console: Console, database: Database, staff: None
) -> None:
    theirs = await make_case(database, LIANGSHUIJING, location=(27.4, 104.9))
    await console.sign_in(YIGU_CADRE)
    assert theirs not in await console.text("/cases")
    assert (await console.get(f"/cases/{theirs}")).status == 404
    assert (await console.get(f"/cases/{theirs.lower()}")).status == 404
    assert (await console.get("/cases/ZZZ-ZZZ")).status == 404
    async with database.sessionmaker() as session:
        attachment_id = await session.scalar(select(CaseAttachment.id))
    assert (await console.get(f"/cases/{theirs}/attachments/{attachment_id}")).status == 404
    for action, form in (("accept", {}), ("reply", {"note": "hello"}),
                         ("transfer", {"target": YIGU, "note": "ours"})):  # fmt: skip
        refused = await console.post(f"/cases/{theirs}/{action}", form)
        assert refused.status == 404
    case = await stored(database, theirs)
    assert (case.status, case.unit_code, case.version) == ("submitted", TANGFANG, 1)
    assert await count(database, CaseEvent, CaseEvent.case_id == case.id) == 1
    assert await count(database, AdminAction, AdminAction.action.startswith("case.")) == 0
    export = await console.get("/cases/export.csv")
    assert theirs not in (await export.read()).decode("utf-8-sig")

    await console.sign_in(COUNTY_ADMIN)
    assert (await console.get(f"/cases/{theirs}")).status == 200
    assert theirs in (await (await console.get("/cases/export.csv")).read()).decode("utf-8-sig")


async def test_the_reporter_stays_anonymous_and_attachments_show_when_asked(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database, photos=("AgACAgIAAxkBAAI",), location=(27.412345, 104.9))
    other = await make_case(database, location=(1.5, 2.5))
    await console.sign_in(YIGU_CADRE)
    await console.post(f"/cases/{number}/info", {"note": "哪个组？"})
    page = await console.text(f"/cases/{number}")
    assert "诉求人：匿名" in page
    assert "· 诉求人</span>" in page  # the timeline says who reported it, by role only
    links = re.findall(rf'href="(/cases/{number}/attachments/\d+)"', page)
    assert len(links) == 2
    assert "27.412345" not in page  # shown only when asked for
    assert f"/case {number}" in page
    photo, location = [await console.text(link) for link in links]
    assert f"/case {number}" in photo
    assert "27.412345" in location
    assert "104.9" in location
    [foreign] = re.findall(
        rf"/cases/{other}/attachments/(\d+)", await console.text(f"/cases/{other}")
    )
    assert (await console.get(f"/cases/{number}/attachments/{foreign}")).status == 404
    shown = [page, photo, location, await console.text("/cases")]
    for kind in ("csv", "xlsx"):
        shown.append((await (await console.get(f"/cases/export.{kind}")).read()).decode("latin-1"))
    assert all(str(REPORTER) not in text for text in shown)
    assert all("AgACAgIAAxkBAAI" not in text for text in shown)  # nor the photo's file id


async def test_accept_reply_and_resolve_as_the_bot_does(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database)
    before = len(await reporter_notices(database, number))
    await console.sign_in(YIGU_CADRE)
    accepted = await console.post(f"/cases/{number}/accept", allow_redirects=False)
    assert accepted.status == 303
    assert accepted.headers["Location"] == f"/cases/{number}?done=accept"
    page = await console.text(accepted.headers["Location"])
    assert f"您已受理诉求 {number}。" in page
    case = await stored(database, number)
    assert (case.status, case.assignee_id) == ("accepted", YIGU_CADRE)

    replied = await console.post(f"/cases/{number}/reply", {"note": "明天上午派人来修"})
    assert replied.status == 200  # after the redirect
    resolved = await console.post(
        f"/cases/{number}/resolve", {"outcome": "fixed", "note": "水管已修好"}
    )
    assert resolved.status == 200
    case = await stored(database, number)
    assert (case.status, case.outcome) == ("resolved", "fixed")
    async with database.sessionmaker() as session:
        kinds = (await session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )).all()  # fmt: skip
    assert kinds == ["submitted", "accepted", "replied", "resolved"]
    told = (await reporter_notices(database, number))[before:]
    assert len(told) == 3
    assert "was accepted by" in told[0]  # in the reporter's language, English
    assert "明天上午派人来修" in told[1]
    assert "水管已修好" in told[2]
    for action in ("case.accept", "case.reply", "case.resolve"):
        [row] = await audit(database, action)
        assert (row.actor_id, row.target, row.area_path) == (YIGU_CADRE, number, YIGU_PATH)
        assert row.origin.startswith("web ")
    [resolve] = await audit(database, "case.resolve")
    assert resolve.details == {"outcome": "fixed"}
    assert "明天" not in str((await audit(database, "case.reply"))[0].details)
    page = await console.text(f"/cases/{number}")
    assert "水管已修好" in page  # the timeline
    assert "已解决" in page  # the outcome


async def test_ask_for_information_and_transfer(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database)
    await console.sign_in(YIGU_CADRE)
    page = await console.text(f"/cases/{number}")
    assert f'<option value="{TANGFANG}">塘房镇</option>' in page
    assert 'value="up"' in page
    asked = await console.post(f"/cases/{number}/info", {"note": "具体是哪个组？"})
    assert f"问题已发送给诉求 {number} 的诉求人。" in await asked.text()
    assert (await stored(database, number)).status == "info_requested"
    assert "具体是哪个组？" in (await reporter_notices(database, number))[-1]

    forged = await console.post(f"/cases/{number}/transfer", {"target": HONGXING, "note": "x"})
    assert forged.status == 400
    assert (await stored(database, number)).unit_code == YIGU
    moved = await console.post(
        f"/cases/{number}/transfer",
        {"target": TANGFANG, "note": "属于塘房镇"},
        allow_redirects=False,
    )
    assert moved.headers["Location"] == f"/cases?moved={number}"
    assert number in await console.text(moved.headers["Location"])  # "passed on" is said
    case = await stored(database, number)
    assert (case.unit_code, case.status) == (TANGFANG, "submitted")
    assert "was passed to" in (await reporter_notices(database, number))[-1]
    [row] = await audit(database, "case.transfer")
    assert row.details == {"from": YIGU, "to": TANGFANG}
    assert row.area_path == YIGU_PATH
    assert (await console.get(f"/cases/{number}")).status == 404  # out of this cadre's area now


async def test_a_step_that_does_not_fit_the_status_changes_nothing(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database)
    await console.sign_in(YIGU_CADRE)
    await console.post(f"/cases/{number}/resolve", {"outcome": "fixed", "note": "好了"})
    version = str((await stored(database, number)).version)  # a tab left open would send it
    told = len(await reporter_notices(database, number))
    events = await count(database, CaseEvent)
    audited = await count(database, AdminAction)
    for action, form in (("accept", {}), ("reply", {"note": "还有"}),
                         ("transfer", {"target": "up", "note": "上交"})):  # fmt: skip
        refused = await console.post(f"/cases/{number}/{action}", {**form, "version": version})
        assert refused.status == 409
        assert f"诉求 {number} 已办结，正在请诉求人评价。" in await refused.text()
    assert await count(database, CaseEvent) == events
    assert await count(database, AdminAction) == audited
    assert len(await reporter_notices(database, number)) == told
    assert (await stored(database, number)).status == "resolved"
    page = await console.text(f"/cases/{number}")
    assert f'action="/cases/{number}/accept"' not in page  # no step is offered any more


async def test_a_change_by_someone_else_meanwhile_is_told(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database)
    await console.sign_in(YIGU_CADRE)
    seen = version_of(await console.text(f"/cases/{number}"))
    async with database.sessionmaker() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        await CaseService(session, NoticeRenderer(create_i18n("zh_Hans"))).accept(
            case, Actor(COUNTY_ADMIN, Role.ADMIN)
        )
    refused = await console.post(f"/cases/{number}/accept", {"version": seen})
    assert refused.status == 409
    assert "有人" in await refused.text()
    case = await stored(database, number)
    assert case.assignee_id == COUNTY_ADMIN
    assert await audit(database, "case.accept") == []


async def test_empty_or_too_long_text_is_asked_again_and_kept(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database)
    await console.sign_in(YIGU_CADRE)
    empty = await console.post(f"/cases/{number}/info", {"note": " \u200b "})
    assert empty.status == 400
    long_text = "修" * 2001
    too_long = await console.post(f"/cases/{number}/info", {"note": long_text})
    assert too_long.status == 400
    page = await too_long.text()
    assert "2000" in page
    assert f">{long_text}</textarea>" in page
    case = await stored(database, number)
    assert (case.status, case.version) == ("submitted", 1)
    assert await count(database, AdminAction, AdminAction.action.startswith("case.")) == 0


async def test_exports_hold_the_filtered_cases(
    console: Console, database: Database, staff: None
) -> None:
    open_case = await make_case(database, description="=HYPERLINK(1)")
    done = await make_case(database, category="housing")
    async with database.sessionmaker() as session:
        await session.execute(
            update(Case).where(Case.number == done).values(status=CaseStatus.CLOSED)
        )
        await session.commit()
    await console.sign_in(YIGU_CADRE)
    response = await console.get("/cases/export.csv?status=open")
    assert response.status == 200
    body = await response.read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "编号"
    assert [row[0] for row in rows[1:]] == [open_case]
    assert rows[1][1] == "饮水"
    assert rows[1][-1] == "'=HYPERLINK(1)"  # never run as a formula
    [logged] = await audit(database, "case.export")
    assert logged.details == {"format": "csv", "filters": {"status": "open"}, "count": 1}
    assert logged.area_path == YIGU_PATH

    response = await console.get("/cases/export.xlsx")
    assert response.status == 200
    sheet = load_workbook(io.BytesIO(await response.read())).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "编号"
    assert {row[0] for row in values[1:]} == {open_case, done}
    assert len(await audit(database, "case.export")) == 2


async def test_the_pages_speak_the_chosen_language(
    console: Console, database: Database, staff: None
) -> None:
    number = await make_case(database)
    await console.sign_in(YIGU_CADRE)
    for locale, words in (
        ("zh_Hans", ("饮水", "状态", "受理期限", "全部诉求")),
        ("zh_Hant", ("飲水", "狀態", "受理期限", "全部訴求")),
        ("en", ("Drinking water", "Status", "Accept by", "All cases")),
    ):
        await console.get(f"/language/{locale}?next=/")
        listed = await console.get("/cases")
        shown = await console.get(f"/cases/{number}")
        assert (listed.status, shown.status) == (200, 200)
        listed_page, case_page = await listed.text(), await shown.text()
        assert words[0] in listed_page
        assert words[1] in listed_page
        assert words[0] in case_page
        assert words[2] in case_page
        assert words[3] in case_page
        if locale == "zh_Hant":  # place names in the reader's characters, as in the bot
            assert "以古鎮的訴求" in listed_page
            assert "紅星村" in listed_page
            assert "紅星村" in case_page
            assert "红星村" not in listed_page + case_page
