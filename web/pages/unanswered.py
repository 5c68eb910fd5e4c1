"""The questions the bot could not answer (or was unsure of) and the answers marked 👎, grouped
by similarity, for admins to turn into phrasings or entries, or to dismiss.

Rows without a region (the asker never named their village) are shown only to admins of all
areas: an admin with an area sees the rows of their area and nothing else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.admin_log import record_action
from db.knowledge import KnowledgeRepo
from db.models import Region
from db.unanswered import (
    UNHELPFUL,
    HandledHow,
    OpenRow,
    count_open,
    mark_handled,
    open_rows,
    open_rows_among,
)
from handlers.ask import localized
from knowledge.grouping import group_similar
from web.context import LOCALE, Viewer, admin, database_session, origin, redirect
from web.render import page

routes = web.RouteTableDef()
# The most recent open rows grouped on one visit (grouping 2,000 takes ~50 ms); the page says
# how many there are in all.
GROUPED_ROWS = 500
GROUPS_PER_PAGE = 25
AUDIT_TARGET_CHARS = 60


@dataclass(frozen=True)
class Member:
    row: OpenRow
    kind: str
    region: str


@dataclass(frozen=True)
class GroupView:
    text: str
    count: int
    regions: list[str]
    last: datetime
    kinds: list[tuple[str, int]]
    members: list[Member]
    handles: str
    best_entry_id: str | None

    @property
    def new_entry_link(self) -> str:
        return "/knowledge/new?" + urlencode({"phrasing": self.text, "handles": self.handles})


@routes.get("/unanswered")
async def unanswered(request: web.Request) -> web.Response:
    who = admin(request)
    async with database_session(request) as session:
        rows = await open_rows(session, who.area_code, GROUPED_ROWS)
        total = await count_open(session, who.area_code)
        entries = await _entry_names(session, request[LOCALE])
        regions = await _region_names(session, {row.region_code for row in rows}, request[LOCALE])
    groups = [_view(text, members, regions, entries) for text, members in _grouped(rows)]
    number = _page_number(request.query.get("page", "1"), len(groups))
    shown = groups[(number - 1) * GROUPS_PER_PAGE : number * GROUPS_PER_PAGE]
    return page(
        request,
        "unanswered/list.html",
        groups=shown,
        group_count=len(groups),
        grouped=len(rows),
        total=total,
        page_number=number,
        pages=max(1, -(-len(groups) // GROUPS_PER_PAGE)),
        entries=sorted(entries.items(), key=lambda item: item[1]),
        dismissed=_count(request.query.get("dismissed", "")),
    )


@routes.get("/unanswered/phrasing")
async def add_as_phrasing(request: web.Request) -> web.StreamResponse:
    """The group's choice of entry, on to the entry's editor with the phrasing prefilled."""
    who = admin(request)
    entry_id = request.query.get("entry", "")
    async with database_session(request) as session:
        active = await _entry_names(session, "")
        rows = await _visible(session, who, request.query.get("handles", ""))
    if entry_id not in active or not rows:
        raise web.HTTPNotFound()
    query = urlencode({"add_phrasing": _representative(rows), "handles": _refs(rows)})
    return redirect(f"/knowledge/{entry_id}/edit?{query}")


@routes.post("/unanswered/dismiss")
async def dismiss(request: web.Request) -> web.StreamResponse:
    who = admin(request)
    form = await request.post()
    async with database_session(request) as session:
        rows = await _visible(session, who, str(form.get("handles", "")))
        if not rows:
            raise web.HTTPNotFound()
        count = await mark_handled(session, [row.ref for row in rows], HandledHow.DISMISSED)
        record_action(
            session,
            who,
            origin(request),
            "unanswered.dismiss",
            _representative(rows)[:AUDIT_TARGET_CHARS],
            who.area,
            {"count": count},
        )
        await session.commit()
    return redirect(f"/unanswered?dismissed={count}")


async def _visible(session: AsyncSession, who: Viewer, handles: str) -> list[OpenRow]:
    """The open rows among the references a form sent that this admin may handle."""
    refs = [ref.strip() for ref in handles.split(",")][:GROUPED_ROWS]
    return await open_rows_among(session, refs, who.area_code)


def _grouped(rows: Sequence[OpenRow]) -> list[tuple[str, list[OpenRow]]]:
    """Each group's representative text and its rows, largest group first."""
    return [
        (rows[group.representative].text, [rows[index] for index in group.members])
        for group in group_similar([row.text for row in rows])
    ]


def _representative(rows: Sequence[OpenRow]) -> str:
    """The text that stands for these rows: their largest group's representative."""
    return _grouped(rows)[0][0]


def _refs(rows: Sequence[OpenRow]) -> str:
    return ",".join(row.ref for row in rows)


def _view(
    text: str, members: list[OpenRow], regions: dict[str, str], entries: dict[str, str]
) -> GroupView:
    guesses = Counter(r.entry_id for r in members if r.kind != UNHELPFUL and r.entry_id in entries)
    places = Counter(sorted(r.region_code for r in members if r.region_code in regions))
    kinds = Counter((r.kind, r.entry_id if r.kind == UNHELPFUL else None) for r in members)
    return GroupView(
        text=text,
        count=len(members),
        regions=[regions[code] for code, _n in places.most_common()],
        last=max(r.at for r in members),
        kinds=[(_kind(kind, entry, entries), n) for (kind, entry), n in kinds.most_common()],
        members=[
            Member(r, _kind(r.kind, r.entry_id, entries), regions.get(r.region_code or "", "—"))
            for r in members
        ],
        handles=_refs(members),
        best_entry_id=guesses.most_common(1)[0][0] if guesses else None,
    )


def _kind(kind: str, entry_id: str | None, entries: dict[str, str]) -> str:
    """What happened to the question: the bot's decision, or the answer marked 👎."""
    if kind == UNHELPFUL:
        return _("👎 on “{entry}”").format(entry=entries.get(entry_id or "", entry_id or "—"))
    names = {
        "out_of_scope": _("not found"),
        "particular": _("a name, number, place or day"),
        "unsure": _("not sure"),
        "other_region": _("only another region's rule"),
    }
    return names.get(kind, kind)


async def _entry_names(session: AsyncSession, locale: str) -> dict[str, str]:
    """Active entries by id, named by their first question."""
    entries = await KnowledgeRepo(session).active_entries()
    return {entry.id: localized(entry.content["questions"][0], locale) for entry in entries}


async def _region_names(
    session: AsyncSession, codes: set[str | None], locale: str
) -> dict[str, str]:
    wanted = [code for code in codes if code]
    if not wanted:
        return {}
    found = await session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return {code: localized(name, locale) for code, name in found}


def _page_number(text: str, groups: int) -> int:
    last = max(1, -(-groups // GROUPS_PER_PAGE))
    return min(int(text), last) if text.isdecimal() and int(text) >= 1 else 1


def _count(text: str) -> int | None:
    return int(text) if text.isdecimal() else None
