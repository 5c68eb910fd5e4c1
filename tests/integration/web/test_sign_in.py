"""Signing in through the bot's /web link: one use, ten minutes, only cadres and admins with
an area; sessions end on sign-out, when idle and when the role is revoked; CSRF refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from db.models import AdminAction, Role, WebSession, WebSignIn, utcnow
from db.session import Database
from db.users import UserRepo
from db.web_access import create_sign_in
from tests.integration.web.conftest import YIGU, Console, give_role

pytestmark = pytest.mark.both_databases
CADRE, ADMIN, VILLAGER = 7101, 7201, 7301


async def test_a_cadre_signs_in_with_the_link_and_sees_their_work(
    console: Console, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    assert (await console.get("/")).status == 401
    response = await console.sign_in(CADRE)
    assert response.status == 200
    home = await console.text("/")
    assert "以古镇" in home
    assert "诉求" in home  # the cases link, in the default language
    assert "政策问答" not in home  # admins' pages are not offered to a cadre
    cookie = response.history[0].headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    async with database.sessionmaker() as session:
        logged = await session.scalar(select(AdminAction).where(AdminAction.actor_id == CADRE))
    assert logged is not None
    assert logged.action == "web.sign_in"


async def test_a_link_signs_in_once(console: Console, second_console: Console,
                                    database: Database) -> None:  # fmt: skip
    await give_role(database, ADMIN, Role.ADMIN, None)
    async with database.sessionmaker() as session:
        token = await create_sign_in(session, ADMIN)
    assert (await console.client.post(f"/signin/{token}")).status == 200
    again = await second_console.client.post(f"/signin/{token}")
    assert again.status == 410
    assert "已经用过或已过期" in await again.text()
    assert (await second_console.get("/")).status == 401


async def test_a_link_expires_after_ten_minutes(console: Console, database: Database) -> None:
    await give_role(database, ADMIN, Role.ADMIN, None)
    async with database.sessionmaker() as session:
        token = await create_sign_in(session, ADMIN)
        await session.execute(update(WebSignIn).values(expires_at=utcnow() - timedelta(minutes=1)))
        await session.commit()
    assert (await console.client.post(f"/signin/{token}")).status == 410
    assert (await console.get("/")).status == 401


async def test_opening_the_link_does_not_use_it(console: Console, database: Database) -> None:
    """Telegram fetches a link to preview it: a GET must leave it usable."""
    await give_role(database, ADMIN, Role.ADMIN, None)
    async with database.sessionmaker() as session:
        token = await create_sign_in(session, ADMIN)
    for _ in range(2):
        shown = await console.client.get(f"/signin/{token}")
        assert shown.status == 200
    assert (await console.client.post(f"/signin/{token}")).status == 200


async def test_a_forged_or_tampered_cookie_is_not_a_session(
    console: Console, database: Database
) -> None:
    await give_role(database, ADMIN, Role.ADMIN, None)
    await console.sign_in(ADMIN)
    token, _, signature = console.session_cookie().rpartition(".")
    console.set_session_cookie(f"{token}x.{signature}")
    assert (await console.get("/")).status == 401


async def test_villagers_and_cadres_without_an_area_have_no_console(
    console: Console, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, None)
    assert (await console.sign_in(CADRE)).status == 401
    async with database.sessionmaker() as session:
        await UserRepo(session).touch(VILLAGER)
        await session.commit()
    assert (await console.sign_in(VILLAGER)).status == 401


async def test_a_revoked_role_ends_the_session_at_once(
    console: Console, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    await console.sign_in(CADRE)
    assert (await console.get("/")).status == 200
    async with database.sessionmaker() as session:
        await UserRepo(session).revoke(CADRE)
        await session.commit()
    assert (await console.get("/")).status == 401


async def test_an_idle_session_ends(console: Console, database: Database) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    await console.sign_in(CADRE)
    async with database.sessionmaker() as session:
        await session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    assert (await console.get("/")).status == 401


async def test_sign_out_ends_the_session(console: Console, database: Database) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    await console.sign_in(CADRE)
    stolen = console.session_cookie()
    signed_out = await console.post("/signout")
    assert signed_out.status == 200
    assert (await console.get("/")).status == 401
    console.set_session_cookie(stolen)
    assert (await console.get("/")).status == 401  # the old cookie opens nothing any more


async def test_a_form_without_the_csrf_token_changes_nothing(
    console: Console, database: Database
) -> None:
    await give_role(database, CADRE, Role.CADRE, YIGU)
    await console.sign_in(CADRE)
    refused = await console.client.post("/signout", data={"csrf": "forged"})
    assert refused.status == 403
    assert "表单已经失效" in await refused.text()
    missing = await console.client.post("/signout")
    assert missing.status == 403
    other_site = await console.client.post(
        "/signout", data={"csrf": console.csrf}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status == 403
    async with database.sessionmaker() as session:
        open_sessions = await session.scalar(
            select(func.count()).where(WebSession.ended_at.is_(None))
        )
    assert open_sessions == 1
    assert (await console.get("/")).status == 200


async def test_every_page_speaks_the_chosen_language(console: Console, database: Database) -> None:
    await give_role(database, ADMIN, Role.ADMIN, None)
    await console.sign_in(ADMIN)
    await console.get("/language/zh_Hant?next=/")
    assert "政策問答" in await console.text("/")
    await console.get("/language/en?next=/")
    assert "Policy answers" in await console.text("/")
    moved = await console.get("/language/en?next=https://evil.example", allow_redirects=False)
    assert moved.headers["Location"] == "/"
