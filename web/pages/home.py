"""The first page after sign-in: what is waiting in the viewer's area."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from db.models import OPEN_STATUSES, Case, utcnow
from db.unanswered import count_open
from grievances.stats import overdue
from web.context import database_session, viewer
from web.render import page

routes = web.RouteTableDef()


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    who = viewer(request)
    now = utcnow()
    in_area = Case.unit_path.startswith(who.area, autoescape=True)
    is_open = Case.status.in_(OPEN_STATUSES)
    async with database_session(request) as session:
        open_cases = await session.scalar(select(func.count()).where(in_area, is_open))
        overdue_cases = await session.scalar(select(func.count()).where(in_area, overdue(now)))
        unanswered = None
        if who.is_admin:
            unanswered = await count_open(session, who.area_code)
    return page(
        request,
        "home.html",
        open_cases=open_cases or 0,
        overdue_cases=overdue_cases or 0,
        unanswered=unanswered,
    )
