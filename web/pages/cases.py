"""The cases of the viewer's area: the list with its filters, a case's page with its timeline,
the steps a cadre takes on it (through CaseService, exactly as the bot does), and the export.
A case outside the area is "not found", whatever the way of asking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from db.admin_log import record_action
from db.case_queries import count_cases, find_cases, is_overdue, townships_in_area
from db.cases import CaseRepo
from db.models import WAITING_STATUSES, Case, User, utcnow
from db.regions import RegionRepo
from grievances.catalog import categories
from grievances.numbers import normalize_number
from grievances.service import Actor, CaseError, CaseService, Outcome
from handlers.case_screen import why_not
from handlers.cases import accepted_by
from handlers.notices import LOCAL_TIME, OUTCOMES, NoticeRenderer, category_name
from handlers.places import local_name
from handlers.text_input import clean_text
from web.case_views import (
    PAGE_SIZE,
    Transfer,
    actions_for,
    card_lines,
    case_rows,
    csv_bytes,
    export_cells,
    export_header,
    note_problem,
    outcome_name,
    parse_list_query,
    rating_name,
    reporter_line,
    status_choices,
    status_name,
    timeline,
    transfer_choice,
    transfer_targets,
    xlsx_bytes,
)
from web.context import I18N, LOCALE, SETTINGS, Viewer, database_session, origin, redirect, viewer
from web.render import page

routes = web.RouteTableDef()
NUMBER = re.compile(r"[A-Z0-9]{3}-[A-Z0-9]{3}")
CASE = "/cases/{number:[A-Za-z0-9 -]{1,16}}"
AUDITED = {
    "accept": "case.accept",
    "reply": "case.reply",
    "info": "case.request_info",
    "resolve": "case.resolve",
    "transfer": "case.transfer",
}
EXPORTS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@routes.get("/cases")
async def case_list(request: web.Request) -> web.Response:
    who, now, locale = viewer(request), utcnow(), request[LOCALE]
    async with database_session(request) as session:
        townships = await townships_in_area(session, who.area_code)
        asked = parse_list_query(request.query, {township.code for township in townships})
        total = await count_cases(session, who.area, asked.filters, now)
        pages = max(1, ceil(total / PAGE_SIZE))
        number = min(asked.page, pages)
        listed = await find_cases(
            session, who.area, asked.filters, now, (number - 1) * PAGE_SIZE, PAGE_SIZE
        )
        rows = await case_rows(session, listed, locale)
    moved = request.query.get("moved", "")
    return page(
        request,
        "cases/list.html",
        rows=rows,
        total=total,
        page_number=number,
        pages=pages,
        asked=asked,
        statuses=status_choices(),
        categories=[(code, category_name(code, locale)) for code in categories()],
        townships=[(township.code, local_name(township.name)) for township in townships],
        moved=moved if NUMBER.fullmatch(moved) else None,
    )


@routes.get("/cases/export.{kind:csv|xlsx}")
async def export(request: web.Request) -> web.Response:
    """The filtered list, every page of it, without anything that identifies a reporter."""
    who, now, kind = viewer(request), utcnow(), request.match_info["kind"]
    async with database_session(request) as session:
        townships = await townships_in_area(session, who.area_code)
        asked = parse_list_query(request.query, {township.code for township in townships})
        rows = await case_rows(
            session, await find_cases(session, who.area, asked.filters, now), request[LOCALE]
        )
        details = {"format": kind, "filters": asked.chosen, "count": len(rows)}
        account = await session.get(User, who.telegram_id)
        record_action(session, account, origin(request), "case.export", kind, who.area, details)
        await session.commit()
    cells = [export_cells(row) for row in rows]
    if kind == "csv":
        body = csv_bytes(export_header(), cells)
    else:
        body = xlsx_bytes(export_header(), cells, _("Case list"))
    name = f"cases-{now.astimezone(LOCAL_TIME).date().isoformat()}.{kind}"
    return web.Response(
        body=body,
        content_type=EXPORTS[kind],
        charset="utf-8" if kind == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _number(request: web.Request) -> str:
    """The case number in the URL, as stored; anything else is not a case."""
    number = normalize_number(request.match_info["number"])
    if not NUMBER.fullmatch(number):
        raise web.HTTPNotFound()
    return number


async def _case_in_area(session: AsyncSession, who: Viewer, number: str) -> Case:
    case = await CaseRepo(session).in_area(who.area, number)
    if case is None:
        raise web.HTTPNotFound()
    return case


async def _case_context(session: AsyncSession, case: Case, locale: str) -> dict[str, Any]:
    """What the case's page shows, read while the session is open."""
    regions = RegionRepo(session)
    actions = actions_for(case)
    return {
        "case": case,
        "category": category_name(case.category, locale),
        "place": local_name(await regions.full_name(case.place_code)),
        "unit": local_name(await regions.full_name(case.unit_code)),
        "reporter": reporter_line(case),
        "household": card_lines(case, locale),
        "status_text": status_name(case.status),
        "outcome": outcome_name(case.outcome),
        "rating": rating_name(case.rating),
        "late": await _late_deadline(session, case),
        "steps": await timeline(session, case),
        "actions": actions,
        "outcomes": [(outcome.value, str(label)) for outcome, label in OUTCOMES.items()],
        "targets": await transfer_targets(case, regions) if "transfer" in actions else [],
    }


async def _late_deadline(session: AsyncSession, case: Case) -> str | None:
    """The deadline to show in red: the one that counts now, once the case is overdue."""
    if not await is_overdue(session, case.id, utcnow()):
        return None
    return "accept" if case.status in WAITING_STATUSES else "resolve"


@dataclass(frozen=True)
class Posted:
    """An action's form as it was sent, to show it again with its error."""

    action: str
    note: str = ""
    outcome: str = ""
    target: str = ""
    version: str = ""


@routes.get(CASE)
async def case_page(request: web.Request) -> web.Response:
    who, number = viewer(request), _number(request)
    async with database_session(request) as session:
        case = await _case_in_area(session, who, number)
        context = await _case_context(session, case, request[LOCALE])
    done = _done(request.query.get("done", ""), context)
    return page(request, "cases/case.html", done=done, form=None, error=None, **context)


def _done(action: str, context: dict[str, Any]) -> str | None:
    """What the step just taken did, said as the bot says it."""
    number = context["case"].number
    said = {
        "accept": _("Case {number} accepted by you."),
        "reply": _("Sent to the reporter of case {number}."),
        "info": _("Question sent to the reporter of case {number}."),
        "resolve": _("Case {number} resolved; the reporter is asked to rate it."),
        "transfer": _("Case {number} passed to {unit}."),
    }.get(action)
    return said.format(number=number, unit=context["unit"]) if said else None


@routes.get(CASE + "/attachments/{attachment:[0-9]{1,9}}")
async def attachment(request: web.Request) -> web.Response:
    """One attachment, shown only when asked for: what the console knows of it."""
    who, number = viewer(request), _number(request)
    wanted = int(request.match_info["attachment"])
    async with database_session(request) as session:
        case = await _case_in_area(session, who, number)
    found = next((item for item in case.attachments if item.id == wanted), None)
    if found is None:
        raise web.HTTPNotFound()
    return page(request, "cases/attachment.html", case=case, item=found)


@routes.post(CASE + "/{action:accept|reply|info|resolve|transfer}")
async def case_action(request: web.Request) -> web.Response:
    who, number = viewer(request), _number(request)
    form = await request.post()
    posted = Posted(
        action=request.match_info["action"],
        **{
            key: clean_text(str(form.get(key, "")))
            for key in ("note", "outcome", "target", "version")
        },
    )
    async with database_session(request) as session:
        case = await _case_in_area(session, who, number)
        problem = await _refusal(case, posted, RegionRepo(session))
        status = 400 if problem else 409  # a form to fill in again, or a case that moved on
        if problem is None:
            problem = await _carry_out(request, session, case, posted)
        if problem is None:
            if not who.covers(case.unit_path):  # passed to a unit outside the viewer's area
                return redirect(f"/cases?moved={number}")
            return redirect(f"/cases/{number}?done={posted.action}")
        case = await _case_in_area(session, who, number)
        context = await _case_context(session, case, request[LOCALE])
    return page(
        request, "cases/case.html", status=status, done=None, form=posted, error=problem, **context
    )


async def _refusal(case: Case, posted: Posted, regions: RegionRepo) -> str | None:
    """Why the form cannot be carried out as filled in (None: it can)."""
    if posted.action == "accept":
        return None
    if problem := note_problem(posted.note):
        return problem
    if posted.action == "resolve" and posted.outcome not in set(Outcome):
        return _("That choice is no longer available.")
    if posted.action == "transfer" and await transfer_choice(case, posted.target, regions) is None:
        return _("That choice is no longer available.")
    return None


async def _carry_out(
    request: web.Request, session: AsyncSession, case: Case, posted: Posted
) -> str | None:
    """Take the step through CaseService, its audit row in the same commit; None when done,
    else why not (and nothing changed)."""
    who, number = viewer(request), case.number  # the case is expired after a rollback
    account = await session.get(User, who.telegram_id)
    if posted.action == "accept" and account is not None and accepted_by(case, account):
        return None  # pressed twice: the first press did it
    transfer = (
        await transfer_choice(case, posted.target, RegionRepo(session))
        if posted.action == "transfer"
        else None
    )
    details = _audit_details(case, posted, transfer)
    # Added before the service's own commit, which then carries it with the change.
    audited = AUDITED[posted.action]
    record_action(session, account, origin(request), audited, number, case.unit_path, details)
    settings = request.app[SETTINGS]
    service = CaseService(session, NoticeRenderer(request.app[I18N]), settings.default_locale)
    actor = Actor(who.telegram_id, who.role)
    try:
        if posted.action == "accept":
            await service.accept(case, actor)
        elif posted.action == "reply":
            await service.reply(case, actor, posted.note)
        elif posted.action == "info":
            await service.request_information(case, actor, posted.note)
        elif posted.action == "resolve":
            await service.resolve(case, actor, Outcome(posted.outcome), posted.note)
        elif transfer is not None:
            await service.transfer(case, actor, transfer.target, posted.note)
    except CaseError:
        await session.rollback()  # the audit row goes with the change that did not happen
        fresh = await _case_in_area(session, who, number)
        if posted.version and posted.version != str(fresh.version):
            return _("Someone else changed this case meanwhile: here it is as it is now.")
        return why_not(fresh)
    return None


def _audit_details(case: Case, posted: Posted, transfer: Transfer | None) -> dict[str, str]:
    """What the step was, never the text sent to the reporter."""
    if posted.action == "resolve":
        return {"outcome": posted.outcome}
    if posted.action == "transfer" and transfer is not None:
        return {"from": case.unit_code, "to": transfer.destination}
    return {}
