"""Sessions, CSRF and headers: every request but sign-in is made by a signed-in cadre or admin
whose role and area are read afresh from the database; every form carries the session's CSRF
token."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web
from itsdangerous import BadSignature, Signer

from bot.i18n import locale_for_language_code
from db.regions import RegionRepo
from db.web_access import active_session
from handlers.access import area_path, may_see_stats
from handlers.places import local_name
from web.context import DATABASE, I18N, LOCALE, SETTINGS, VIEWER, Viewer

log = logging.getLogger(__name__)
COOKIE = "huhuqing_session"
LANGUAGE_COOKIE = "huhuqing_lang"
SIGNER = web.AppKey("signer", Signer)
PUBLIC = ("/signin/", "/signed-out", "/static/", "/healthz", "/language/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A sign-in link's token never leaves the site in a Referer. (Not "no-referrer": with it,
    # browsers post our own forms with "Origin: null", which the CSRF check must refuse.)
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(
        COOKIE,
        request.app[SIGNER].sign(token).decode(),
        httponly=True,
        samesite="Strict",
        secure=settings.web_url.startswith("https://"),
        path="/",
    )


def session_token(request: web.Request) -> str | None:
    """The session token of the request's cookie if its signature is ours."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        return request.app[SIGNER].unsign(cookie).decode()
    except BadSignature:
        return None


def request_locale(request: web.Request, chosen: str | None) -> str:
    """The language picked on the page, else the one chosen in the bot, else the browser's."""
    settings = request.app[SETTINGS]
    picked = request.cookies.get(LANGUAGE_COOKIE)
    if picked in ("zh_Hans", "zh_Hant", "en"):
        return picked
    if chosen:
        return chosen
    browser = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return locale_for_language_code(browser or None, settings.default_locale)


async def _viewer(request: web.Request) -> tuple[Viewer | None, str | None]:
    """The signed-in viewer, and the locale their account chose in the bot."""
    token = session_token(request)
    if token is None:
        return None, None
    idle = timedelta(minutes=request.app[SETTINGS].web_idle_minutes)
    async with request.app[DATABASE].sessionmaker() as session:
        found = await active_session(session, token, idle)
        if found is None:
            return None, None
        web_session, user = found
        regions = RegionRepo(session)
        area = await area_path(user, regions)  # the bot's own rule: None when nothing
        if area is None:
            return None, user.locale
        region = await regions.get(user.area_code) if user.area_code else None
        return (
            Viewer(
                telegram_id=user.telegram_id,
                role=user.role,
                area_code=user.area_code,
                area=area,
                area_name=region.name if region else "",
                csrf=web_session.csrf_token,
                session_token=token,
                sees_stats=may_see_stats(user, region.level if region else None),
            ),
            user.locale,
        )


def _same_origin(request: web.Request) -> bool:
    """A form posted from one of our pages (browsers send Origin with every POST)."""
    sent = request.headers.get("Origin")
    if sent is None or sent == "null":
        return sent is None  # an old browser sends none; "null" is a sandboxed frame
    allowed = {urlsplit(request.app[SETTINGS].web_url)._replace(path="").geturl()}
    allowed.add(f"{request.scheme}://{request.host}")
    return sent in allowed


async def _csrf_ok(request: web.Request, viewer: Viewer) -> bool:
    if not _same_origin(request):
        return False
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        form = await request.post()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, viewer.csrf)


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is signed in, in which language; refuse what they may not reach."""
    from web.render import page  # render imports the templates' helpers

    i18n = request.app[I18N]
    public = request.path.startswith(PUBLIC)
    viewer, chosen = (None, None) if request.path.startswith("/static/") else await _viewer(request)
    locale = request_locale(request, chosen)
    request[LOCALE] = locale
    with i18n.context(), i18n.use_locale(locale):
        if viewer is not None:
            request[VIEWER] = replace(viewer, area_name=local_name(viewer.area_name, locale))
        elif not public:
            return _with_headers(page(request, "signed_out.html", status=401))
        if (
            viewer is not None
            and not public  # the sign-in form: its link's secret token is its proof
            and request.method not in SAFE_METHODS
            and not await _csrf_ok(request, viewer)
        ):
            log.info("a form without a valid CSRF token was refused")
            return _with_headers(page(request, "expired_form.html", status=403))
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = page(request, "error.html", status=404, kind="not_found")
        except web.HTTPForbidden:
            response = page(request, "error.html", status=403, kind="forbidden")
    return _with_headers(response)


def _with_headers(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
