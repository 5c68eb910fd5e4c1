"""A bound household's own cases over the bot: "ask my helper" on a gap files a 待遇咨询 for the
township (once per open question, forged buttons refused); a change report (/change, or the
words villagers use) files a 家庭情况变化 and changes nothing; a cadre of the area confirms it
into the registry, once, as a new version of the household."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select, update

from bot.app import prepare
from bot.config import Settings
from db import migrate
from db.household_cases import BENEFIT_INQUIRY, HOUSEHOLD_CHANGE, ChangeError, ChangeKind
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.models import (
    Case,
    CaseEvent,
    HouseholdBinding,
    HouseholdMember,
    HouseholdVersion,
    Role,
    utcnow,
)
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from grievances.service import Actor, CaseError, CaseService, Report
from handlers.household_case_card import ChangeConfirm
from handlers.household_cases import ChangeKindPick, GapAsk
from tests.harness import BotHarness, alerts_of, texts_of

VILLAGER = 720
NEIGHBOUR = 721
CADRE = 820  # 隆兴昌镇 (150821101), 五原县
OTHER_CADRE = 821  # 以古镇 (530627101), Yunnan
HOUSEHOLD = "SAMPLE-150821101202-02"  # 新丰村 宋文军: 户主 60+, 配偶 16-59; lacks 医疗救助, 防贫保
LABEL = "新丰村 宋*军"
NEIGHBOURS = "SAMPLE-150821101201-02"  # 永丰村 梁长顺
TOWNSHIP = "150821101"
STALE = "这个选项已经失效了。"
NOT_FOUND = "未找到该诉求。"


async def bind(harness: BotHarness, user: int, number: str) -> None:
    calls = await harness.send(CADRE, f"/bindcode {number}")
    code = re.search(r"<b>(\w{4}-\w{4})</b>", texts_of(calls)).group(1)
    assert "已绑定" in texts_of(await harness.send(user, f"/bind {code}"))


@pytest.fixture
async def bound(harness: BotHarness, database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        await UserRepo(session).grant(CADRE, Role.CADRE, TOWNSHIP)
        await UserRepo(session).grant(OTHER_CADRE, Role.CADRE, "530627101")
    await bind(harness, VILLAGER, HOUSEHOLD)


async def cases(database: Database) -> list[Case]:
    async with database.sessionmaker() as session:
        return list((await session.scalars(select(Case).order_by(Case.id))).all())


async def household_id(database: Database, number: str = HOUSEHOLD) -> int:
    async with database.sessionmaker() as session:
        return (await HouseholdRepo(session).get(number)).id


async def registry(database: Database) -> tuple[int, list[tuple[str, str, list[str]]], int]:
    """The household's version, its members (relation, age band, flags) and its version rows."""
    async with database.sessionmaker() as session:
        household = await HouseholdRepo(session).get(HOUSEHOLD)
        members = [(m.relation, m.age_band, list(m.flags)) for m in household.members]
        versions = await session.scalar(
            select(func.count())
            .select_from(HouseholdVersion)
            .where(HouseholdVersion.household_id == household.id)
        )
        return household.version, members, versions


# Ask my helper


async def test_ask_my_helper_files_a_benefit_inquiry_for_the_township(
    harness: BotHarness, database: Database, bound: None
) -> None:
    [answer] = await harness.send(VILLAGER, "我家还能享受啥")
    labels = [label for label, _ in answer.buttons]
    assert labels == ["🙋 问帮扶干部：医疗救助", "🙋 问帮扶干部：防贫保"]

    told = texts_of(await harness.press(VILLAGER, "医疗救助"))
    [case] = await cases(database)
    assert f"<b>{case.number}</b>" in told
    assert "已收到" in told
    assert "干部能看到你家和你问的事" in told
    assert (case.category, case.place_code, case.unit_code) == (
        BENEFIT_INQUIRY, "150821101202", TOWNSHIP
    )  # fmt: skip
    assert case.household_id == await household_id(database)
    assert case.details["benefit"] == "医疗救助"
    assert f"户 {LABEL}（户编号 {HOUSEHOLD}）询问：医疗救助。" in case.description
    assert "宋文军" not in case.description

    [notice] = [c for c in await harness.deliver() if c.params["chat_id"] == CADRE]
    assert case.number in notice.text
    assert "待遇咨询" in notice.text
    assert f"户：{LABEL}，户编号 {HOUSEHOLD}" in notice.text
    assert "询问：医疗救助" in notice.text
    assert "宋文军" not in notice.text
    assert not any(data.startswith("hcc:") for _, data in notice.buttons)  # nothing to confirm

    # The same tap again (a double tap, or the button pressed days later) makes no second case.
    again = texts_of(await harness.press(VILLAGER, "医疗救助"))
    assert f"你已经问过医疗救助了：诉求 <b>{case.number}</b> 正在办理" in again
    assert len(await cases(database)) == 1
    # Another gap is another question.
    await harness.press(VILLAGER, "防贫保")
    assert [c.details["benefit"] for c in await cases(database)] == ["医疗救助", "防贫保"]


async def test_forged_gap_buttons_are_refused_and_change_nothing(
    harness: BotHarness, database: Database, bound: None
) -> None:
    await bind(harness, NEIGHBOUR, NEIGHBOURS)
    own, neighbours = await household_id(database), await household_id(database, NEIGHBOURS)
    # Another household's id, even for a benefit that household lacks.
    forged = GapAsk(household_id=own, benefit="MEDICAL_AID").pack()
    assert alerts_of(await harness.press_data(NEIGHBOUR, forged)) == [STALE]
    other = GapAsk(household_id=neighbours, benefit="MEDICAL_AID").pack()
    assert alerts_of(await harness.press_data(VILLAGER, other)) == [STALE]
    # A benefit that is not a gap of the household, and one that does not exist.
    not_a_gap = GapAsk(household_id=own, benefit="DIBAO").pack()
    assert alerts_of(await harness.press_data(VILLAGER, not_a_gap)) == [
        "你家档案里已经不缺低保了。"
    ]
    unknown = GapAsk(household_id=own, benefit="CASH").pack()
    assert alerts_of(await harness.press_data(VILLAGER, unknown)) == [STALE]
    assert await cases(database) == []


async def test_an_unbound_user_is_told_how_to_bind(
    harness: BotHarness, database: Database, bound: None
) -> None:
    await harness.send(VILLAGER, "我家还能享受啥")
    async with database.sessionmaker() as session:  # the link ended meanwhile
        await session.execute(update(HouseholdBinding).values(unbound_at=utcnow()))
        await session.commit()
    for told in (
        texts_of(await harness.press(VILLAGER, "医疗救助")),
        texts_of(await harness.send(VILLAGER, "/change")),
    ):
        assert "请先把你的账号和你家绑定" in told
        assert "/bind" in told
    assert await cases(database) == []


# Change reports


async def report_change(
    harness: BotHarness, kind: str, choice: str | None = None, note: str | None = None
) -> str:
    """/change → the kind → the member or relation (if asked) → a note or /skip → submit."""
    await harness.send(VILLAGER, "/change")
    await harness.press(VILLAGER, kind)
    if choice is not None:
        await harness.press(VILLAGER, choice)
    review = await harness.send(VILLAGER, note if note is not None else "/skip")
    assert "请核对您反映的内容" in texts_of(review)
    return texts_of(await harness.press(VILLAGER, "✅ 提交"))


async def test_a_change_report_for_each_kind_makes_a_case_and_changes_nothing(
    harness: BotHarness, database: Database, bound: None
) -> None:
    before = await registry(database)
    reports = [
        ("新生儿", "孙子或孙女", ChangeKind.BIRTH, {"relation": "孙子女", "age_band": "0-5"}),
        ("去世", "配偶 · 16-59", ChangeKind.DEATH, {"relation": "配偶", "age_band": "16-59"}),
        ("嫁入", "儿媳", ChangeKind.MARRIED_IN, {"relation": "儿媳", "age_band": "16-59"}),
        ("嫁出", "户主 · 60+", ChangeKind.MARRIED_OUT, {"relation": "户主", "age_band": "60+"}),
        ("大病", "户主 · 60+", ChangeKind.ILLNESS, {"relation": "户主", "age_band": "60+"}),
        ("失业/返乡", None, ChangeKind.JOBLESS, None),
        ("受灾", None, ChangeKind.DISASTER, None),
        ("收入大幅下降", None, ChangeKind.INCOME_DROP, None),
    ]
    for label, choice, _, _ in reports:
        told = await report_change(harness, label, choice, note="上个月的事")
        assert "已收到" in told
        assert "干部核实以前，你家的档案不会改" in told
    stored = await cases(database)
    assert [c.category for c in stored] == [HOUSEHOLD_CHANGE] * len(reports)
    own = await household_id(database)
    for case, (label, _, kind, member) in zip(stored, reports, strict=True):
        assert case.household_id == own
        assert case.unit_code == TOWNSHIP
        assert (case.details["change"], case.details["member"]) == (kind, member)
        assert case.details["note"] == "上个月的事"
        assert f"户 {LABEL}（户编号 {HOUSEHOLD}）报告家庭情况变化：{label}。" in case.description
    assert await registry(database) == before  # nothing in the registry changed

    notices = [c for c in await harness.deliver() if c.params["chat_id"] == CADRE]
    assert len(notices) == len(reports)
    assert "家庭情况变化" in notices[1].text
    assert "变化：去世" in notices[1].text
    assert "是谁：配偶 · 16-59" in notices[1].text
    assert any(label == "✅ 确认变化" for label, _ in notices[1].buttons)


async def test_change_reports_and_questions_to_the_helper_count_in_the_daily_limit(
    harness: BotHarness, database: Database, bound: None
) -> None:
    settings = harness.dispatcher["settings"]
    harness.dispatcher["settings"] = settings.model_copy(update={"reports_per_day": 1})
    assert "已收到" in await report_change(harness, "受灾", note="房子被水淹了")

    await harness.send(VILLAGER, "/change")
    await harness.press(VILLAGER, "收入大幅下降")
    await harness.send(VILLAGER, "/skip")
    refused = await harness.press(VILLAGER, "✅ 提交")
    assert alerts_of(refused) == ["您今天已经反映了1个问题。请明天再来，或者打电话12317。"]
    await harness.send(VILLAGER, "/cancel")
    await harness.send(VILLAGER, "我家还能享受啥")
    asked = await harness.press(VILLAGER, "🙋")
    assert alerts_of(asked) == alerts_of(refused)
    assert len(await cases(database)) == 1


async def test_the_households_overview_has_the_change_button(
    harness: BotHarness, bound: None
) -> None:
    [overview] = await harness.send(VILLAGER, "我家是啥户")
    assert [label for label, _ in overview.buttons] == ["📝 家里有变化，报告一下"]
    [prompt] = [call for call in await harness.press(VILLAGER, "家里有变化") if call.text]
    assert "你家有什么变化？" in prompt.text
    assert [label for label, _ in prompt.buttons] == [
        "新生儿", "去世", "嫁入", "嫁出", "大病", "失业/返乡", "受灾", "收入大幅下降", "取消"
    ]  # fmt: skip


async def test_the_note_step_refuses_long_notes_and_id_numbers(
    harness: BotHarness, database: Database, bound: None
) -> None:
    await harness.send(VILLAGER, "/change")
    await harness.press(VILLAGER, "受灾")
    assert "200" in texts_of(await harness.send(VILLAGER, "房" * 201))
    told = texts_of(await harness.send(VILLAGER, "身份证 110101199003078515"))
    assert "请不要发身份证号或银行卡号" in told
    await harness.press(VILLAGER, "跳过")
    await harness.press(VILLAGER, "✅ 提交")
    assert alerts_of(await harness.press(VILLAGER, "✅ 提交")) == [STALE]  # a double tap
    [case] = await cases(database)
    assert case.details["note"] is None
    assert "110101199003078515" not in case.description


async def test_cancel_mid_flow_changes_nothing(
    harness: BotHarness, database: Database, bound: None
) -> None:
    before = await registry(database)
    await harness.send(VILLAGER, "/change")
    await harness.press(VILLAGER, "去世")
    await harness.press(VILLAGER, "配偶")
    assert "已取消，没有发送任何内容" in texts_of(await harness.press(VILLAGER, "取消"))
    # The report's old buttons do nothing now.
    assert alerts_of(await harness.press(VILLAGER, "户主")) == [STALE]

    # /cancel at the note: the next text is a question again, not a note.
    await harness.send(VILLAGER, "/change")
    await harness.press(VILLAGER, "收入大幅下降")
    assert "已取消" in texts_of(await harness.send(VILLAGER, "/cancel"))
    answer = texts_of(await harness.send(VILLAGER, "小额信贷能贷多少"))
    assert "5万元" in answer
    assert await cases(database) == []
    assert await registry(database) == before


async def test_the_words_villagers_use_offer_the_report(
    harness: BotHarness, database: Database, bound: None
) -> None:
    for words, change in (
        ("我家添了个孩子", "新生儿"),
        ("家里老人走了", "去世"),
        ("俺家有人得了大病", "大病"),
        ("我家添了個孩子", "新生儿"),  # traditional characters
    ):
        [offer] = await harness.send(VILLAGER, words)
        assert offer.buttons[0][0] == f"📝 对，报告：{change}", words
    assert "新添的孩子是" in texts_of(await harness.press(VILLAGER, "对，报告：新生儿"))
    # Questions still reach the knowledge base or the household's own answers.
    for question in ("孩子出生了有啥补贴", "家里有人得大病咋报销", "我家还能享受啥"):
        replies = await harness.send(VILLAGER, question)
        assert not any(data.startswith("hck:") for call in replies for _, data in call.buttons), (
            question
        )
    assert await cases(database) == []


# The cadre's confirmation


async def confirm(harness: BotHarness, user: int, case: Case) -> list[str]:
    return alerts_of(await harness.press_data(user, ChangeConfirm(case_id=case.id).pack()))


async def test_confirming_applies_each_change_once(
    harness: BotHarness, database: Database, bound: None
) -> None:
    await report_change(harness, "新生儿", "孙子或孙女")
    await report_change(harness, "去世", "配偶 · 16-59")
    await report_change(harness, "大病", "户主 · 60+")
    await report_change(harness, "受灾")
    birth, death, illness, disaster = await cases(database)
    version, members, versions = await registry(database)
    assert members == [("户主", "60+", ["劳动力"]), ("配偶", "16-59", ["残疾", "慢性病"])]

    assert "已登记进户 SAMPLE-150821101202-02 的档案" in (await confirm(harness, CADRE, birth))[0]
    assert await registry(database) == (
        version + 1, [*members, ("孙子女", "0-5", [])], versions + 1
    )  # fmt: skip
    # Twice is once.
    assert await confirm(harness, CADRE, birth) == ["这个变化已经登记进户档案了。"]
    assert (await registry(database))[0] == version + 1

    await confirm(harness, CADRE, death)
    await confirm(harness, CADRE, illness)
    assert await registry(database) == (
        version + 3, [("户主", "60+", ["劳动力", "大病"]), ("孙子女", "0-5", [])], versions + 3
    )  # fmt: skip
    # A change with no field in the record is noted in the case only.
    assert "户档案没有这一项可改" in (await confirm(harness, CADRE, disaster))[0]
    assert (await registry(database))[0] == version + 3

    async with database.sessionmaker() as session:
        latest = await session.scalar(
            select(HouseholdVersion)
            .where(HouseholdVersion.household_id == birth.household_id)
            .order_by(HouseholdVersion.version.desc())
            .limit(1)
        )
        events = (
            await session.scalars(
                select(CaseEvent).where(CaseEvent.kind == "change_confirmed").order_by(CaseEvent.id)
            )
        ).all()
    assert latest.changed_by == f"telegram:{CADRE}"
    assert latest.content["members"] == "户主:60+:劳动力|大病;孙子女:0-5"
    assert [(e.case_id, e.actor_id) for e in events] == [
        (case.id, CADRE) for case in (birth, death, illness, disaster)
    ]

    # The case shows it, without the button; then the cadre resolves it as usual.
    shown = (await harness.send(CADRE, f"/case {death.number}"))[0]
    assert "干部已确认，已登记进户档案" in shown.text
    assert "确认变化，已登记进户档案" in shown.text
    assert not any(data.startswith("hcc:") for _, data in shown.buttons)
    # The household's page shows who lives there now: relation, age band, flags.
    page = texts_of(await harness.send(CADRE, f"/household {HOUSEHOLD}"))
    assert "家庭成员</b>：户主 · 60+ · 劳动力、大病；孙子女 · 0-5\n" in page


async def test_a_change_typed_instead_of_tapped(
    harness: BotHarness, database: Database, bound: None
) -> None:
    await harness.send(VILLAGER, "/change")
    assert "是谁" in texts_of(await harness.send(VILLAGER, "去世"))
    # Where a member is to be tapped, typing is answered (and the report goes on).
    told = texts_of(await harness.send(VILLAGER, "户主"))
    assert told == "请点上面的按钮，或者发 /cancel 取消。"
    await harness.press(VILLAGER, "户主 · 60+")
    await harness.send(VILLAGER, "/skip")
    assert texts_of(await harness.send(VILLAGER, "好的")) == told  # at the check, too
    await harness.press(VILLAGER, "✅ 提交")
    # A part of a button's label, and an English one.
    await harness.send(VILLAGER, "/change")
    assert "说明" in texts_of(await harness.send(VILLAGER, "返乡"))
    await harness.send(VILLAGER, "/cancel")
    await harness.send(VILLAGER, "/change", lang="en")
    assert "note" in texts_of(await harness.send(VILLAGER, "Lost work"))
    await harness.send(VILLAGER, "/skip")
    await harness.press(VILLAGER, "Submit")
    death, jobless = await cases(database)
    assert (death.details["change"], death.details["member"]["relation"]) == ("death", "户主")
    assert (jobless.details["change"], jobless.details["member"]) == ("jobless", None)
    # Other words while the choice is offered go on to the answers as before.
    await harness.send(VILLAGER, "/change", lang="zh-hans")
    assert "5万元" in texts_of(await harness.send(VILLAGER, "小额信贷能贷多少"))


async def test_an_offered_change_still_works_after_a_restart(
    harness: BotHarness, database: Database, bound: None, settings: Settings
) -> None:
    [offer] = await harness.send(VILLAGER, "我家添了个孩子")
    _label, birth = offer.buttons[0]
    restarted = BotHarness(settings, database)  # the conversation state is gone
    await prepare(restarted.dispatcher)
    assert "新添的孩子是" in texts_of(await restarted.press_data(VILLAGER, birth))
    await restarted.press(VILLAGER, "孙子或孙女")
    await restarted.send(VILLAGER, "/skip")
    assert "已收到" in texts_of(await restarted.press(VILLAGER, "✅ 提交"))
    [case] = await cases(database)
    assert case.details["change"] == "birth"
    # Unbound, the tap says how to bind; forged data is refused.
    assert "/bind" in texts_of(await restarted.press_data(NEIGHBOUR, birth))
    forged = ChangeKindPick(kind="robbery").pack()
    assert alerts_of(await restarted.press_data(VILLAGER, forged)) == [STALE]
    assert len(await cases(database)) == 1


async def test_confirming_is_refused_outside_the_area_and_for_other_cases(
    harness: BotHarness, database: Database, bound: None
) -> None:
    await report_change(harness, "去世", "配偶 · 16-59")
    await harness.send(VILLAGER, "我家还能享受啥")
    await harness.press(VILLAGER, "医疗救助")
    change, inquiry = await cases(database)
    before = await registry(database)

    assert await confirm(harness, OTHER_CADRE, change) == [NOT_FOUND]
    assert await confirm(harness, VILLAGER, change) == [NOT_FOUND]  # not a cadre
    assert await confirm(harness, CADRE, inquiry) == [STALE]  # not a household change
    forged = ChangeConfirm(case_id=2**40).pack()
    assert alerts_of(await harness.press_data(CADRE, forged)) == [NOT_FOUND]
    assert await registry(database) == before

    # The member left the record meanwhile (a re-import): nothing is applied.
    async with database.sessionmaker() as session:
        await session.execute(
            delete(HouseholdMember).where(HouseholdMember.id == change.details["member_id"])
        )
        await session.commit()
    assert "户档案和这个报告对不上了" in (await confirm(harness, CADRE, change))[0]
    [stored, _] = await cases(database)
    assert "confirmed_by" not in stored.details
    async with database.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "change_confirmed")
        )
    assert count == 0


@pytest.fixture
async def any_database(database_url: str) -> AsyncIterator[Database]:
    await migrate.upgrade_async(database_url)
    database = await open_database(database_url)
    async with database.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
    yield database
    await database.close()


def _render(notice: object) -> tuple[str, None]:
    return "notice", None


async def test_two_cadres_confirming_at_once_apply_the_change_once(any_database: Database) -> None:
    """On SQLite and PostgreSQL: the registry change and the case's event commit together, and
    the second confirmation (its case read before the first committed) changes nothing."""
    sessionmaker = any_database.sessionmaker
    async with sessionmaker() as session:
        household = await HouseholdRepo(session).get(HOUSEHOLD)
        head = household.members[0]
        reporter = await UserRepo(session).touch(VILLAGER)
        cadre = await UserRepo(session).grant(CADRE, Role.CADRE, TOWNSHIP)
        actor = Actor.of(cadre)
        case = await CaseService(session, _render).submit(
            Report(
                reporter=reporter,
                locale="zh_Hans",
                category=HOUSEHOLD_CHANGE,
                place_code=household.region_code,
                description="大病",
                household_id=household.id,
                details={
                    "change": "illness",
                    "member_id": head.id,
                    "member": {"relation": head.relation, "age_band": head.age_band},
                },
            )
        )
        household_key, case_id, version = household.id, case.id, household.version
    async with sessionmaker() as first, sessionmaker() as second:
        mine, theirs = await first.get(Case, case_id), await second.get(Case, case_id)
        applied = await CaseService(first, _render).confirm_change(mine, actor)
        assert applied.version == version + 1
        with pytest.raises((CaseError, ChangeError)):
            await CaseService(second, _render).confirm_change(theirs, actor)
    async with sessionmaker() as session:
        household = await HouseholdRepo(session).get(HOUSEHOLD)
        assert household.version == version + 1
        assert "大病" in household.members[0].flags
        rows = await session.scalar(
            select(func.count())
            .select_from(HouseholdVersion)
            .where(HouseholdVersion.household_id == household_key)
        )
        events = await session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "change_confirmed")
        )
        assert (rows, events) == (version + 1, 1)
        # Once confirmed, never again.
        stored = await session.get(Case, case_id)
        with pytest.raises(CaseError):
            await CaseService(session, _render).confirm_change(stored, actor)
