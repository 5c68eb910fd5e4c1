"""The unanswered-questions page: similar questions grouped with their counts and regions,
the two ways on to the policy-answer editor, dismissing a group, and each admin's area."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from db.models import AdminAction, AnswerFeedback, Role, UnansweredQuestion, User, utcnow
from db.session import Database
from db.unanswered import HandledHow, mark_handled
from tests.integration.web.conftest import NONGAN, ZHENXIONG, Console, give_role
from web.pages import unanswered as unanswered_page

pytestmark = pytest.mark.both_databases
ADMIN, COUNTY_ADMIN, CADRE, VILLAGER = 7201, 7202, 7101, 7301
HONGXING_VILLAGE, LIANGSHUIJING, CHENJIADIAN = "530627101201", "530627102201", "220122101201"
GUESS, DISLIKED = "assistance.visits", "assistance.first_secretary"


async def ask(
    database: Database, text: str, region: str | None, minutes_ago: int,
    decision: str = "out_of_scope", guess: str | None = GUESS,
) -> str:  # fmt: skip
    async with database.sessionmaker() as session:
        row = UnansweredQuestion(
            text=text, decision=decision, best_entry_id=guess, region_code=region,
            locale="zh_Hans", asked_at=utcnow() - timedelta(minutes=minutes_ago),
        )  # fmt: skip
        session.add(row)
        await session.commit()
        return f"q{row.id}"


async def dislike(database: Database, text: str, minutes_ago: int) -> str:
    """A 👎 from a villager of 红星村."""
    async with database.sessionmaker() as session:
        if await session.get(User, VILLAGER) is None:
            session.add(User(telegram_id=VILLAGER, region_code=HONGXING_VILLAGE))
        row = AnswerFeedback(
            entry_id=DISLIKED, entry_version=1, helpful=False, user_id=VILLAGER, question=text,
            given_at=utcnow() - timedelta(minutes=minutes_ago),
        )  # fmt: skip
        session.add(row)
        await session.commit()
        return f"f{row.id}"


async def questions(database: Database) -> dict[str, str]:
    """Four askings of one question (one a 👎, one without a village) and one of another."""
    return {
        "hongxing": await ask(database, "残疾人补贴咋领", HONGXING_VILLAGE, 50),
        "liangshuijing": await ask(database, "殘疾人補貼咋領取", LIANGSHUIJING, 40, "unsure"),
        "nowhere": await ask(database, "残疾补贴怎么领", None, 30),
        "disliked": await dislike(database, "请问残疾人补贴咋领啊", 20),
        "nongan": await ask(database, "低保多少钱", CHENJIADIAN, 10, guess=None),
    }


def group_of(page: str, text: str) -> str:
    """The HTML of the group whose heading is this text."""
    for section in page.split('<section class="question-group">')[1:]:
        heading = section.split("</h2>")[0]
        if heading.endswith(f"</span> {text}"):
            return section
    raise AssertionError(f"no group {text} on the page")


def handles_of(section: str) -> set[str]:
    value = section.split('name="handles" value="')[1].split('"')[0]
    return set(value.split(","))


async def admin_console(console: Console, database: Database, area: str | None) -> Console:
    await give_role(database, ADMIN, Role.ADMIN, area)
    await console.sign_in(ADMIN)
    return console


async def test_similar_questions_are_one_group_with_count_regions_and_members(
    console: Console, database: Database
) -> None:
    refs = await questions(database)
    await admin_console(console, database, None)
    page = await console.text("/unanswered")
    assert page.index("残疾人补贴咋领") < page.index("低保多少钱")  # the larger group first
    disability = group_of(page, "残疾人补贴咋领")
    assert '<span class="count">4</span>' in disability
    assert "地区：红星村、凉水井村" in disability
    assert "没找到" in disability
    assert "不确定" in disability
    assert "点了👎" in disability
    assert "<details>" in disability
    for member in ("殘疾人補貼咋領取", "残疾补贴怎么领", "请问残疾人补贴咋领啊"):
        assert member in disability
    assert handles_of(disability) == {refs[k] for k in refs if k != "nongan"}
    assert f'<option value="{GUESS}" selected>' in disability
    cheap = group_of(page, "低保多少钱")
    assert '<span class="count">1</span>' in cheap
    assert "地区：陈家店村" in cheap
    assert '<option value="" selected>' in cheap  # the bot had no guess: none chosen
    assert "待处理：5条" in page


async def test_the_links_carry_the_groups_references(console: Console, database: Database) -> None:
    refs = await questions(database)
    await admin_console(console, database, None)
    section = group_of(await console.text("/unanswered"), "残疾人补贴咋领")
    handles = ",".join(sorted(handles_of(section)))
    link = html.unescape(section.split('<a href="/knowledge/new?')[1].split('"')[0])
    new_entry = parse_qs(link)
    assert new_entry["phrasing"] == ["残疾人补贴咋领"]
    assert set(new_entry["handles"][0].split(",")) == handles_of(section)
    response = await console.get(
        "/unanswered/phrasing", params={"entry": GUESS, "handles": handles},
        allow_redirects=False,
    )  # fmt: skip
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == f"/knowledge/{GUESS}/edit"
    query = parse_qs(location.query)
    assert query["add_phrasing"] == ["残疾人补贴咋领"]
    assert set(query["handles"][0].split(",")) == set(handles.split(","))
    for forged in (
        {"entry": "no.such_entry", "handles": handles},
        {"entry": GUESS, "handles": "q999999"},
    ):
        assert (await console.get("/unanswered/phrasing", params=forged)).status == 404
    assert refs["nongan"] not in handles


async def test_dismissing_a_group_takes_it_off_the_page_and_is_logged(
    console: Console, database: Database
) -> None:
    refs = await questions(database)
    await admin_console(console, database, None)
    section = group_of(await console.text("/unanswered"), "残疾人补贴咋领")
    handles = section.split('name="handles" value="')[-1].split('"')[0]  # the dismiss form's
    response = await console.post(
        "/unanswered/dismiss", {"handles": handles}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/unanswered?dismissed=4"
    page = await console.text("/unanswered?dismissed=4")
    assert "已忽略：4条" in page
    assert "残疾人补贴咋领" not in page
    assert "低保多少钱" in page
    assert "待处理：1条" in page
    async with database.sessionmaker() as session:
        hows = set(await session.scalars(select(UnansweredQuestion.handled_how)))
        feedback = await session.scalar(select(AnswerFeedback.handled_how))
        [logged] = await session.scalars(
            select(AdminAction).where(AdminAction.action == "unanswered.dismiss")
        )
    assert hows == {HandledHow.DISMISSED, None}
    assert feedback == HandledHow.DISMISSED
    assert logged.actor_id == ADMIN
    assert logged.target == "残疾人补贴咋领"
    assert logged.details == {"count": 4}
    assert (await console.post("/unanswered/dismiss", {"handles": handles})).status == 404
    assert refs["nongan"] not in handles


async def test_a_member_handled_elsewhere_lowers_the_count(
    console: Console, database: Database
) -> None:
    refs = await questions(database)
    await admin_console(console, database, None)
    async with database.sessionmaker() as session:
        await mark_handled(session, [refs["liangshuijing"]], HandledHow.PHRASING)
        await session.commit()
    section = group_of(await console.text("/unanswered"), "残疾人补贴咋领")
    assert '<span class="count">3</span>' in section
    assert "凉水井村" not in section
    assert refs["liangshuijing"] not in handles_of(section)


async def test_an_admin_with_an_area_sees_and_dismisses_only_their_areas_rows(
    console: Console, database: Database
) -> None:
    refs = await questions(database)
    await admin_console(console, database, ZHENXIONG)
    page = await console.text("/unanswered")
    assert "低保多少钱" not in page  # 农安县
    assert "残疾补贴怎么领" not in page  # no village known: admins of all areas only
    assert "只显示给不限地区的管理员" in page
    section = group_of(page, "残疾人补贴咋领")
    assert '<span class="count">3</span>' in section
    assert handles_of(section) == {refs["hongxing"], refs["liangshuijing"], refs["disliked"]}
    for foreign in (refs["nongan"], refs["nowhere"]):
        forged = await console.post("/unanswered/dismiss", {"handles": foreign})
        assert forged.status == 404
        assert (await console.get(
            "/unanswered/phrasing", params={"entry": GUESS, "handles": foreign}
        )).status == 404  # fmt: skip
    mixed = f"{refs['hongxing']},{refs['nongan']}"
    onward = await console.get(
        "/unanswered/phrasing", params={"entry": GUESS, "handles": mixed}, allow_redirects=False
    )
    assert parse_qs(urlsplit(onward.headers["Location"]).query)["handles"] == [refs["hongxing"]]
    dismissed = await console.post("/unanswered/dismiss", {"handles": mixed}, allow_redirects=False)
    assert dismissed.headers["Location"] == "/unanswered?dismissed=1"
    async with database.sessionmaker() as session:
        handled = {
            f"q{row_id}": how
            for row_id, how in await session.execute(
                select(UnansweredQuestion.id, UnansweredQuestion.handled_how)
            )
        }
    assert handled[refs["hongxing"]] == HandledHow.DISMISSED
    assert handled[refs["nongan"]] is None
    assert handled[refs["nowhere"]] is None


async def test_a_cadre_is_refused(console: Console, database: Database) -> None:
    refs = await questions(database)
    await give_role(database, CADRE, Role.CADRE, NONGAN)
    await console.sign_in(CADRE)
    assert (await console.get("/unanswered")).status == 403
    phrasing = {"entry": GUESS, "handles": refs["nongan"]}
    assert (await console.get("/unanswered/phrasing", params=phrasing)).status == 403
    assert (await console.post("/unanswered/dismiss", {"handles": refs["nongan"]})).status == 403
    async with database.sessionmaker() as session:
        assert await session.scalar(select(UnansweredQuestion.handled_at).limit(1)) is None


LANGUAGES = {
    "zh_Hans": ["未答问题", "忽略", "据此新建一条", "对“"],
    "zh_Hant": ["未答問題", "忽略", "據此新建一條", "對「", "紅星村"],
    "en": ["Unanswered questions", "Dismiss", "Start a new entry from it", "👎 on “"],
}


async def test_the_page_in_each_language(console: Console, database: Database) -> None:
    await questions(database)
    await admin_console(console, database, None)
    for language, words in LANGUAGES.items():
        await console.get(f"/language/{language}")
        page = await console.text("/unanswered")
        for word in words:
            assert word in page, (language, word)


async def test_the_most_recent_rows_are_grouped_the_total_is_said_and_groups_are_paged(
    console: Console, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unanswered_page, "GROUPED_ROWS", 4)
    monkeypatch.setattr(unanswered_page, "GROUPS_PER_PAGE", 1)
    await questions(database)
    await admin_console(console, database, None)
    first = await console.text("/unanswered")
    assert "待处理：5条；这里分组显示最近的4条。" in first
    assert '<span class="count">3</span> 请问残疾人补贴咋领啊' in first  # led by the newest
    assert "<td>残疾人补贴咋领</td>" not in first  # the oldest asking is left out
    assert "低保多少钱" not in first  # on the next page
    assert "第1页，共2页" in first
    second = await console.text("/unanswered?page=2")
    assert '<span class="count">1</span> 低保多少钱' in second
    assert "请问残疾人补贴咋领啊" not in second
