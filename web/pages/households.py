"""Households of the viewer's area: the searchable list, one household in full, the registry
import (admins) and the printable sheet of binding codes for a village. Every household shown
is written to the audit log (db/audit.py) as the bot's cadre screens do; a household or village
outside the area answers 404 as one that does not exist."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bind_links import bind_link
from db import audit
from db.admin_log import record_action
from db.audit import ViewAction
from db.bindings import BindingRepo
from db.household_import import TEMPLATE_CSV, TEMPLATE_XLSX, HouseholdImportError
from db.household_import import import_households as run_import
from db.household_queries import (
    HouseholdFilter,
    ListedHousehold,
    count_households,
    households_by_id,
    households_of_village,
    list_households,
    matching_ids,
    open_code_times,
    rows_outside_area,
    villages_in_area,
)
from db.households import HouseholdRepo
from db.models import Region, RegionLevel, User
from db.spreadsheets import SUFFIXES, SpreadsheetError
from handlers.ask import localized
from handlers.household_visits import local_today
from knowledge.entries import Entry
from knowledge.households import Status
from web.context import (
    KNOWLEDGE,
    LOCALE,
    SETTINGS,
    Viewer,
    admin,
    database_session,
    origin,
    redirect,
    viewer,
)
from web.household_views import (
    Upload,
    audit_viewer,
    benefit_names,
    find_upload,
    head_label,
    household_context,
    household_gaps,
    keep_sheet,
    qr_svg,
    save_upload,
    sheet_of,
)
from web.render import page

routes = web.RouteTableDef()
PAGE_SIZE = 50
MAX_PAGE = 10_000
MAX_NUMBER = 40  # Household.number's length
PROBLEMS_SHOWN = 200


# The list


def _filter(query: Any) -> tuple[HouseholdFilter, bool, int]:
    """The list's filters from the query string, the "has gaps" choice, and the page (from 1)."""
    status = query.get("status", "")
    try:
        number = min(max(int(query.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        number = 1
    wanted = HouseholdFilter(
        search=query.get("q", "").strip()[:MAX_NUMBER],
        status=status if status in set(Status) else "",
        loan_due_soon=query.get("loan") == "1",
    )
    return wanted, query.get("gaps") == "1", number


@routes.get("/households")
async def household_list(request: web.Request) -> web.Response:
    who = viewer(request)
    locale = request[LOCALE]
    wanted, with_gaps, number = _filter(request.query)
    today = local_today()
    entries = list((await request.app[KNOWLEDGE].index()).entries)  # before the session opens
    async with database_session(request) as session:
        offset = (number - 1) * PAGE_SIZE
        if with_gaps:
            ids = await _ids_with_gaps(session, who.area, wanted, today, entries)
            total = len(ids)
            shown = await list_households(
                session, who.area, wanted, today, ids=ids[offset : offset + PAGE_SIZE]
            )
        else:
            total = await count_households(session, who.area, wanted, today)
            shown = await list_households(
                session, who.area, wanted, today, offset=offset, limit=PAGE_SIZE
            )
        missing = await household_gaps([item.household for item in shown], entries, session)
        await audit.record(
            session,
            [item.household for item in shown],
            audit_viewer(who),
            who.role,
            ViewAction.LIST,
        )
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "households/list.html",
        rows=[_row(item, missing[item.household.id], today, locale) for item in shown],
        total=total,
        page_number=number,
        pages=pages,
        wanted=wanted,
        with_gaps=with_gaps,
        statuses=[(status.value, localized(status.value, locale)) for status in Status],
        previous_url=_list_url(request, number - 1) if number > 1 else None,
        next_url=_list_url(request, number + 1) if number < pages else None,
    )


async def _ids_with_gaps(
    session: AsyncSession, area: str, wanted: HouseholdFilter, today: date, entries: list[Entry]
) -> list[int]:
    """The matching households that may miss a benefit, in number order: each is judged on
    its whole record (knowledge/eligibility.py), a chunk at a time."""
    found = []
    async for chunk in matching_ids(session, area, wanted, today):
        households = await households_by_id(session, chunk)
        missing = await household_gaps(households, entries, session)
        found += [household.id for household in households if missing[household.id]]
        session.expunge_all()
    return found


def _row(item: ListedHousehold, missing: list[str], today: date, locale: str) -> dict[str, Any]:
    return {
        "number": item.household.number,
        "village": localized(item.village, locale),
        "head": head_label(item.household, locale),
        "status": localized(item.household.status, locale),
        "last_visit": item.last_visit,
        "loan_due": item.loan_due,
        "loan_overdue": item.loan_due is not None and item.loan_due < today,
        "missing": benefit_names(missing, locale),
    }


def _list_url(request: web.Request, number: int) -> str:
    query = {key: value for key, value in request.query.items() if key != "page"}
    return "/households?" + urlencode({**query, "page": number})


# Import (admins)


@routes.get("/households/import")
async def import_form(request: web.Request) -> web.Response:
    admin(request)
    return page(request, "households/import.html", upload=None, report=None)


@routes.get("/households/import/template.{suffix:(xlsx|csv)}")
async def import_template(request: web.Request) -> web.StreamResponse:
    admin(request)
    template = TEMPLATE_XLSX if request.match_info["suffix"] == "xlsx" else TEMPLATE_CSV
    return web.FileResponse(
        template,
        headers={"Content-Disposition": f'attachment; filename="{template.name}"'},
    )


@routes.post("/households/import")
async def upload_file(request: web.Request) -> web.Response:
    """Keep the file, check it (nothing is written), then show the report."""
    who = admin(request)
    form = await request.post()
    sent = form.get("file")
    if not isinstance(sent, web.FileField) or not sent.filename:
        return page(
            request, "households/import.html", status=400, upload=None, report=None,
            error=_("Choose a CSV or XLSX file."),
        )  # fmt: skip
    suffix = Path(sent.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return page(
            request, "households/import.html", status=400, upload=None, report=None,
            error=_("Only .csv and .xlsx files are read; save the file in one of these forms."),
        )  # fmt: skip
    upload = save_upload(who, Path(sent.filename).name[:100], suffix, sent.file.read())
    upload.save_report(await _import(request, who, upload, apply=False))
    return redirect(f"/households/import/{upload.id}")


@routes.get("/households/import/{upload}")
async def import_report(request: web.Request) -> web.Response:
    who = admin(request)
    upload = find_upload(who, request.match_info["upload"])
    if upload is None or (report := upload.report()) is None:
        raise web.HTTPNotFound()
    return page(
        request, "households/import.html", upload=upload, report=report, shown=PROBLEMS_SHOWN
    )


@routes.post("/households/import/{upload}/apply")
async def apply_import(request: web.Request) -> web.Response:
    """Check the kept file again against the registry as it is now, and import it."""
    who = admin(request)
    upload = find_upload(who, request.match_info["upload"])
    if upload is None or (report := upload.report()) is None:
        raise web.HTTPNotFound()
    if not report.get("applied"):
        report = await _import(request, who, upload, apply=True)
        upload.save_report(report)
        if report["applied"]:
            upload.forget_file()
    return redirect(f"/households/import/{upload.id}")


async def _import(request: web.Request, who: Viewer, upload: Upload, *, apply: bool) -> dict:
    """What importing the file does: counts, or the problems (rows outside the area first).
    With ``apply`` and no problem it is committed with its admin-log row; else rolled back."""
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    problems: list[str] = []
    async with database_session(request) as session:
        try:
            outside = await rows_outside_area(session, upload.file, who.area)
            problems += [
                f"{upload.file}:{row.row}: {row.column}: "
                + _("{value} is outside your area").format(value=row.value)
                for row in outside
            ]
            changed_by = f"import {upload.name} by {audit_viewer(who)}"
            report = await run_import(session, upload.file, changed_by, commit=False)
            counts = {
                "added": report.added,
                "changed": report.changed,
                "unchanged": report.unchanged,
            }
        except HouseholdImportError as error:
            problems += error.problems
        except SpreadsheetError as error:
            problems.append(str(error))
        applied = apply and not problems
        if applied:
            user = await session.get(User, who.telegram_id)
            record_action(
                session, user, origin(request), "households.import", upload.name,
                area_path=who.area, details=counts,
            )  # fmt: skip
            await session.commit()
        else:
            await session.rollback()
    return {**counts, "applied": applied, "problems": upload.problem_lines(problems)}


# Binding codes


async def _village(session: AsyncSession, who: Viewer, code: str) -> tuple[Region, str]:
    """The village and its path if it is in the viewer's area; 404 otherwise."""
    region = await session.get(Region, code[:32]) if code else None
    if region is None or region.level != RegionLevel.VILLAGE:
        raise web.HTTPNotFound()
    path = await HouseholdRepo(session).area_path(region.code)
    if not who.covers(path):
        raise web.HTTPNotFound()
    return region, path or ""


@routes.get("/households/bindcodes")
async def bind_codes(request: web.Request) -> web.Response:
    who = viewer(request)
    locale = request[LOCALE]
    code = request.query.get("village", "")
    async with database_session(request) as session:
        if not code:
            villages = await villages_in_area(session, who.area)
            return page(
                request,
                "households/villages.html",
                villages=[(c, localized(name, locale), n) for c, name, n in villages],
            )
        village, _path = await _village(session, who, code)
        households = await households_of_village(session, village.code)
        open_codes = await open_code_times(session, [h.id for h in households])
        sheet = sheet_of(who, request.query.get("sheet", ""), village.code)
        cards = await _cards(request, session, who, sheet.codes, locale) if sheet else []
    on_sheet = {card["id"] for card in cards}
    return page(
        request,
        "households/bindcodes.html",
        village=village,
        village_name=localized(village.name, locale),
        households=len(households),
        with_open_codes=[
            (household.number, head_label(household, locale), open_codes[household.id])
            for household in households
            if household.id in open_codes and household.id not in on_sheet
        ],
        cards=cards,
        sheet_asked="sheet" in request.query,
        sheet_found=sheet is not None,
        bot_username=request.app[SETTINGS].bot_username,
    )


async def _cards(
    request: web.Request,
    session: AsyncSession,
    who: Viewer,
    codes: tuple,
    locale: str,
) -> list[dict[str, Any]]:
    """One card per fresh code: the household (still in the area), the code, its QR code."""
    username = request.app[SETTINGS].bot_username
    households = {h.id: h for h in await households_by_id(session, [c[0] for c in codes])}
    cards = []
    for household_id, code, expires in codes:
        household = households.get(household_id)
        if household is None or not who.covers(household.region_path):
            continue
        link = bind_link(username, code) if username else None
        cards.append(
            {
                "id": household.id,
                "number": household.number,
                "head": head_label(household, locale),
                "code": code,
                "expires": expires,
                "link": link,
                "qr": qr_svg(link) if link else None,
            }
        )
    return cards


@routes.post("/households/bindcodes")
async def make_bind_codes(request: web.Request) -> web.Response:
    """A fresh code for every household of the village that has no unused one (with
    ``replace``, the unused ones are revoked first), audited, in one transaction."""
    who = viewer(request)
    form = await request.post()
    code = form.get("village")
    replace = form.get("replace") == "1"
    async with database_session(request) as session:
        village, path = await _village(session, who, code if isinstance(code, str) else "")
        households = await households_of_village(session, village.code)
        repo = BindingRepo(session)
        revoked = 0
        if replace:
            for household in households:
                revoked += await repo.revoke_codes(household, commit=False)
        open_codes = await open_code_times(session, [h.id for h in households])
        chosen = [h for h in households if h.id not in open_codes]
        await audit.record(
            session, chosen, audit_viewer(who), who.role, ViewAction.BINDCODE, commit=False
        )
        made = []
        for household in chosen:
            fresh, expires = await repo.create_code(household, audit_viewer(who), commit=False)
            made.append((household.id, fresh, expires))
        user = await session.get(User, who.telegram_id)
        record_action(
            session, user, origin(request), "households.bindcodes", village.code,
            area_path=path, details={"created": len(made), "revoked": revoked},
        )  # fmt: skip
        await session.commit()
    sheet = keep_sheet(who, village.code, made)
    return redirect("/households/bindcodes?" + urlencode({"village": village.code, "sheet": sheet}))


# One household


@routes.get("/households/{number}")
async def household_page(request: web.Request) -> web.Response:
    who = viewer(request)
    number = request.match_info["number"]
    entries = list((await request.app[KNOWLEDGE].index()).entries)
    async with database_session(request) as session:
        household = await HouseholdRepo(session).get(number) if len(number) <= MAX_NUMBER else None
        if household is None or not who.covers(household.region_path):
            raise web.HTTPNotFound()
        context = await household_context(session, household, entries, request[LOCALE])
        await audit.record(session, [household], audit_viewer(who), who.role, ViewAction.VIEW)
    return page(request, "households/household.html", **context)
