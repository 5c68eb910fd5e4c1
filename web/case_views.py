"""Plain helpers of the cases pages: the list's filters read from the query string, a case's
card and timeline as the templates show them, the transfer targets the bot offers, and the
export files."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html import unescape
from urllib.parse import urlencode

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from db.case_queries import CaseFilter, ListedCase, region_names
from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, CaseStatus, Region
from db.regions import RegionRepo
from db.users import UserRepo
from grievances.catalog import categories
from grievances.service import Outcome, Rating
from handlers.case_screen import EVENT_NAMES, event_actor, unit_name
from handlers.cases import MAX_NOTE, may_transfer_to
from handlers.household_case_card import household_case_lines
from handlers.notices import LOCAL_TIME, OUTCOMES, RATINGS, STATUSES, category_name, local_time
from handlers.places import local_name
from handlers.text_input import visible_length

PAGE_SIZE = 50
ALL, OPEN = "all", "open"
UP = "up"  # the transfer target "the level above"
SHOWN_VALUE = 40  # of a value that is not understood, as much is repeated on the page
FORMULA_STARTS = ("=", "+", "-", "@")  # what a spreadsheet would run as a formula
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ListQuery:
    """The list's filters as understood, the page, and why a value was left out."""

    filters: CaseFilter
    page: int
    chosen: dict[str, str]  # the values kept, to fill the form and to build links
    problems: list[str] = field(default_factory=list)

    def link(self, page: int | None = None) -> str:
        values = dict(self.chosen, **({"page": str(page)} if page and page > 1 else {}))
        return f"?{urlencode(values)}" if values else ""


def status_choices() -> list[tuple[str, str]]:
    """The status filter's options: all, open, then each status by its readable name."""
    return [(ALL, _("all")), (OPEN, _("open")), *((s.value, status_name(s)) for s in CaseStatus)]


def status_name(status: str) -> str:
    """The case's status as the bot's case screen says it."""
    return str(STATUSES.get(status, status))


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_VALUE else value[:SHOWN_VALUE] + "…"


def parse_list_query(query: Mapping[str, str], townships: set[str]) -> ListQuery:
    """The list's filters from the query string; a value that is not valid is left out, and
    the page says so."""
    chosen: dict[str, str] = {}
    problems: list[str] = []

    def pick(key: str, valid: Callable[[str], bool], refusal: str, blank: str = "") -> str | None:
        value = query.get(key, "").strip()
        if valid(value):
            chosen[key] = value
            return value
        if value not in ("", blank):
            problems.append(refusal.format(value=_shown(value)))
        return None

    status = pick(
        "status",
        lambda value: value == OPEN or value in set(CaseStatus),
        _("The status “{value}” is not known: all statuses are shown."),
        blank=ALL,
    )
    category = pick(
        "category",
        lambda value: value in categories(),
        _("The category “{value}” is not known: all categories are shown."),
    )
    township = pick(
        "township",
        lambda value: value in townships,
        _("The township “{value}” is not in your area: all townships are shown."),
    )
    late = pick(
        "overdue",
        lambda value: value == "1",
        _("The overdue filter “{value}” is not known: it is left out."),
        blank="0",
    )
    not_a_date = _("“{value}” is not a date like 2024-05-31: it is left out.")
    first, last = pick("from", _is_day, not_a_date), pick("to", _is_day, not_a_date)
    filters = CaseFilter(
        statuses=None if status is None else OPEN_STATUSES if status == OPEN else (status,),
        category=category,
        township=township,
        overdue=late is not None,
        created_from=_start_of(first, 0),
        created_before=_start_of(last, 1),
    )
    return ListQuery(filters, _page(query.get("page", "")), chosen, problems)


def _is_day(text: str) -> bool:
    return DAY.fullmatch(text) is not None and _start_of(text, 0) is not None


def _start_of(day: str | None, later: int) -> datetime | None:
    """Midnight in Beijing (dates are Beijing's in the whole project) ``later`` days after."""
    try:
        start = date.fromisoformat(day) + timedelta(days=later) if day else None
    except (ValueError, OverflowError):
        return None
    return datetime.combine(start, time.min, tzinfo=LOCAL_TIME) if start else None


def _page(text: str) -> int:
    return int(text) if text.isascii() and text.isdecimal() and 0 < len(text) < 7 else 1


@dataclass(frozen=True)
class CaseRow:
    """One line of the list (and of the export)."""

    number: str
    category: str
    township: str
    place: str
    unit: str
    status: str
    created: datetime
    due: datetime
    late: bool
    outcome: str
    rating: str
    description: str


async def case_rows(
    session: AsyncSession, listed: Sequence[ListedCase], locale: str
) -> list[CaseRow]:
    """The cases as the list shows them: names instead of codes, the deadline that counts."""
    names = await region_names(
        session,
        {code for item in listed for code in (item.case.place_code, item.case.unit_code,
                                              item.case.township_code)},
    )  # fmt: skip
    rows = []
    for item in listed:
        case = item.case
        rows.append(
            CaseRow(
                number=case.number,
                category=category_name(case.category, locale),
                township=local_name(names.get(case.township_code or "", ""), locale),
                place=local_name(names.get(case.place_code, case.place_code), locale),
                unit=local_name(names.get(case.unit_code, case.unit_code), locale),
                status=status_name(case.status),
                created=case.created_at,
                due=case.accept_due if case.status in WAITING_STATUSES else case.resolve_due,
                late=item.late,
                outcome=outcome_name(case.outcome),
                rating=rating_name(case.rating),
                description=case.description,
            )
        )
    return rows


def outcome_name(outcome: str | None) -> str:
    return str(OUTCOMES[Outcome(outcome)]) if outcome in set(Outcome) else (outcome or "")


def rating_name(rating: str | None) -> str:
    return str(RATINGS[Rating(rating)]) if rating in set(Rating) else (rating or "")


# --- one case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One event of the timeline: when, what, who (a role, never the reporter's identity)."""

    at: datetime
    what: str
    who: str
    to: str  # the unit it went to, for a transfer or an escalation
    detail: str  # the outcome chosen, the rating given
    note: str | None


async def timeline(session: AsyncSession, case: Case) -> list[Step]:
    """The case's whole history, as the bot's /case screen tells it."""
    regions, users = RegionRepo(session), UserRepo(session)
    steps = []
    unit = (case.events[0].data or {}).get("unit") if case.events else None
    for event in case.events:
        data = event.data or {}
        moved = data.get("to")
        # The bot's rule for naming who acted; its text is made for Telegram's HTML.
        who = unescape(await event_actor(case, event, users, regions, unit))
        steps.append(
            Step(
                at=event.at,
                what=str(EVENT_NAMES.get(event.kind, event.kind)),
                who=who,
                to=await unit_name(regions, moved) if moved else "",
                detail=outcome_name(data.get("outcome")) or rating_name(data.get("rating")),
                note=event.note,
            )
        )
        unit = moved or unit
    return steps


def card_lines(case: Case, locale: str) -> list[str]:
    """The lines a household case adds to the card (the bot's, made for Telegram's HTML)."""
    return [unescape(line) for line in household_case_lines(case, locale)]


def reporter_line(case: Case) -> str:
    """As the bot's card says it: an anonymous reporter is never identified."""
    if case.anonymous:
        return _("Reporter: anonymous")
    return _("Reporter: named, Telegram id {id}").format(id=case.reporter_id)


def actions_for(case: Case) -> list[str]:
    """The steps that fit the case's status, as the bot offers them under the case."""
    if case.status not in OPEN_STATUSES:
        return []
    first = ["accept"] if case.status in WAITING_STATUSES else ["reply", "resolve"]
    return [*first, "info", "transfer"]


async def transfer_targets(case: Case, regions: RegionRepo) -> list[tuple[str, str]]:
    """Where the bot lets a case be passed: the level above, or another unit next to this one."""
    unit = await regions.get(case.unit_code)
    if unit is None or unit.parent_code is None:
        return []
    targets = [(UP, _("⬆ To the level above"))]
    for sibling in await regions.children(unit.parent_code):
        if await may_transfer_to(case, sibling.code, regions):
            targets.append((sibling.code, local_name(sibling.name)))
    return targets


@dataclass(frozen=True)
class Transfer:
    """A transfer target chosen in the form: ``target`` None is the level above, whose code is
    ``destination``."""

    target: Region | None
    destination: str


async def transfer_choice(case: Case, choice: str, regions: RegionRepo) -> Transfer | None:
    """The transfer the form asks for, if the bot would offer it for this case."""
    if choice == UP:
        unit = await regions.get(case.unit_code)
        return Transfer(None, unit.parent_code) if unit and unit.parent_code else None
    if not await may_transfer_to(case, choice, regions):
        return None
    return Transfer(await regions.get(choice), choice)


def note_problem(note: str) -> str | None:
    """Why a reply, question or note cannot be sent as typed (the bot's own limits)."""
    if not visible_length(note):
        return _("I could not read any words in that. Please type it again.")
    if len(note) > MAX_NOTE:
        return _("That is too long: please keep it under {limit} characters.").format(
            limit=MAX_NOTE
        )
    return None


# --- the export ------------------------------------------------------------------------------


def export_header() -> list[str]:
    return [
        _("Number"),
        _("Category"),
        _("Township"),
        _("Place"),
        _("Unit"),
        _("Status"),
        _("Created"),
        _("Deadline"),
        _("Overdue"),
        _("Outcome"),
        _("Rating"),
        _("Description"),
    ]


def export_cells(row: CaseRow) -> list[str]:
    """A case as a line of the export: no reporter's identity, in any case."""
    return [
        row.number,
        row.category,
        row.township,
        row.place,
        row.unit,
        row.status,
        local_time(row.created),
        local_time(row.due),
        _("yes") if row.late else _("no"),
        row.outcome,
        row.rating,
        row.description,
    ]


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 with a BOM (Excel then reads Chinese); no cell is taken for a formula."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([[_inert(cell) for cell in row] for row in rows])
    return text.getvalue().encode("utf-8-sig")


def _inert(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[str]], title: str) -> bytes:
    """One sheet of text cells (never a formula), the header frozen, as db/spreadsheets.py
    writes its tables."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"

    def text_cells(values: Sequence[str]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        return cells

    sheet.append(text_cells(header))
    for row in rows:
        sheet.append(text_cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
