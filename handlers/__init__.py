"""aiogram routers: parse the update, call a repository or service, render the reply."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    ask,
    cadre_households,
    cases,
    errors,
    household_cases,
    household_change,
    household_visits,
    households,
    language,
    mycard,
    mycases,
    notify,
    own_household,
    report,
    start,
    web_link,
)
from handlers.report import stale_button


def create_routers() -> list[Router]:
    """All routers, in the order they should see updates (free-text catch-alls last)."""
    return [
        errors.create_router(),
        language.create_router(),
        notify.create_router(),
        households.create_router(),  # before start: /start bind_CODE
        start.create_router(),
        report.create_router(),
        cases.create_router(),
        mycases.create_router(),
        admin.create_router(),
        web_link.create_router(),
        cadre_households.create_router(),
        household_visits.create_router(),  # its steps take plain text: before the catch-alls
        mycard.create_router(),
        household_cases.create_router(),  # "ask my helper" on a gap
        household_change.create_router(),  # /change; its words before the "我家" answers
        own_household.create_router(),  # before ask: "我家" questions of bound users
        ask.create_router(),
        stale_buttons(),
    ]


def stale_buttons() -> Router:
    """Last: a button no router took (malformed, forged, or from a flow that is over) still gets
    an answer, or the user's client spins."""
    router = Router(name="stale_buttons")
    router.callback_query.register(stale_button)
    return router
