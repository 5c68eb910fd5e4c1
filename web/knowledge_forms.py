"""The policy-answer editor's form: its fields to and from an entry's content, and the checks a
save must pass (the import's schema and review, and the editor's area)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from aiogram.utils.i18n import gettext as _
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Region, RegionLevel
from db.regions import RegionRepo
from grievances.routing import unit_path
from knowledge.entries import ALL_REGIONS, Entry
from knowledge.service import checked_entry, entry_content
from web.context import Viewer

BLANK_SOURCES = 1  # empty source rows offered below the entry's own


@dataclass(frozen=True)
class SourceRow:
    file: str = ""
    clause: str = ""
    quote: str = ""


@dataclass(frozen=True)
class EntryForm:
    """What the editor typed, kept as typed so that nothing is lost when a save is refused."""

    id: str = ""
    topic: str = ""
    region: str = ""
    effective: str = ""
    answer: str = ""
    details: str = ""
    questions: str = ""
    general_note: str = ""
    sources: tuple[SourceRow, ...] = ()
    why: str = ""
    version: int | None = None  # the version the editor opened; None for a new entry
    handles: str = ""  # unanswered questions this edit answers ("q12,f5")
    preview_region: str = ""
    extra_questions: str = ""

    @property
    def source_rows(self) -> tuple[SourceRow, ...]:
        return self.sources + (SourceRow(),) * BLANK_SOURCES

    @property
    def handled_refs(self) -> list[str]:
        return [ref.strip() for ref in self.handles.split(",") if ref.strip()]

    @property
    def extra_question_list(self) -> list[str]:
        return _lines(self.extra_questions)

    def with_phrasing(self, text: str) -> EntryForm:
        """The form with one more phrasing (a question the bot could not answer)."""
        text = text.strip()
        if not text or text in _lines(self.questions):
            return self
        return replace(self, questions="\n".join([*_lines(self.questions), text]))

    def content(self) -> dict[str, Any]:
        """The fields as an entry's content, for the same checks as a file's entry."""
        sources = [
            {"file": row.file, "clause": row.clause, **({"quote": row.quote} if row.quote else {})}
            for row in self.sources
        ]
        content: dict[str, Any] = {
            "id": self.id,
            "topic": self.topic,
            "questions": _lines(self.questions),
            "answer": self.answer,
            "details": self.details.strip() or None,
            "source": sources[0] if sources else None,
            "also": sources[1:],
            "region": self.region.strip(),
            "effective": self.effective.strip(),
            "general_note": self.general_note.strip() or None,
        }
        return {key: value for key, value in content.items() if value is not None}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def form_of(content: dict[str, Any], version: int | None) -> EntryForm:
    """The form filled with a stored entry's content."""
    cited = [content["source"], *content.get("also", [])] if "source" in content else []
    return EntryForm(
        id=content.get("id", ""),
        topic=content.get("topic", ""),
        region=content.get("region", ""),
        effective=content.get("effective", ""),
        answer=content.get("answer", ""),
        details=content.get("details") or "",
        questions="\n".join(content.get("questions", [])),
        general_note=content.get("general_note") or "",
        sources=tuple(
            SourceRow(s.get("file", ""), s.get("clause", ""), s.get("quote") or "") for s in cited
        ),
        version=version,
    )


def form_from_post(posted: MultiDictProxy[Any], entry_id: str | None) -> EntryForm:
    """The form as posted; an existing entry's id comes from the URL, never from the form."""

    def text(name: str) -> str:
        value = posted.get(name, "")
        return value.replace("\r\n", "\n") if isinstance(value, str) else ""

    rows = []
    index = 0
    while f"source_file_{index}" in posted:
        row = SourceRow(
            text(f"source_file_{index}").strip(),
            text(f"source_clause_{index}").strip(),
            text(f"source_quote_{index}").strip(),
        )
        if row.file or row.clause or row.quote:
            rows.append(row)
        index += 1
    version = text("version").strip()
    return EntryForm(
        id=entry_id if entry_id is not None else text("id").strip(),
        topic=text("topic").strip(),
        region=text("region").strip(),
        effective=text("effective").strip(),
        answer=text("answer"),
        details=text("details"),
        questions=text("questions"),
        general_note=text("general_note"),
        sources=tuple(rows),
        why=text("why").strip(),
        version=int(version) if version.isdecimal() else None,
        handles=text("handles").strip(),
        preview_region=text("preview_region").strip(),
        extra_questions=text("extra_questions"),
    )


async def region_path(session: AsyncSession, region: str) -> str | None:
    """The registry path of an entry's region ("" for every region); None when the registry
    has no region of that name."""
    if region == ALL_REGIONS:
        return ""
    found = await RegionRepo(session).lookup(region)
    named = [r for r in found.regions if r.name == region] if found.exact else []
    if not named:
        return None
    return unit_path(await RegionRepo(session).path(named[0].code))


def may_edit(who: Viewer, path: str | None) -> bool:
    """An admin edits the entries of their area and below; one without an area, all of them."""
    return who.area == "" or (path is not None and who.covers(path))


@dataclass
class Checked:
    """A form's entry (None if its fields do not make one) and every problem that stops its
    save; the registry path of its region ("" for every region)."""

    entry: Entry | None
    problems: list[str] = field(default_factory=list)
    area_path: str = ""

    @property
    def valid(self) -> bool:
        return self.entry is not None and not self.problems

    @property
    def content(self) -> dict[str, Any]:
        assert self.entry is not None
        return entry_content(self.entry)


async def check_content(session: AsyncSession, who: Viewer, content: dict[str, Any]) -> Checked:
    """The import's checks (schema and review), and that the region is in the editor's area."""
    entry, problems = checked_entry(content)
    region = str(content.get("region", ""))
    path = await region_path(session, region) if region else None
    if region and not may_edit(who, path):
        problems.append(_("region: {region} is outside your area").format(region=region))
    return Checked(entry, problems, path or "")


async def preview_regions(session: AsyncSession) -> list[Region]:
    """The regions a preview can be asked from: provinces, cities and counties."""
    levels = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)
    query = select(Region).where(Region.level.in_(levels)).order_by(Region.code)
    return list((await session.scalars(query)).all())
