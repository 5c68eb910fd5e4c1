"""Sign-in through the bot (`/web` sends a one-time link), sign-out, the language switch.

The link's page asks for one click before it signs in: Telegram and some browsers fetch a link
to preview it, and a GET that used the link up would sign nobody in.
"""

from __future__ import annotations

from aiohttp import web

from db.admin_log import record_action
from db.models import User
from db.web_access import end_session, start_session, use_sign_in
from web.context import DATABASE, origin, redirect, viewer
from web.render import page
from web.security import LANGUAGE_COOKIE, set_session_cookie

routes = web.RouteTableDef()
LANGUAGES = ("zh_Hans", "zh_Hant", "en")


@routes.get("/signin/{token}")
async def sign_in_page(request: web.Request) -> web.Response:
    return page(request, "signin.html", token=request.match_info["token"])


@routes.post("/signin/{token}")
async def sign_in(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    async with request.app[DATABASE].sessionmaker() as session:
        user_id = await use_sign_in(session, token)
        if user_id is None:
            return page(request, "signin.html", status=410, token=None)
        user = await session.get(User, user_id)
        record_action(session, user, origin(request), "web.sign_in", str(user_id))
        session_token = await start_session(session, user_id, request.remote)
    response = redirect("/")
    set_session_cookie(request, response, session_token)
    return response


@routes.post("/signout")
async def sign_out(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].sessionmaker() as session:
        await end_session(session, viewer(request).session_token)
    response = redirect("/signed-out")
    response.del_cookie("huhuqing_session", path="/")
    return response


@routes.get("/signed-out")
async def signed_out(request: web.Request) -> web.Response:
    return page(request, "signed_out.html", status=200)


@routes.get("/language/{code}")
async def language(request: web.Request) -> web.StreamResponse:
    """Switch the console's language; back to the page it was picked on."""
    code = request.match_info["code"]
    back = request.query.get("next", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"  # never a redirect to another site
    response = redirect(back)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, samesite="Lax", path="/", max_age=365 * 86400)
    return response
