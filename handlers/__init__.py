"""aiogram routers: parse the update, call a repository or service, render the reply."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    ask,
    cases,
    errors,
    households,
    language,
    mycases,
    own_household,
    report,
    start,
)


def create_routers() -> list[Router]:
    """All routers, in the order they should see updates (free-text catch-alls last)."""
    return [
        errors.create_router(),
        language.create_router(),
        households.create_router(),  # before start: /start bind_CODE
        start.create_router(),
        report.create_router(),
        cases.create_router(),
        mycases.create_router(),
        admin.create_router(),
        own_household.create_router(),  # before ask: "我家" questions of bound users
        ask.create_router(),
    ]
