"""Users: the cadres and admins of the admin's area, granting and taking back their roles, and
the units' group chats. The rules are the bot's /grant, /revoke and /linkgroup
(grievances/roles.py); every change is committed with its row in the admin action log.

A group chat is linked only from inside the group (/linkgroup in the bot proves the admin is in
it; a chat id typed here would prove nothing), so this page unlinks and explains how to link.
The web cannot call Telegram: a user's command menu follows their new role at their next /start.
"""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.role_notice import RoleAnnouncer
from db.models import Role, User
from grievances import roles
from grievances.roles import Refusal, RoleRefused, parse_user_id
from web.context import SETTINGS, Viewer, admin, database_session, origin, redirect
from web.render import page

routes = web.RouteTableDef()
# What the page's own controls cannot send (an edited form): answered like a missing object.
FORGED_GRANT = {Refusal.BAD_ROLE, Refusal.NO_REGION, Refusal.VILLAGE_AREA, Refusal.AREA_OUTSIDE}
FORGED_REVOKE = {Refusal.NO_ROLE, Refusal.USER_OUTSIDE}
FORGED_UNLINK = {Refusal.NOT_LINKED}


@routes.get("/users")
async def users_page(request: web.Request) -> web.Response:
    return await _render(request, admin(request))


@routes.post("/users/grant")
async def grant(request: web.Request) -> web.Response:
    who = admin(request)
    form = await request.post()
    typed_id, role, area = (str(form.get(name, "")) for name in ("user_id", "role", "area"))
    if role not in roles.GRANTED_ROLES:  # the form offers these; "villager" is taken back below
        raise web.HTTPNotFound()
    user_id = parse_user_id(typed_id)
    try:
        if user_id is None:
            raise RoleRefused(Refusal.BAD_ID, id=typed_id)
        async with database_session(request) as session:
            granter = await _granter(session, who)
            await roles.grant(
                session, granter, origin(request), user_id, role, area or None, _announcer(request)
            )
    except RoleRefused as refused:
        typed = {"user_id": typed_id, "role": role, "area": area}
        return await _refuse(request, who, refused, FORGED_GRANT, typed)
    return redirect(f"/users?granted={user_id}")


@routes.post("/users/revoke")
async def revoke(request: web.Request) -> web.Response:
    who = admin(request)
    form = await request.post()
    user_id = parse_user_id(str(form.get("user_id", "")))
    if user_id is None:
        raise web.HTTPNotFound()
    try:
        async with database_session(request) as session:
            granter = await _granter(session, who)
            await roles.revoke(session, granter, origin(request), user_id, _announcer(request))
    except RoleRefused as refused:
        return await _refuse(request, who, refused, FORGED_REVOKE)
    return redirect(f"/users?revoked={user_id}")


@routes.post("/users/groups/unlink")
async def unlink_group(request: web.Request) -> web.Response:
    who = admin(request)
    form = await request.post()
    code = str(form.get("region_code", ""))
    try:
        async with database_session(request) as session:
            granter = await _granter(session, who)
            await roles.unlink_group(session, granter, origin(request), code)
    except RoleRefused as refused:
        return await _refuse(request, who, refused, FORGED_UNLINK)
    return redirect("/users?unlinked=1")


def _announcer(request: web.Request) -> RoleAnnouncer:
    """The person is told in the bot, which also gives them their new command menu."""
    return RoleAnnouncer(request.app[SETTINGS].default_locale)


async def _granter(session: AsyncSession, who: Viewer) -> User:
    """The signed-in admin as the rules take them (read afresh in this transaction)."""
    account = await session.get(User, who.telegram_id)
    if account is None:  # the security middleware found them a moment ago
        raise web.HTTPNotFound()
    return account


async def _refuse(
    request: web.Request,
    who: Viewer,
    refused: RoleRefused,
    forged: set[Refusal],
    typed: dict[str, str] | None = None,
) -> web.Response:
    """A forged field answers 404; a rule the admin could break by typing is explained."""
    if refused.reason in forged:
        raise web.HTTPNotFound()
    error = _(refused.message).format(**refused.values)
    return await _render(request, who, status=400, error=error, typed=typed)


async def _render(
    request: web.Request, who: Viewer, status: int = 200, **extra: Any
) -> web.Response:
    async with database_session(request) as session:
        granter = await _granter(session, who)
        holders = await roles.holders_in_area(session, who.area)
        areas = await roles.grantable_areas(session, granter)
        links = await roles.group_links_in_area(session, who.area)
    query = request.query
    return page(
        request,
        "users/list.html",
        status=status,
        holders=holders,
        areas=areas,
        links=links,
        may_grant_everything=granter.area_code is None,
        admin_role=Role.ADMIN,
        granted=parse_user_id(query.get("granted", "")),
        revoked=parse_user_id(query.get("revoked", "")),
        unlinked="unlinked" in query,
        link_example=areas[-1] if areas else None,
        **{"error": None, "typed": None, **extra},
    )
