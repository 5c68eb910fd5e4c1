"""The Users page: granting and taking back roles within the admin's own area by the bot's rules
(grievances/roles.py), unlinking units' group chats, and every change — from the console, the
bot's /grant, /revoke, /linkgroup and `huhuqing users` — in the admin action log."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from bot import user_commands
from db.models import AdminAction, OutboxMessage, Role, UnitChat, User, WebSession, utcnow
from db.session import Database
from tests.harness import BotHarness, texts_of
from tests.integration.web.conftest import (
    NONGAN,
    TANGFANG,
    YIGU,
    YUNNAN,
    ZHENXIONG,
    Console,
    give_role,
)

pytestmark = pytest.mark.both_databases
COUNTY_ADMIN, ADMIN, CADRE, OTHER_CADRE, NEWCOMER = 8101, 8102, 8201, 8202, 8301
HELONG = "220122101"  # 合隆镇, a township of 农安县 (Jilin)
YIGU_PATH_END = "/530627/530627101/"


async def _roles(database: Database, *ids: int) -> dict[int, tuple[str, str | None] | None]:
    async with database.sessionmaker() as session:
        users = {user_id: await session.get(User, user_id) for user_id in ids}
        return {i: (u.role, u.area_code) if u else None for i, u in users.items()}


async def _actions(database: Database, prefix: str = "") -> list[AdminAction]:
    async with database.sessionmaker() as session:
        query = select(AdminAction).where(AdminAction.action.startswith(prefix))
        return list((await session.scalars(query.order_by(AdminAction.id))).all())


@pytest.fixture
async def county_admin(console: Console, database: Database) -> Console:
    """The admin of 镇雄县, signed in; a cadre of 以古镇 and one of 合隆镇 (another province)."""
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    await give_role(database, CADRE, Role.CADRE, YIGU)
    await give_role(database, OTHER_CADRE, Role.CADRE, HELONG)
    await console.sign_in(COUNTY_ADMIN)
    return console


async def test_an_admin_grants_a_role_from_the_web(
    county_admin: Console, database: Database
) -> None:
    listed = await county_admin.text("/users")
    assert "以古镇" in listed
    assert str(CADRE) in listed
    assert str(OTHER_CADRE) not in listed  # outside the county
    assert "农安县" not in listed
    assert "云南省</option>" not in listed
    granted = await county_admin.post(
        "/users/grant", {"user_id": str(NEWCOMER), "role": "cadre", "area": TANGFANG}
    )
    assert granted.status == 200
    assert "用户8301已获得下表所示的角色" in await granted.text()
    assert (await _roles(database, NEWCOMER))[NEWCOMER] == ("cadre", TANGFANG)
    [logged] = await _actions(database, "role.")
    assert (logged.action, logged.target, logged.actor_id) == ("role.grant", "8301", COUNTY_ADMIN)
    assert logged.origin.startswith("web ")
    assert logged.area_path.endswith("/530627/530627102/")
    assert logged.details == {
        "role": "cadre", "area": TANGFANG, "former_role": "villager", "former_area": None
    }  # fmt: skip
    async with database.sessionmaker() as session:  # the bot tells them, and gives the menu
        [notice] = (await session.scalars(select(OutboxMessage))).all()
    assert notice.chat_id == NEWCOMER
    assert notice.text.startswith("您现在是云南省昭通市镇雄县塘房镇的干部。")


async def test_a_county_admin_cannot_grant_outside_the_county(
    county_admin: Console, database: Database
) -> None:
    for forged in (
        {"role": "cadre", "area": NONGAN},  # another province's county
        {"role": "admin", "area": YUNNAN},  # the province above
        {"role": "admin", "area": ""},  # everything
        {"role": "cadre", "area": "530627101201"},  # a village
        {"role": "root", "area": YIGU},
    ):
        refused = await county_admin.post("/users/grant", {"user_id": str(NEWCOMER), **forged})
        assert refused.status == 404, forged
    as_villager = {"user_id": str(CADRE), "role": "villager", "area": ""}
    assert (await county_admin.post("/users/grant", as_villager)).status == 404
    moved = await county_admin.post(
        "/users/grant", {"user_id": str(OTHER_CADRE), "role": "cadre", "area": YIGU}
    )
    assert moved.status == 400
    assert "只能在自己的辖区内授予或收回角色" in await moved.text()
    demoted = await county_admin.post(
        "/users/grant", {"user_id": str(COUNTY_ADMIN), "role": "cadre", "area": YIGU}
    )
    assert demoted.status == 400
    assert "不能更改或收回自己的角色" in await demoted.text()
    odd = await county_admin.post("/users/grant", {"user_id": "８３０１", "role": "cadre"})
    assert odd.status == 400
    assert "不是 Telegram ID" in await odd.text()
    roles = await _roles(database, NEWCOMER, OTHER_CADRE, COUNTY_ADMIN, CADRE)
    assert roles == {
        NEWCOMER: None,
        OTHER_CADRE: ("cadre", HELONG),
        COUNTY_ADMIN: ("admin", ZHENXIONG),
        CADRE: ("cadre", YIGU),
    }
    assert await _actions(database, "role.") == []


async def test_revoking_a_role_ends_that_users_console_session(
    county_admin: Console, second_console: Console, database: Database
) -> None:
    await second_console.sign_in(CADRE)
    assert (await second_console.get("/")).status == 200
    revoked = await county_admin.post("/users/revoke", {"user_id": str(CADRE)})
    assert revoked.status == 200
    assert "用户8201已恢复为村民" in await revoked.text()
    assert (await second_console.get("/")).status == 401
    assert (await _roles(database, CADRE))[CADRE] == ("villager", None)
    async with database.sessionmaker() as session:
        still_open = await session.scalar(
            select(func.count()).where(WebSession.user_id == CADRE, WebSession.ended_at.is_(None))
        )
    assert still_open == 0
    [logged] = await _actions(database, "role.")
    assert (logged.action, logged.target, logged.details["former_area"]) == (
        "role.revoke", str(CADRE), YIGU
    )  # fmt: skip
    assert logged.area_path.endswith(YIGU_PATH_END)


async def test_an_admin_cannot_revoke_outside_their_area_nor_themselves(
    county_admin: Console, database: Database
) -> None:
    await give_role(database, ADMIN, Role.ADMIN, None)
    for forged in (OTHER_CADRE, ADMIN, NEWCOMER, "1e3", "99999999999999999999999"):
        refused = await county_admin.post("/users/revoke", {"user_id": str(forged)})
        assert refused.status == 404, forged
    own = await county_admin.post("/users/revoke", {"user_id": str(COUNTY_ADMIN)})
    assert own.status == 400
    assert "不能更改或收回自己的角色" in await own.text()
    roles = await _roles(database, OTHER_CADRE, ADMIN, COUNTY_ADMIN)
    assert roles == {
        OTHER_CADRE: ("cadre", HELONG), ADMIN: ("admin", None), COUNTY_ADMIN: ("admin", ZHENXIONG)
    }  # fmt: skip
    assert await _actions(database, "role.") == []


async def test_an_admin_of_everything_sees_and_grants_everywhere(
    console: Console, database: Database
) -> None:
    await give_role(database, ADMIN, Role.ADMIN, None)
    await give_role(database, OTHER_CADRE, Role.CADRE, HELONG)
    await console.sign_in(ADMIN)
    listed = await console.text("/users")
    assert str(OTHER_CADRE) in listed
    assert "合隆镇" in listed
    granted = await console.post("/users/grant", {"user_id": str(NEWCOMER), "role": "admin"})
    assert granted.status == 200
    assert (await _roles(database, NEWCOMER))[NEWCOMER] == ("admin", None)
    [logged] = await _actions(database, "role.")
    assert logged.area_path == ""


async def test_group_chats_of_the_area_are_unlinked_not_linked_from_the_web(
    county_admin: Console, database: Database
) -> None:
    async with database.sessionmaker() as session:
        session.add(UnitChat(region_code=YIGU, chat_id=-100501, linked_by=1, linked_at=utcnow()))
        session.add(UnitChat(region_code=HELONG, chat_id=-100502, linked_by=1, linked_at=utcnow()))
        await session.commit()
    listed = await county_admin.text("/users")
    assert "-100501" in listed
    assert "-100502" not in listed
    assert "/linkgroup" in listed
    assert "本页面不能绑定群聊" in listed
    assert (await county_admin.post("/users/groups/unlink", {"region_code": HELONG})).status == 404
    unlinked = await county_admin.post("/users/groups/unlink", {"region_code": YIGU})
    assert unlinked.status == 200
    assert "-100501" not in await unlinked.text()
    async with database.sessionmaker() as session:
        assert await session.get(UnitChat, YIGU) is None
        assert (await session.get(UnitChat, HELONG)).chat_id == -100502
    [logged] = await _actions(database, "group.")
    assert (logged.action, logged.target, logged.details) == (
        "group.unlink", YIGU, {"chat_id": -100501}
    )  # fmt: skip
    assert logged.area_path.endswith(YIGU_PATH_END)
    again = await county_admin.post("/users/groups/unlink", {"region_code": YIGU})
    assert again.status == 404


async def test_cadres_have_no_users_page(console: Console, database: Database) -> None:
    await give_role(database, CADRE, Role.CADRE, ZHENXIONG)
    await console.sign_in(CADRE)
    assert (await console.get("/users")).status == 403
    refused = await console.post(
        "/users/grant", {"user_id": str(NEWCOMER), "role": "cadre", "area": YIGU}
    )
    assert refused.status == 403
    assert (await console.post("/users/revoke", {"user_id": str(CADRE)})).status == 403
    assert (await _roles(database, NEWCOMER))[NEWCOMER] is None


async def test_the_users_page_speaks_three_languages(county_admin: Console) -> None:
    assert "本辖区的干部和管理员" in await county_admin.text("/users")
    await county_admin.get("/language/zh_Hant?next=/users")
    assert "本轄區的幹部和管理員" in await county_admin.text("/users")
    await county_admin.get("/language/en?next=/users")
    english = await county_admin.text("/users")
    assert "Cadres and admins of your area" in english
    assert "Take back the role" in english


async def test_the_bots_admin_commands_write_the_log(
    harness: BotHarness, database: Database
) -> None:
    await give_role(database, COUNTY_ADMIN, Role.ADMIN, ZHENXIONG)
    granted = await harness.send(COUNTY_ADMIN, f"/grant {NEWCOMER} cadre {YIGU}", lang="en")
    assert "is now cadre" in texts_of(granted)
    refused = await harness.send(COUNTY_ADMIN, f"/grant {NEWCOMER} cadre {HELONG}", lang="en")
    assert "within your own area" in texts_of(refused)
    await harness.send_in(-100601, COUNTY_ADMIN, f"/linkgroup {YIGU}", lang="en")
    await harness.send(COUNTY_ADMIN, f"/revoke {NEWCOMER}", lang="en")
    logged = await _actions(database)
    assert [(row.action, row.target, row.origin, row.actor_id) for row in logged] == [
        ("role.grant", str(NEWCOMER), "bot", COUNTY_ADMIN),
        ("group.link", YIGU, "bot", COUNTY_ADMIN),
        ("role.revoke", str(NEWCOMER), "bot", COUNTY_ADMIN),
    ]
    assert all(row.area_path.endswith(YIGU_PATH_END) for row in logged)
    assert logged[1].details == {"chat_id": -100601, "former_chat_id": None}


async def test_the_command_line_writes_the_log(database: Database) -> None:
    out = io.StringIO()
    async with database.sessionmaker() as session:
        await user_commands.grant(session, NEWCOMER, "admin", "镇雄县", out)
        await user_commands.revoke(session, NEWCOMER, out)
        with pytest.raises(ValueError, match="nothing to revoke"):
            await user_commands.revoke(session, NEWCOMER, out)
    assert "user 8301 is now admin for 云南省昭通市镇雄县" in out.getvalue()
    logged = await _actions(database)
    assert [(row.action, row.origin, row.actor_id, row.actor_role) for row in logged] == [
        ("role.grant", "cli", None, "cli"),
        ("role.revoke", "cli", None, "cli"),
    ]
    assert logged[0].area_path.endswith("/530627/")
