"""The helper cadre's side of households, in-process: /households ordered by what needs attention
and paged, /household NUMBER, recording a visit; every path kept to the cadre's area, with
forged callback data refused and nothing written."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from aiogram.types import Contact, Message, Update
from sqlalchemy import delete, select, update

from db import migrate
from db.cadre_households import CadreHouseholdRepo, phone_digits
from db.household_import import SAMPLE_HOUSEHOLDS, export_households, import_households
from db.households import HouseholdRepo
from db.models import (
    Case,
    CaseStatus,
    HouseholdBenefit,
    HouseholdView,
    HouseholdVisit,
    Role,
    utcnow,
)
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from handlers.cadre_households import HouseholdShow, HouseholdsPage
from handlers.household_visits import VisitCheck, VisitChecked, VisitDay, VisitStart, local_today
from tests.harness import BotHarness, alerts_of, texts_of

CADRE = 800  # 以古镇 (530627101)
OTHER_CADRE = 801  # 塘房镇 (530627102)
VILLAGER = 700
GROUP = -100777
AREA = "530000/530600/530627/530627101/"
LOAN = "SAMPLE-530627101202-02"  # 赵秀英: a loan due in 10 days
CHANGE = "SAMPLE-530627101201-02"  # 李四平: an open change report (helper 马玉珍 138-0000-0002)
LATE = "SAMPLE-530627101201-01"  # 张三明: last visited 120 days ago
CALM = "SAMPLE-530627101202-01"  # 王建国: nothing to do, no gap
OUTSIDE = "SAMPLE-530627102201-01"  # 塘房镇: another township
NOT_FOUND = "没有找到这一户。"
STALE = "这个选项已经失效了。"


async def arrange(database: Database, today: date) -> None:
    """The four households of 以古镇, each needing one kind of attention (or none)."""
    async with database.sessionmaker() as session:
        repo = HouseholdRepo(session)
        ids = {number: (await repo.get(number)).id for number in (LOAN, CHANGE, LATE, CALM)}
        await session.execute(delete(HouseholdVisit))
        await session.execute(update(HouseholdBenefit).values(due=None))
        session.add_all(
            [
                HouseholdBenefit(
                    household_id=ids[LOAN], kind="小额信贷", due=today + timedelta(10)
                ),
                HouseholdBenefit(
                    household_id=ids[LATE], kind="小额信贷", due=today + timedelta(400)
                ),
                # Long past: an old loan's date (repaid) is not a task any more.
                HouseholdBenefit(
                    household_id=ids[CALM], kind="小额信贷", due=today - timedelta(200)
                ),
            ]
        )
        for number in (LOAN, CHANGE, CALM):
            session.add(HouseholdVisit(household_id=ids[number], visited_on=today - timedelta(5)))
        session.add(
            HouseholdVisit(
                household_id=ids[LATE],
                visited_on=today - timedelta(120),
                checklist=["住房", "饮水"],
                visited_by="孙德福",
                note="屋顶已修好",
            )
        )
        session.add_all(
            [
                change_case("K7M-4QX", ids[CHANGE]),
                # Neither a closed change report nor an open question of another kind counts.
                change_case("K7M-4QY", ids[CALM], status=CaseStatus.CLOSED),
                change_case("K7M-4QZ", ids[CALM], category="benefit_inquiry"),
            ]
        )
        await session.commit()


def change_case(
    number: str, household_id: int, status: str = "submitted", category: str = "household_change"
) -> Case:
    now = utcnow()
    return Case(
        number=number,
        reporter_id=VILLAGER,
        reporter_locale="zh_Hans",
        category=category,
        place_code="530627101201",
        township_code="530627101",
        unit_code="530627101",
        unit_path=AREA,
        status=status,
        description="家里添了个孩子",
        accept_due=now + timedelta(days=2),
        resolve_due=now + timedelta(days=15),
        household_id=household_id,
    )


@pytest.fixture
async def any_database(database_url: str) -> AsyncIterator[Database]:
    await migrate.upgrade_async(database_url)
    database = await open_database(database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
    yield database
    await database.close()


async def test_the_attention_order_on_both_databases(any_database: Database) -> None:
    today = date(2026, 12, 6)
    await arrange(any_database, today)
    async with any_database.sessionmaker() as session:
        repo = CadreHouseholdRepo(session)
        page = await repo.attention_page(AREA, today, 0, 10)
        assert [item.household.number for item in page] == [LOAN, CHANGE, LATE, CALM]
        loan, change, late, calm = page
        assert (loan.loan_due, loan.open_changes, loan.visit_overdue) == (
            today + timedelta(10), 0, False,
        )  # fmt: skip
        assert (change.loan_due, change.open_changes) == (None, 1)
        assert (late.loan_due, late.last_visit, late.visit_overdue) == (
            None, today - timedelta(120), True,
        )  # fmt: skip
        assert (calm.loan_due, calm.open_changes, calm.visit_overdue) == (None, 0, False)
        assert await repo.count(AREA) == 4
        # Paging and the whole county: the other township's households come after, never before.
        assert [i.household.number for i in await repo.attention_page(AREA, today, 2, 2)] == [
            LATE, CALM,
        ]  # fmt: skip
        county = await repo.attention_page("530000/530600/530627/", today, 0, 10)
        assert [item.household.number for item in county][:2] == [LOAN, CHANGE]
        assert len(county) == 8

        # A helper's own households, whatever way the phone is written.
        for shared in ("8613800000002", "+86 138 0000 0002", "13800000002"):
            mine = await repo.attention_page(AREA, today, 0, 10, phone_digits(shared))
            assert [item.household.number for item in mine] == [CHANGE]
        secretary = await repo.attention_page(AREA, today, 0, 10, "13800000101")  # 高文军
        assert [item.household.number for item in secretary] == [CHANGE, LATE]
        outside = "530000/530600/530627/530627102/"
        assert await repo.count(outside, "13800000002") == 0

        # A loan past due by a few days comes before one still to fall due.
        await session.execute(
            update(HouseholdBenefit)
            .where(HouseholdBenefit.due == today + timedelta(400))
            .values(due=today - timedelta(3))
        )
        await session.commit()
        page = await repo.attention_page(AREA, today, 0, 10)
        assert [item.household.number for item in page] == [LATE, LOAN, CHANGE, CALM]
        assert (page[0].loan_overdue, page[1].loan_overdue) == (True, False)


@pytest.fixture
async def registry(database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        users = UserRepo(session)
        await users.grant(CADRE, Role.CADRE, "530627101")
        await users.grant(OTHER_CADRE, Role.CADRE, "530627102")
    await arrange(database, local_today())


async def household_id(database: Database, number: str) -> int:
    async with database.sessionmaker() as session:
        return (await HouseholdRepo(session).get(number)).id


async def views(database: Database) -> list[tuple[str, str, str]]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(select(HouseholdView).order_by(HouseholdView.id))
        return [(row.viewer, row.action, row.household_number) for row in rows]


async def visits(database: Database) -> list[HouseholdVisit]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(
            select(HouseholdVisit).where(HouseholdVisit.visited_by.like("#%"))
        )
        return list(rows.all())


async def test_the_list_puts_what_needs_attention_first(
    harness: BotHarness, database: Database, registry: None
) -> None:
    [reply] = await harness.send(CADRE, "/households")
    text = reply.text
    assert "您辖区的农户：4 户。\n第 1/1 页" in text
    positions = [text.index(number) for number in (LOAN, CHANGE, LATE, CALM)]
    assert positions == sorted(positions)
    due = (local_today() + timedelta(10)).isoformat()
    lines = text.splitlines()
    tags = {
        number: lines[lines.index(line) + 1]
        for line in lines
        for number in (LOAN, CHANGE, LATE, CALM)
        if number in line
    }
    assert f"💰贷款{due}到期" in tags[LOAN]
    assert "🔎可能漏了：危房改造" in tags[LOAN]
    assert "📝情况变化待办1件" in tags[CHANGE]
    assert "🚶上次走访" in tags[LATE]
    assert tags[CALM].strip() == "✅暂无待办"
    assert "红星村 张*明" in text
    assert "张三明" not in text
    assert OUTSIDE not in text
    assert [label for label, _ in reply.buttons] == ["1", "2", "3", "4"]
    assert sorted(await views(database)) == sorted(
        (f"telegram:{CADRE}", "list", number) for number in (LOAN, CHANGE, LATE, CALM)
    )


def write_households(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["number", "village", "head_name", "status"])
        for index in range(1, count + 1):
            writer.writerow([f"T-{index:03}", "530627101201", "李文军", "一般农户"])
    return path


async def test_paging_by_buttons_and_forged_pages(
    harness: BotHarness, database: Database, registry: None, tmp_path: Path
) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, write_households(tmp_path / "more.csv", 21), "test")
    first = (await harness.send(CADRE, "/households"))[0]
    assert "25 户。\n第 1/3 页" in first.text
    assert [label for label, _ in first.buttons][-1] == "▶"
    assert first.text.index(LOAN) < first.text.index("T-001")  # the urgent ones first
    second = texts_of(await harness.press(CADRE, "▶"))
    assert "第 2/3 页" in second
    assert "\n11. " in second
    assert "\n20. " in second
    third = texts_of(await harness.press(CADRE, "▶"))
    assert "第 3/3 页" in third
    assert "\n25. " in third
    assert len(await views(database)) == 10 + 10 + 5

    for forged in (
        HouseholdsPage(page=3).pack(),  # past the end
        HouseholdsPage(page=-1).pack(),
        HouseholdsPage(page=0, phone="1' OR 1=1").pack(),
        "hhp:x:",
    ):
        calls = await harness.press_data(CADRE, forged)
        assert [c.method for c in calls if c.method.startswith("edit")] == []
        assert alerts_of(calls) in ([STALE], [])
    assert len(await views(database)) == 25
    assert alerts_of(await harness.press_data(VILLAGER, HouseholdsPage(page=1).pack())) == [
        "只有乡镇和县里的干部才能这样做。"
    ]
    # Another township's cadre pressing this list's button sees their own area, not this one.
    other = texts_of(await harness.press_data(OTHER_CADRE, HouseholdsPage(page=0).pack()))
    assert OUTSIDE in other
    assert LOAN not in other
    assert "T-001" not in other
    assert alerts_of(await harness.press_data(OTHER_CADRE, HouseholdsPage(page=1).pack())) == [
        STALE
    ]
    assert {viewer for viewer, _, _ in (await views(database))[25:]} == {f"telegram:{OTHER_CADRE}"}


async def test_one_household_in_full(
    harness: BotHarness, database: Database, registry: None
) -> None:
    calls = await harness.send(CADRE, f"/household {LATE}")
    text = texts_of(calls)
    assert f"农户 {LATE}：红星村 张*明" in text
    for part in ("家底", "帮扶措施", "这一户能享受的政策和原因", "这一户可能还没享受：医疗救助"):
        assert part in text
    # Told to the cadre about "this household": no "your household", no "ask your helper".
    assert "你家" not in text
    assert "家庭成员</b>：户主 · 16-59 · 劳动力；配偶 · 16-59 · 大病" in text
    assert "已绑定的账号：0 个" in text
    assert "最近的走访：" in text
    assert "住房、饮水 (孙德福)：屋顶已修好" in text
    assert "张三明" not in text
    assert calls[-1].buttons == [
        ("📝 记录走访", VisitStart(household_id=await household_id(database, LATE)).pack())
    ]

    changed = texts_of(await harness.send(CADRE, f"/household {CHANGE}"))
    assert "关于这一户还没办完的事：1 件" in changed
    assert "K7M-4QX 家庭情况变化" in changed
    calm = texts_of(await harness.send(CADRE, f"/household {CALM}"))
    assert "关于这一户还没办完的事：1 件" in calm  # the open question; not the closed report
    assert "K7M-4QZ" in calm
    assert "K7M-4QY" not in calm

    # From the list's button: the same view.
    await harness.send(CADRE, "/households")
    assert f"农户 {LOAN}" in texts_of(await harness.press(CADRE, "1"))
    assert [row for row in await views(database) if row[1] == "view"] == [
        (f"telegram:{CADRE}", "view", number) for number in (LATE, CHANGE, CALM, LOAN)
    ]


async def test_outside_the_area_is_not_found_however_asked(
    harness: BotHarness, database: Database, registry: None
) -> None:
    for number in (OUTSIDE, "NO-SUCH-NUMBER", f"  {OUTSIDE}  "):
        assert texts_of(await harness.send(CADRE, f"/household {number}")) == NOT_FOUND
    outside_id = await household_id(database, OUTSIDE)
    for data in (
        HouseholdShow(household_id=outside_id).pack(),
        HouseholdShow(household_id=999_999).pack(),
        HouseholdShow(household_id=2**40).pack(),
        VisitStart(household_id=outside_id).pack(),
    ):
        calls = await harness.press_data(CADRE, data)
        assert alerts_of(calls) == [NOT_FOUND]
        assert not [call for call in calls if call.method == "sendMessage"]
    listed = texts_of(await harness.send(OTHER_CADRE, "/households"))
    assert OUTSIDE in listed
    assert LOAN not in listed
    other_views = await views(database)
    assert all(viewer == f"telegram:{OTHER_CADRE}" for viewer, _, _ in other_views)
    assert {number for _, _, number in other_views} == {
        OUTSIDE, "SAMPLE-530627102201-02", "SAMPLE-530627102202-01", "SAMPLE-530627102202-02",
    }  # fmt: skip


async def test_villagers_and_group_chats_are_refused(
    harness: BotHarness, database: Database, registry: None
) -> None:
    refused = "只有乡镇和县里的干部才能这样做。"
    assert texts_of(await harness.send(VILLAGER, "/households")) == refused
    assert texts_of(await harness.send(VILLAGER, f"/household {LOAN}")) == refused
    loan_id = await household_id(database, LOAN)
    for data in (
        HouseholdShow(household_id=loan_id).pack(),
        VisitStart(household_id=loan_id).pack(),
    ):
        assert alerts_of(await harness.press_data(VILLAGER, data)) == [refused]
    in_group = texts_of(await harness.send_in(GROUP, CADRE, f"/household {LOAN}"))
    assert in_group == "请在和我的私聊里办这件事。"
    assert await views(database) == []
    assert await visits(database) == []


async def open_visit(harness: BotHarness, number: str = LATE) -> None:
    await harness.send(CADRE, f"/household {number}")
    assert "是哪天去的" in texts_of(await harness.press(CADRE, "记录走访"))


async def test_recording_a_visit_in_a_few_taps(
    harness: BotHarness, database: Database, registry: None
) -> None:
    await open_visit(harness)
    checklist = (await harness.press(CADRE, "今天"))[-1]
    assert "请点选这次看了哪些（七看）" in checklist.text
    labels = [label for label, _ in checklist.buttons]
    assert labels[:2] == ["☐ 看产业带贫机制强不强", "☐ 看就业是否持续稳定"]
    assert len(labels) == 8
    assert labels[-1] == "完成"
    await harness.press(CADRE, "看住房")
    await harness.press(CADRE, "看饮水")
    edited = (await harness.press(CADRE, "看产业"))[-1]
    assert "☑ 看产业带贫机制强不强" in [label for label, _ in edited.buttons]
    await harness.press(CADRE, "看住房")  # untick
    # Text where a button is expected: a polite line, nothing else.
    assert (
        texts_of(await harness.send(CADRE, "看了住房")) == "请点上面的按钮，或者发 /cancel 取消。"
    )
    assert "备注" in texts_of(await harness.press(CADRE, "完成"))
    too_long = texts_of(await harness.send(CADRE, "很" * 501))
    assert too_long == "备注太长了（501 个字）。请不要超过 500 个字，或者发 /skip 跳过。"
    assert await visits(database) == []
    saved = texts_of(await harness.send(CADRE, "屋顶已修好，孩子上学了"))
    assert f"走访已记下：{LATE}，{local_today().isoformat()}" in saved
    assert "看了：\n• 看产业带贫机制强不强\n• 看饮水是否达标安全" in saved
    [visit] = await visits(database)
    assert (visit.visited_on, visit.checklist, visit.note, visit.visited_by) == (
        local_today(), ["产业", "饮水"], "屋顶已修好，孩子上学了", f"#{CADRE}",
    )  # fmt: skip
    assert [row for row in await views(database) if row[1] == "visit"] == [
        (f"telegram:{CADRE}", "visit", LATE)
    ]
    # The flow is over: its buttons no longer do anything.
    assert alerts_of(await harness.press(CADRE, "完成")) == [STALE]
    # The household is no longer overdue for a visit.
    assert "🚶上次走访" not in texts_of(await harness.send(CADRE, "/households"))


async def test_another_day_skip_and_cancel(
    harness: BotHarness, database: Database, registry: None
) -> None:
    await open_visit(harness)
    assert "请输入走访的日期" in texts_of(await harness.press(CADRE, "别的日子"))
    future = (local_today() + timedelta(days=1)).isoformat()
    for bad in ("明天", future, "2020-01-01", "2026-02-30"):
        assert "这个日期用不了" in texts_of(await harness.send(CADRE, bad))
    day = local_today() - timedelta(days=2)
    assert "请点选" in texts_of(await harness.send(CADRE, f"{day.year}年{day.month}月{day.day}日"))
    await harness.press(CADRE, "完成")
    assert "没有勾选。" in texts_of(await harness.send(CADRE, "/skip"))
    [visit] = await visits(database)
    assert (visit.visited_on, visit.checklist, visit.note) == (day, [], None)

    await open_visit(harness, CALM)
    await harness.press(CADRE, "昨天")
    await harness.press(CADRE, "看住房")
    await harness.send(CADRE, "/cancel")
    assert alerts_of(await harness.press(CADRE, "看饮水")) == [STALE]
    assert alerts_of(await harness.press(CADRE, "完成")) == [STALE]
    assert len(await visits(database)) == 1


async def test_a_visit_note_never_keeps_an_id_number(
    harness: BotHarness, database: Database, registry: None
) -> None:
    await open_visit(harness)
    await harness.press(CADRE, "今天")
    await harness.press(CADRE, "完成")
    for note in ("身份证 110101199003071234 已核实", "卡号 6222 0212 3456 7890 123"):
        told = texts_of(await harness.send(CADRE, note))
        assert told == "请不要发身份证号或银行卡号。去掉以后再写一遍。"
    assert await visits(database) == []
    assert "走访已记下" in texts_of(await harness.send(CADRE, "身份证已核实"))
    [visit] = await visits(database)
    assert visit.note == "身份证已核实"


async def test_a_visit_note_keeps_the_registry_file_importable(
    harness: BotHarness, database: Database, registry: None, tmp_path: Path
) -> None:
    await open_visit(harness)
    await harness.press(CADRE, "今天")
    await harness.press(CADRE, "完成")
    saved = texts_of(await harness.send(CADRE, "屋顶修好了；孩子上学了;都好"))
    assert "说明：屋顶修好了，孩子上学了,都好" in saved
    [visit] = await visits(database)
    assert visit.note == "屋顶修好了，孩子上学了,都好"
    # ";" separates the entries of a registry file: the export imports again.
    async with database.sessionmaker() as session:
        # (arrange() left loans without their dates, which no file may hold)
        await session.execute(
            delete(HouseholdBenefit).where(
                HouseholdBenefit.kind == "小额信贷",
                HouseholdBenefit.start.is_(None) | HouseholdBenefit.due.is_(None),
            )
        )
        await session.commit()
        await export_households(session, tmp_path / "export.csv", AREA)
        report = await import_households(session, tmp_path / "export.csv", "test")
    assert report.added == 0


async def test_the_day_buttons_work_after_another_day_was_chosen(
    harness: BotHarness, database: Database, registry: None
) -> None:
    await open_visit(harness)
    assert "请输入走访的日期" in texts_of(await harness.press(CADRE, "别的日子"))
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    assert f"走访日期：{yesterday}" in texts_of(await harness.press(CADRE, "昨天"))


async def test_a_cadre_reading_traditional_characters(
    harness: BotHarness, database: Database, registry: None
) -> None:
    text = texts_of(await harness.send(CADRE, f"/household {LATE}", lang="zh-TW"))
    assert f"農戶 {LATE}：紅星村 張*明" in text
    assert "家庭成員</b>：戶主 · 16-59 · 勞動力；配偶 · 16-59 · 大病" in text
    assert "紅星村 張*明" in texts_of(await harness.press(CADRE, "記錄走訪"))
    listed = texts_of(await harness.send(CADRE, "/households"))
    assert "紅星村 張*明" in listed
    assert "红星村" not in listed
    for command in ("bindings", "bindcode"):
        shown = texts_of(await harness.send(CADRE, f"/{command} {LATE}"))
        assert "紅星村 張*明" in shown
        assert "红星村" not in shown


async def test_forged_visit_buttons_change_nothing(
    harness: BotHarness, database: Database, registry: None
) -> None:
    late, calm = await household_id(database, LATE), await household_id(database, CALM)
    # Buttons of a visit that is not under way.
    for data in (
        VisitDay(household_id=late, day="today").pack(),
        VisitCheck(household_id=late, item=0).pack(),
        VisitChecked(household_id=late).pack(),
    ):
        assert alerts_of(await harness.press_data(CADRE, data)) == [STALE]
    await open_visit(harness)
    for data in (
        VisitDay(household_id=late, day="tomorrow").pack(),
        VisitDay(household_id=calm, day="today").pack(),  # another household than the visit's
    ):
        assert alerts_of(await harness.press_data(CADRE, data)) == [STALE]
    await harness.press(CADRE, "今天")
    for data in (
        VisitCheck(household_id=late, item=7).pack(),
        VisitCheck(household_id=late, item=-1).pack(),
        VisitCheck(household_id=calm, item=0).pack(),
        VisitChecked(household_id=calm).pack(),
    ):
        assert alerts_of(await harness.press_data(CADRE, data)) == [STALE]
    # Another cadre pressing this cadre's buttons has no visit under way.
    assert alerts_of(
        await harness.press_data(OTHER_CADRE, VisitChecked(household_id=late).pack())
    ) == [STALE]
    await harness.press(CADRE, "完成")
    await harness.send(CADRE, "/skip")
    [visit] = await visits(database)
    assert visit.checklist == []
    assert [row[1] for row in await views(database)].count("visit") == 1


def contact_update(harness: BotHarness, user_id: int, phone: str, owner: int) -> Update:
    base = harness.updates.text(harness.updates.user(user_id), "")
    message = base.message.model_copy(
        update={
            "text": None,
            "contact": Contact(phone_number=phone, first_name="孙", user_id=owner),
        }
    )
    return base.model_copy(update={"message": Message.model_validate(message.model_dump())})


async def test_mine_lists_the_households_whose_helper_phone_is_the_cadres(
    harness: BotHarness, database: Database, registry: None
) -> None:
    [prompt] = await harness.send(CADRE, "/households mine")
    assert "对照名册里帮扶干部的电话" in prompt.text
    [[button]] = prompt.params["reply_markup"]["keyboard"]
    assert button["request_contact"] is True

    start = len(harness.session.calls)
    await harness.dispatcher.feed_update(
        harness.bot, contact_update(harness, CADRE, "8613900000000", owner=999)
    )
    assert texts_of(harness.session.calls[start:]) == "请用下面的按钮发送您本人的手机号。"

    start = len(harness.session.calls)
    update_ = contact_update(harness, CADRE, "8613800000002", owner=CADRE)
    await harness.dispatcher.feed_update(harness.bot, update_)
    text = texts_of(harness.session.calls[start:])
    assert "您帮扶的农户：1 户。" in text
    assert CHANGE in text
    assert LOAN not in text
    assert await views(database) == [(f"telegram:{CADRE}", "list", CHANGE)]

    # A phone nobody in the area has: told so, and how to see the whole area.
    await harness.send(CADRE, "/households mine")
    start = len(harness.session.calls)
    await harness.dispatcher.feed_update(
        harness.bot, contact_update(harness, CADRE, "+8613912345678", owner=CADRE)
    )
    assert "没有哪一户的帮扶干部电话是您的手机号" in texts_of(harness.session.calls[start:])
    assert "发 /households mine" in texts_of(await harness.send(CADRE, "/households all"))
