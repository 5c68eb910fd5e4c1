"""A cadre works a case from one message: it is edited in place after every step with the
buttons that apply now; menus can be cancelled; histories name cadres by role and unit. And the
admin's /revoke, /grant … villager and /unanswered as an admin reads them."""

from __future__ import annotations

from db.session import Database
from db.users import UserRepo
from handlers.keyboards import CaseAction
from tests.harness import BotHarness, alerts_of, texts_of
from tests.integration.test_cases_flow import TOWNSHIP_CADRE, VILLAGER, people, report

__all__ = ["people"]

ADMIN = 990


def actions(call) -> set[str]:
    return {data.split(":")[2] for _, data in call.buttons if data.startswith("ca:")}


def edits(calls, message_id: int) -> list:
    return [
        call
        for call in calls
        if call.method.startswith("editMessage") and call.params["message_id"] == message_id
    ]


async def test_the_case_message_follows_each_step_in_place(
    harness: BotHarness, people: None
) -> None:
    case = await report(harness, "水管漏水")
    [notice] = [c for c in await harness.deliver() if c.params["chat_id"] == TOWNSHIP_CADRE]
    message_id = notice.result["message_id"]

    accepted = await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:accept", lang="en")
    [screen] = edits(accepted, message_id)
    assert actions(screen) == {"reply", "resolve", "info", "transfer"}
    assert "being handled" in screen.text
    assert "accepted (cadre of 以古镇)" in screen.text
    assert str(TOWNSHIP_CADRE) not in screen.text

    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:reply", lang="en")
    replied = await harness.send(TOWNSHIP_CADRE, "下午就去修", lang="en")
    [screen] = edits(replied, message_id)
    assert "replied (cadre of 以古镇): 下午就去修" in screen.text

    # Resolve turns the buttons into the outcomes, with Cancel back to the case's buttons.
    menu = await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:resolve", lang="en")
    [outcomes] = edits(menu, message_id)
    assert "Cancel" in [label for label, _ in outcomes.buttons]
    assert any(data.startswith("co:") for _, data in outcomes.buttons)
    back = await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:back", lang="en")
    assert actions(edits(back, message_id)[0]) == {"reply", "resolve", "info", "transfer"}

    menu = await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:transfer", lang="en")
    assert "Cancel" in [label for label, _ in edits(menu, message_id)[0].buttons]
    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:back", lang="en")

    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:resolve", lang="en")
    await harness.press_prefix(TOWNSHIP_CADRE, f"co:{case.id}:fixed", lang="en")
    resolved = await harness.send(TOWNSHIP_CADRE, "修好了", lang="en")
    [screen] = edits(resolved, message_id)
    assert actions(screen) == set()
    assert "resolved (cadre of 以古镇): 修好了" in screen.text

    # A button of an older message that no longer applies says why.
    late = CaseAction(case_id=case.id, action="reply").pack()
    calls = await harness.press_data(TOWNSHIP_CADRE, late, message_id, lang="en")
    assert alerts_of(calls) == [
        f"Case {case.number} is resolved: the reporter is asked to rate it."
    ]


async def test_cancel_under_a_case_drops_the_awaited_note(
    harness: BotHarness, people: None
) -> None:
    case = await report(harness, "路灯坏了")
    await harness.deliver()
    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:accept", lang="en")
    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:transfer", lang="en")
    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:up", lang="en")
    await harness.press_prefix(TOWNSHIP_CADRE, f"ca:{case.id}:back", lang="en")
    calls = await harness.send(TOWNSHIP_CADRE, "这句不是理由", lang="en")
    assert "passed to" not in texts_of(calls)
    assert "这句不是理由" not in texts_of(await harness.deliver())


async def test_revoke_and_grant_villager_explain_themselves(
    harness: BotHarness, database: Database, people: None
) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(ADMIN, "admin", "530627")
    explained = texts_of(await harness.send(ADMIN, f"/grant {VILLAGER} villager", lang="en"))
    assert "villagers need no grant" in explained
    revoked = texts_of(await harness.send(ADMIN, f"/grant {TOWNSHIP_CADRE} villager", lang="en"))
    assert "is no longer cadre: they are a villager now" in revoked
    usage = texts_of(await harness.send(ADMIN, "/revoke", lang="en"))
    assert "Usage: /revoke TELEGRAM_ID" in usage
    assert (
        "only administrators"
        in texts_of(await harness.send(VILLAGER, f"/revoke {ADMIN}", lang="en")).lower()
    )


async def test_unanswered_groups_the_same_question_and_names_entries_by_question(
    harness: BotHarness, database: Database, people: None
) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(ADMIN, "admin", None)
    for asked in ("今天天气怎么样", "今天天气怎么样？", "今天天氣怎麼樣"):
        await harness.send(VILLAGER, asked)
    await harness.send(VILLAGER, "小额信贷能贷多少钱")
    await harness.press(VILLAGER, "👎")
    listed = texts_of(await harness.send(ADMIN, "/unanswered", lang="en"))
    assert listed.count("天气怎么样") + listed.count("天氣怎麼樣") == 1
    assert "×3" in listed
    assert "microcredit.amount" not in listed
    assert "小额信贷能贷多少钱 → " in listed
