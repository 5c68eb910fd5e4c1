"""What every page handler needs: the app's shared objects and who is looking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db.models import Role
from db.session import Database
from knowledge.service import KnowledgeBase

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeBase)
I18N = web.AppKey("i18n", I18n)


@dataclass(frozen=True)
class Viewer:
    """The signed-in cadre or admin, as plain data (no ORM object outlives its session).

    ``area`` is the path prefix of what they may see and do (handlers/access.py): "" for an
    admin of the whole country. ``telegram_id`` and ``role`` make it an actor for the services.
    """

    telegram_id: int
    role: str
    area_code: str | None
    area: str
    area_name: str
    csrf: str
    session_token: str
    sees_stats: bool  # handlers/access.may_see_stats: admins, cadres of a county or above

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def covers(self, path: str | None) -> bool:
        """Whether a case's, household's or region's path is in this viewer's area."""
        return path is not None and path.startswith(self.area)


VIEWER = web.RequestKey("viewer", Viewer)  # the signed-in viewer
LOCALE = web.RequestKey("locale", str)  # the page's language


def redirect(location: str) -> web.Response:
    """A 303 to a page of ours (after a form is posted), to which cookies can be added."""
    return web.Response(status=303, headers={"Location": location})


def viewer(request: web.Request) -> Viewer:
    return request[VIEWER]


def admin(request: web.Request) -> Viewer:
    """The viewer, who must be an admin; a cadre is told the page is for admins."""
    who = request[VIEWER]
    if not who.is_admin:
        raise web.HTTPForbidden(reason="admins only")
    return who


@asynccontextmanager
async def database_session(request: web.Request) -> AsyncIterator[AsyncSession]:
    """A database session for one step of a handler: close it before waiting on anything."""
    async with request.app[DATABASE].sessionmaker() as session:
        yield session


def origin(request: web.Request) -> str:
    """How the audit log names where an action came from."""
    return f"web {request.remote or '?'}"
