"""Audit log, for admins: the admin action log (every admin action in the bot, the command line
and the console, append-only) and the household-view log, both of the admin's area only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.admin_log import actions_in_area
from db.audit import views_in_area
from db.models import AdminAction, Role
from grievances.roles import MESSAGES, Refusal, parse_user_id
from handlers.notices import LOCAL_TIME
from web.context import admin, database_session
from web.render import page

routes = web.RouteTableDef()
PAGE_SIZE = 50
VIEWS_SHOWN = 100
MAX_PAGE = 100_000  # keeps the offset a number every database takes


@dataclass(frozen=True)
class ActionFilters:
    action: str | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1


class BadFilter(ValueError):
    """A filter as typed cannot be used; the message says why, translated."""


@routes.get("/audit")
async def admin_actions(request: web.Request) -> web.Response:
    who = admin(request)
    try:
        filters = _action_filters(request.query)
    except BadFilter as error:
        filters, problem = ActionFilters(), str(error)
    else:
        problem = None
    async with database_session(request) as session:
        kinds = await _action_kinds(session, who.area)
        rows = await _actions(session, who.area, filters) if problem is None else []
    return page(
        request,
        "audit/actions.html",
        status=400 if problem else 200,
        problem=problem,
        kinds=kinds,
        rows=[_shown(row) for row in rows[:PAGE_SIZE]],
        newer=_page_link(request, filters.page - 1) if filters.page > 1 else None,
        older=_page_link(request, filters.page + 1) if len(rows) > PAGE_SIZE else None,
    )


@routes.get("/audit/views")
async def household_views(request: web.Request) -> web.Response:
    who = admin(request)
    number = request.query.get("number", "").strip() or None
    try:
        since = _day_start(request.query.get("since", ""))
    except BadFilter as error:
        since, problem = None, str(error)
    else:
        problem = None
    async with database_session(request) as session:
        rows = (
            await views_in_area(session, who.area, number=number, since=since, limit=VIEWS_SHOWN)
            if problem is None
            else []
        )
    return page(
        request,
        "audit/views.html",
        status=400 if problem else 200,
        problem=problem,
        rows=rows,
        shown=VIEWS_SHOWN,
    )


async def _actions(session: AsyncSession, area: str, filters: ActionFilters) -> list[AdminAction]:
    """The filtered page, and one row more when an older page follows."""
    return await actions_in_area(
        session,
        area,
        action=filters.action,
        actor_id=filters.actor_id,
        since=filters.since,
        until=filters.until,
        limit=PAGE_SIZE + 1,
        offset=(filters.page - 1) * PAGE_SIZE,
    )


def _action_filters(query: Any) -> ActionFilters:
    actor_text = query.get("actor", "").strip()
    actor_id = parse_user_id(actor_text) if actor_text else None
    if actor_text and actor_id is None:
        raise BadFilter(_(MESSAGES[Refusal.BAD_ID]).format(id=actor_text))
    until = _day_start(query.get("until", ""))
    page_text = query.get("page", "1")
    return ActionFilters(
        action=query.get("action", "").strip() or None,
        actor_id=actor_id,
        since=_day_start(query.get("since", "")),
        until=until + timedelta(days=1) if until else None,  # the whole day named
        page=_page_number(page_text),
    )


def _page_number(text: str) -> int:
    if not (text.isascii() and text.isdecimal()):
        return 1
    return min(max(1, int(text)), MAX_PAGE)


def _day_start(text: str) -> datetime | None:
    """The start of a day (YYYY-MM-DD, as a date field sends it) in Beijing time."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        problem = _("{date} is not a date: give it as 2026-12-01.").format(date=text)
        raise BadFilter(problem) from None
    return datetime.combine(day, time(), tzinfo=LOCAL_TIME)


async def _action_kinds(session: AsyncSession, area: str) -> list[str]:
    """The action prefixes ("role.", "case.", …) found in the area's log, for the filter."""
    query = select(AdminAction.action).distinct()
    if area:
        query = query.where(AdminAction.area_path.startswith(area, autoescape=True))
    actions = (await session.scalars(query)).all()
    return sorted({action.split(".")[0] + "." if "." in action else action for action in actions})


@dataclass(frozen=True)
class ShownAction:
    at: datetime
    who: str
    action: str
    target: str
    origin: str
    details: str


def _shown(row: AdminAction) -> ShownAction:
    roles = {Role.ADMIN: _("administrator"), Role.CADRE: _("cadre"), "cli": _("command line")}
    who = roles.get(row.actor_role, row.actor_role)  # type: ignore[call-overload]
    if row.actor_id is not None:
        who = f"{who} {row.actor_id}"
    return ShownAction(row.at, who, row.action, row.target, row.origin, _details(row.details))


def _details(details: dict[str, Any] | None) -> str:
    """``key: value`` pairs on one line; what was empty is left out."""
    if not details:
        return ""
    return "; ".join(
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in details.items()
        if value is not None
    )


def _page_link(request: web.Request, number: int) -> str:
    query = {key: value for key, value in request.query.items() if key != "page" and value}
    return "/audit?" + urlencode({**query, "page": number})
