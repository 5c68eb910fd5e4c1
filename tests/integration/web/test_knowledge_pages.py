"""Policy answers in the console: an edit previewed (the villager's answer, which entry wins)
before it is saved as a new version the bot answers with; the import's checks; two admins at
once; history, diff and rollback; retire; create; upload; who may change what."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from db.knowledge import KnowledgeRepo
from db.models import (
    AdminAction,
    KnowledgeEntry,
    KnowledgeEntryVersion,
    Role,
    UnansweredQuestion,
)
from db.session import Database
from knowledge.service import KnowledgeBase
from tests.integration.web.conftest import YUNNAN, ZHENXIONG, Console, give_role

pytestmark = pytest.mark.both_databases
ADMIN, OTHER_ADMIN, COUNTY_ADMIN, CADRE = 9201, 9202, 9203, 9101
ENTRY = "medical.family_doctor"  # 云南省, 2019
PHRASING = "家庭医生必须签吗"
IN_ZHENXIONG = ["云南省", "昭通市", "镇雄县"]
NEW_ANSWER = "家庭医生签约不再要求签约人数和全覆盖，不用为了凑数硬签。有病先找村医。"


async def stored(database: Database, entry_id: str = ENTRY) -> KnowledgeEntry | None:
    async with database.sessionmaker() as session:
        return await KnowledgeRepo(session).entry(entry_id)


async def versions(database: Database, entry_id: str = ENTRY) -> list[KnowledgeEntryVersion]:
    async with database.sessionmaker() as session:
        return await KnowledgeRepo(session).versions(entry_id)


def fields(content: dict[str, Any], version: int | None, **changes: str) -> dict[str, str]:
    """The edit form as the page fills it from an entry, with the editor's changes."""
    cited = [content["source"], *content.get("also", [])]
    form = {
        "topic": content["topic"],
        "region": content["region"],
        "effective": content["effective"],
        "answer": content["answer"],
        "details": content.get("details", ""),
        "questions": "\n".join(content["questions"]),
        "general_note": content.get("general_note", ""),
        "handles": "",
        "preview_region": "",
        "extra_questions": "",
        "why": "",
    }
    if version is not None:
        form["version"] = str(version)
    for number, source in enumerate([*cited, {}]):
        form[f"source_file_{number}"] = source.get("file", "")
        form[f"source_clause_{number}"] = source.get("clause", "")
        form[f"source_quote_{number}"] = source.get("quote", "")
    return {**form, **changes}


async def bot_answer(database: Database, question: str, regions: list[str] | None) -> str:
    """What the bot (a fresh instance, as on another machine) answers, or "" if unsure."""
    index = await KnowledgeBase(database.sessionmaker).index()
    result = index.search(question, regions)
    return result.best.entry.answer if result.confident and result.best else ""


@pytest.fixture
async def admin(console: Console, database: Database) -> Console:
    await give_role(database, ADMIN, Role.ADMIN, None)
    await console.sign_in(ADMIN)
    return console


async def test_preview_shows_the_villagers_answer_and_the_winner_and_saves_nothing(
    admin: Console, database: Database
) -> None:
    before = await stored(database)
    assert before is not None
    edit = await admin.text(f"/knowledge/{ENTRY}/edit")
    assert before.content["answer"] in edit
    assert 'value="530000" selected' in edit  # the preview asks from the entry's region
    form = fields(
        before.content, before.version, answer=NEW_ANSWER, preview_region=ZHENXIONG,
        extra_questions="小额信贷能贷多少钱",
    )  # fmt: skip
    shown = await admin.post(f"/knowledge/{ENTRY}/preview", form)
    assert shown.status == 200
    page = await shown.text()
    assert NEW_ANSWER in page
    assert "适用地区：云南省" in page  # the bot's own rendering, with its source line
    assert "云南省脱贫攻坚“夏季攻势”工作报道" in page
    row = page[page.index(PHRASING, page.index("<tbody>")) :]
    assert row.index(ENTRY) < row.index("microcredit.amount")
    assert "（本条）" in row[: row.index("</tr>")]
    assert "microcredit.amount" in page  # the extra question: another entry wins
    after = await stored(database)
    assert after is not None
    assert (after.version, after.content) == (before.version, before.content)
    assert len(await versions(database)) == 1


async def test_a_save_is_a_new_version_and_the_bot_answers_with_it(
    admin: Console, database: Database
) -> None:
    """Opened from the unanswered questions with one to add as a phrasing: saved, it is off
    their list."""
    asked = "签家庭医生是强制的不"
    async with database.sessionmaker() as session:
        question = UnansweredQuestion(text=asked, decision="unsure")
        session.add(question)
        await session.commit()
        ref = f"q{question.id}"
    opened = await admin.text(f"/knowledge/{ENTRY}/edit?add_phrasing={asked}&handles={ref}")
    assert f"{PHRASING}\n" in opened
    assert f"{asked}</textarea>" in opened
    assert f'name="handles" value="{ref}"' in opened
    before = await stored(database)
    assert before is not None
    questions = "\n".join([*before.content["questions"], asked])
    form = fields(
        before.content, before.version, answer=NEW_ANSWER, questions=questions,
        why="村民反映看不懂", handles=ref,
    )  # fmt: skip
    saved = await admin.post(f"/knowledge/{ENTRY}/edit", form, allow_redirects=False)
    assert saved.status == 303
    assert saved.headers["Location"] == f"/knowledge/{ENTRY}"
    [_, new] = await versions(database)
    assert (new.version, new.reason, new.changed_by) == (2, "村民反映看不懂", f"web:{ADMIN}")
    assert new.content["answer"] == NEW_ANSWER
    assert new.content["questions"][-1] == asked
    assert await bot_answer(database, PHRASING, IN_ZHENXIONG) == NEW_ANSWER
    async with database.sessionmaker() as session:
        action = await session.scalar(select(AdminAction).where(AdminAction.action == "kb.save"))
        handled = await session.get(UnansweredQuestion, question.id)
    assert action is not None
    assert (action.target, action.actor_id, action.area_path) == (ENTRY, ADMIN, "530000/")
    assert handled is not None
    assert handled.handled_how == "phrasing"
    assert NEW_ANSWER in await admin.text(f"/knowledge/{ENTRY}")


async def test_a_wrong_number_or_quote_is_refused_with_the_problem_and_nothing_saved(
    admin: Console, database: Database
) -> None:
    before = await stored(database)
    assert before is not None
    wrong = "家庭医生签约后，最高可贷100万元。"
    form = fields(before.content, before.version, answer=wrong, why="test")
    refused = await admin.post(f"/knowledge/{ENTRY}/edit", form)
    assert refused.status == 422
    page = await refused.text()
    assert "引用的条款里没有这些数字：[&#39;100&#39;]" in page  # the review, in the reader's words
    assert wrong in page  # the editor's text is kept
    quote = fields(before.content, before.version, source_quote_0="家庭医生必须人人签约", why="x")
    refused = await admin.post(f"/knowledge/{ENTRY}/edit", quote)
    assert refused.status == 422
    assert "在000_6a682d66cd7a16f6.txt里找不到一字不差的引文" in await refused.text()
    no_reason = fields(before.content, before.version, answer=NEW_ANSWER)
    refused = await admin.post(f"/knowledge/{ENTRY}/edit", no_reason)
    assert refused.status == 422
    assert "请说明修改原因" in await refused.text()
    assert len(await versions(database)) == 1


async def test_of_two_admins_saving_at_once_one_wins_and_the_other_keeps_their_text(
    admin: Console, second_console: Console, database: Database
) -> None:
    await give_role(database, OTHER_ADMIN, Role.ADMIN, None)
    await second_console.sign_in(OTHER_ADMIN)
    before = await stored(database)
    assert before is not None
    mine = fields(before.content, before.version, answer=NEW_ANSWER, why="mine")
    theirs_text = "家庭医生签约不再要求签约人数。"
    theirs = fields(before.content, before.version, answer=theirs_text, why="theirs")
    first, second = await asyncio.gather(
        admin.post(f"/knowledge/{ENTRY}/edit", mine, allow_redirects=False),
        second_console.post(f"/knowledge/{ENTRY}/edit", theirs, allow_redirects=False),
    )
    assert sorted([first.status, second.status]) == [303, 409]
    loser, winner_id, kept, won = (
        (second, ADMIN, theirs_text, NEW_ANSWER)
        if first.status == 303
        else (first, OTHER_ADMIN, NEW_ANSWER, theirs_text)
    )
    page = await loser.text()
    assert f"web:{winner_id}" in page
    assert "在您打开之后" in page
    assert kept in page
    assert won in page
    assert 'name="version" value="2"' in page  # saving again goes over what they have now seen
    assert [v.content["answer"] for v in await versions(database)][1:] == [won]


async def test_history_shows_every_version_and_a_diff_and_rollback_restores_the_answer(
    admin: Console, database: Database
) -> None:
    before = await stored(database)
    assert before is not None
    old_answer = before.content["answer"]
    form = fields(before.content, before.version, answer=NEW_ANSWER, why="更通俗")
    await admin.post(f"/knowledge/{ENTRY}/edit", form)
    history = await admin.text(f"/knowledge/{ENTRY}/history?a=1&b=2")
    assert "更通俗" in history
    assert f"web:{ADMIN}" in history
    assert "seed" in history
    assert f'<span class="del">− answer: {old_answer}' in history
    assert f'<span class="add">+ answer: {NEW_ANSWER}' in history
    assert await bot_answer(database, PHRASING, IN_ZHENXIONG) == NEW_ANSWER
    stale = await admin.post(f"/knowledge/{ENTRY}/rollback", {"version": "1", "expected": "1"})
    assert stale.status == 409  # the page it came from showed v1 as the current one
    rolled = await admin.post(
        f"/knowledge/{ENTRY}/rollback", {"version": "1", "expected": "2"}, allow_redirects=False
    )
    assert rolled.status == 303
    assert await bot_answer(database, PHRASING, IN_ZHENXIONG) == old_answer
    latest = (await versions(database))[-1]
    assert (latest.version, latest.reason) == (3, "rollback to v1")
    found = await admin.text(f"/knowledge?q={PHRASING}")
    assert ENTRY in found
    assert old_answer in await admin.text(f"/knowledge/{ENTRY}")


async def test_a_retired_entry_is_not_answered_until_reactivated(
    admin: Console, database: Database
) -> None:
    assert await bot_answer(database, PHRASING, IN_ZHENXIONG)
    retired = await admin.post(f"/knowledge/{ENTRY}/retire", allow_redirects=False)
    assert retired.status == 303
    assert (await stored(database)).active is False  # type: ignore[union-attr]
    index = await KnowledgeBase(database.sessionmaker).index()
    assert index.get(ENTRY) is None
    assert ENTRY not in await admin.text("/knowledge")
    assert ENTRY in await admin.text("/knowledge?status=retired")
    await admin.post(f"/knowledge/{ENTRY}/reactivate")
    assert (await KnowledgeBase(database.sessionmaker).index()).get(ENTRY) is not None
    async with database.sessionmaker() as session:
        actions = (await session.scalars(select(AdminAction.action).order_by(AdminAction.id))).all()
    assert [a for a in actions if a.startswith("kb.")] == ["kb.retire", "kb.reactivate"]


async def test_a_new_entry_from_an_unanswered_question_is_answered_and_marks_it_handled(
    admin: Console, database: Database
) -> None:
    async with database.sessionmaker() as session:
        question = UnansweredQuestion(text="村医一年来几回", decision="out_of_scope")
        session.add(question)
        await session.commit()
        ref = f"q{question.id}"
    template = await stored(database)
    assert template is not None
    opened = await admin.text(f"/knowledge/new?phrasing=村医一年来几回&handles={ref}")
    assert "村医一年来几回" in opened
    assert f'value="{ref}"' in opened
    content = {**template.content, "questions": ["村医一年来几回", "村医多久来一次", "村医上门吗"]}
    form = fields(content, None, id=f"{ENTRY}_visits", why="新问题", handles=ref)
    taken = await admin.post("/knowledge/new", {**form, "id": ENTRY})
    assert taken.status == 422
    assert f"编号{ENTRY}已经有了" in await taken.text()
    created = await admin.post("/knowledge/new", form, allow_redirects=False)
    assert created.status == 303
    new = await stored(database, f"{ENTRY}_visits")
    assert new is not None
    assert new.version == 1
    async with database.sessionmaker() as session:
        handled = await session.get(UnansweredQuestion, question.id)
    assert handled is not None
    assert handled.handled_how == "new_entry"
    bad_id = await admin.post("/knowledge/new", {**form, "id": "Medical.Visits"})
    assert bad_id.status == 422


async def test_an_uploaded_file_is_summarised_then_applied(
    admin: Console, database: Database
) -> None:
    before = await stored(database)
    assert before is not None
    from web.knowledge_preview import as_yaml

    changed = {**before.content, "answer": NEW_ANSWER}
    text = as_yaml([changed])  # type: ignore[arg-type]
    summary = await admin.post("/knowledge/upload", {"file": _file(text)})
    page = await summary.text()
    assert summary.status == 200
    assert "已修改" in page
    assert f"+ answer: {NEW_ANSWER}" in page
    assert len(await versions(database)) == 1  # nothing applied yet
    applied = await admin.post(
        "/knowledge/upload/apply",
        {"text": text, "name": "family.yaml", "why": "批量更新"},
        allow_redirects=False,
    )
    assert applied.status == 303
    latest = (await versions(database))[-1]
    assert (latest.version, latest.reason, latest.content["answer"]) == (2, "批量更新", NEW_ANSWER)
    assert await bot_answer(database, PHRASING, IN_ZHENXIONG) == NEW_ANSWER
    async with database.sessionmaker() as session:
        logged = (
            await session.scalars(select(AdminAction).where(AdminAction.action == "kb.upload"))
        ).all()
    assert [(a.target, a.area_path) for a in logged] == [(ENTRY, "530000/")]
    assert "文件已应用：新增0条，修改1条。" in await admin.text(applied.headers["Location"])
    wrong = as_yaml([{**changed, "answer": "最高可贷100万元。"}])  # type: ignore[arg-type]
    refused = await admin.post("/knowledge/upload", {"file": _file(wrong)})
    assert "引用的条款里没有这些数字" in await refused.text()
    forced = await admin.post(
        "/knowledge/upload/apply", {"text": wrong, "name": "x.yaml", "why": "x"}
    )
    assert forced.status == 422
    assert len(await versions(database)) == 2


def _file(text: str) -> Any:
    import io

    upload = io.BytesIO(text.encode())
    upload.name = "family.yaml"
    return upload


async def test_a_cadre_gets_403_on_every_knowledge_page(
    console: Console, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, ZHENXIONG)
    await console.sign_in(CADRE)
    for path in ("/knowledge", f"/knowledge/{ENTRY}", f"/knowledge/{ENTRY}/edit",
                 f"/knowledge/{ENTRY}/history", "/knowledge/new", "/knowledge/upload"):  # fmt: skip
        assert (await console.get(path)).status == 403, path
    before = await stored(database)
    assert before is not None
    form = fields(before.content, before.version, answer=NEW_ANSWER, why="x")
    assert (await console.post(f"/knowledge/{ENTRY}/edit", form)).status == 403
    assert (await console.post(f"/knowledge/{ENTRY}/retire")).status == 403
    assert len(await versions(database)) == 1


async def test_a_county_admin_reads_a_province_entry_but_cannot_change_it(
    console: Console, database: Database
) -> None:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await console.sign_in(COUNTY_ADMIN)
    page = await console.text(f"/knowledge/{ENTRY}")
    assert "不在您的管辖范围" in page
    assert f"/knowledge/{ENTRY}/edit" not in page
    assert (await console.get(f"/knowledge/{ENTRY}/edit")).status == 404
    before = await stored(database)
    assert before is not None
    form = fields(before.content, before.version, answer=NEW_ANSWER, why="x")
    for action in ("edit", "preview", "retire"):
        assert (await console.post(f"/knowledge/{ENTRY}/{action}", form)).status == 404
    rollback = {"version": "1", "expected": "1"}
    assert (await console.post(f"/knowledge/{ENTRY}/rollback", rollback)).status == 404
    new = fields({**before.content, "id": "x"}, None, id=f"{ENTRY}_zx", why="x")
    refused = await console.post("/knowledge/new", new)  # a new entry for the province
    assert refused.status == 422
    assert "地区：云南省不在您的管辖范围内" in await refused.text()
    assert await stored(database, f"{ENTRY}_zx") is None
    assert (await stored(database)).version == 1  # type: ignore[union-attr]
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(AdminAction).where(
            AdminAction.action.startswith("kb."))) == 0  # fmt: skip
    assert YUNNAN  # the province the entry governs


async def test_a_forged_reference_to_another_areas_question_is_not_marked_handled(
    console: Console, database: Database
) -> None:
    """A Yunnan admin saving with the reference of a question asked in 长春 (edited into the
    link) leaves that question on the Changchun admins' list."""
    yunnan_admin = 9204
    await give_role(database, yunnan_admin, Role.ADMIN, YUNNAN)
    await console.sign_in(yunnan_admin)
    async with database.sessionmaker() as session:
        theirs = UnansweredQuestion(text="签医生要钱不", decision="unsure", region_code="220100")
        ours = UnansweredQuestion(text="签医生要钱吗", decision="unsure", region_code="530627")
        session.add_all([theirs, ours])
        await session.commit()
        refs = f"q{theirs.id},q{ours.id}"
    before = await stored(database)
    assert before is not None
    questions = "\n".join([*before.content["questions"], "签医生要钱吗"])
    form = fields(before.content, before.version, questions=questions, why="补充问法", handles=refs)
    saved = await console.post(f"/knowledge/{ENTRY}/edit", form, allow_redirects=False)
    assert saved.status == 303
    async with database.sessionmaker() as session:
        handled = {
            row.region_code: row.handled_how
            for row in await session.scalars(select(UnansweredQuestion))
        }
    assert handled == {"220100": None, "530627": "phrasing"}
