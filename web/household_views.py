"""The households pages' building blocks: one household as the bot's cadre screen shows it, the
QR code of a bind link, and the two short-lived stashes bound to the browser's session (an
uploaded import file waiting for "Apply", a sheet of fresh binding codes: only their hashes
are stored, so the sheet is kept here for the print that follows)."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from db.cadre_households import CadreHouseholdRepo
from db.household_queries import CachedRegionNames
from db.households import data_of, masked_name
from db.models import Household
from handlers.ask import localized
from handlers.notices import category_name
from handlers.own_household import enumeration, overview_rows
from knowledge.eligibility import applicable, gaps
from knowledge.entries import Entry
from knowledge.households import MemberFlag
from web.context import Viewer

UPLOADS = Path(tempfile.gettempdir()) / "huhuqing-web-imports"
UPLOAD_TTL_SECONDS = 6 * 3600
SHEET_TTL_SECONDS = 3600
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def audit_viewer(who: Viewer) -> str:
    """How the household audit log names a console user."""
    return f"web:{who.telegram_id}"


def _owner(who: Viewer) -> str:
    """The browser session a stash belongs to (the token's hash: the token stays a secret)."""
    return hashlib.sha256(who.session_token.encode()).hexdigest()


def _valid_id(value: str) -> bool:
    return 20 <= len(value) <= 64 and set(value) <= _ID_CHARS


# One household


def head_label(household: Household, locale: str) -> str:
    """The head's name as the bot's cadre screens show it: masked, in the reader's characters."""
    return localized(masked_name(household.head_name), locale)


def benefit_names(missing: Iterable[str], locale: str) -> str:
    return enumeration(locale).join(localized(str(benefit), locale) for benefit in missing)


async def household_gaps(
    households: Iterable[Household], entries: list[Entry], session: AsyncSession
) -> dict[int, list[str]]:
    """What each household may be missing (knowledge/eligibility.py), by id."""
    repo = CachedRegionNames(session)
    return {
        household.id: [gap.benefit for gap in gaps(await repo.profile(household), entries)]
        for household in households
    }


async def household_context(
    session: AsyncSession, household: Household, entries: list[Entry], locale: str
) -> dict[str, Any]:
    """What the household's page shows: its six clears as the bot's cadre screen words them,
    its lists, the policies that apply and what may be missing, open cases and links."""
    data = data_of(household)
    profile = await CachedRegionNames(session).profile(household)
    repo = CadreHouseholdRepo(session)
    cases = await repo.open_cases(household)
    return {
        "household": household,
        "data": data,
        "head": head_label(household, locale),
        "village": localized(profile.region_names[-1], locale) if profile.region_names else "",
        "place": localized(" ".join(profile.region_names), locale),
        "six_clears": [
            (label, localized(value, locale)) for label, value in overview_rows(data, locale)
        ],
        "members": [
            (
                member.relation,
                member.age_band,
                "、".join(f for f in MemberFlag if f in member.flags),
            )
            for member in data.members
        ],
        "visits": list(reversed(data.visits)),
        "policies": applicable(profile, entries),
        "missing": benefit_names((gap.benefit for gap in gaps(profile, entries)), locale),
        "open_cases": [
            (case.number, category_name(case.category, locale), case.created_at) for case in cases
        ],
        "linked": await repo.bindings(household),
        "t": lambda text: localized(str(text), locale) if text is not None else "",
    }


# Binding codes


def qr_svg(link: str) -> Markup:
    """The link's QR code as inline SVG, sized by the style sheet (same symbol as qr_png)."""
    symbol = segno.make(link, error="m", micro=False)
    return Markup(symbol.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr"))


@dataclass(frozen=True)
class CodeSheet:
    """Fresh binding codes of one village: (household id, code, expires) each."""

    owner: str
    village: str
    codes: tuple[tuple[int, str, datetime], ...]
    made: float


_SHEETS: dict[str, CodeSheet] = {}


def keep_sheet(who: Viewer, village: str, codes: list[tuple[int, str, datetime]]) -> str:
    """Keep the codes for this browser's printing for an hour; the sheet's id."""
    now = time.monotonic()
    for key in [key for key, sheet in _SHEETS.items() if now - sheet.made > SHEET_TTL_SECONDS]:
        del _SHEETS[key]
    sheet_id = secrets.token_urlsafe(24)
    _SHEETS[sheet_id] = CodeSheet(_owner(who), village, tuple(codes), now)
    return sheet_id


def sheet_of(who: Viewer, sheet_id: str, village: str) -> CodeSheet | None:
    """The sheet if this browser made it for this village within the hour."""
    sheet = _SHEETS.get(sheet_id)
    if (
        sheet is None
        or sheet.owner != _owner(who)
        or sheet.village != village
        or time.monotonic() - sheet.made > SHEET_TTL_SECONDS
    ):
        return None
    return sheet


# Uploaded import files


@dataclass(frozen=True)
class Upload:
    id: str
    directory: Path
    name: str  # as the admin's computer called it
    suffix: str

    @property
    def file(self) -> Path:
        return self.directory / f"upload{self.suffix}"

    def report(self) -> dict[str, Any] | None:
        path = self.directory / "report.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def save_report(self, report: dict[str, Any]) -> None:
        (self.directory / "report.json").write_text(json.dumps(report), encoding="utf-8")

    def problem_lines(self, problems: Iterable[str]) -> list[str]:
        """The import's problems naming the uploaded file, not the temporary copy."""
        return [problem.replace(str(self.file), self.name) for problem in problems]

    def forget_file(self) -> None:
        self.file.unlink(missing_ok=True)


def save_upload(who: Viewer, name: str, suffix: str, content: bytes) -> Upload:
    """Keep an uploaded file, for this browser session only, until it is applied."""
    _remove_old_uploads()
    UPLOADS.mkdir(mode=0o700, exist_ok=True)
    upload_id = secrets.token_urlsafe(24)
    directory = UPLOADS / upload_id
    directory.mkdir(mode=0o700)
    upload = Upload(upload_id, directory, name, suffix)
    upload.file.write_bytes(content)
    meta = {"owner": _owner(who), "name": name, "suffix": suffix}
    (directory / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return upload


def find_upload(who: Viewer, upload_id: str) -> Upload | None:
    """This browser session's upload, or None (unknown, expired, another session's)."""
    if not _valid_id(upload_id):
        return None
    directory = UPLOADS / upload_id
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        fresh = time.time() - directory.stat().st_mtime < UPLOAD_TTL_SECONDS
    except (OSError, ValueError):
        return None
    if not fresh or meta.get("owner") != _owner(who):
        return None
    return Upload(upload_id, directory, meta["name"], meta["suffix"])


def _remove_old_uploads() -> None:
    if not UPLOADS.is_dir():
        return
    for directory in UPLOADS.iterdir():
        try:
            if time.time() - directory.stat().st_mtime > UPLOAD_TTL_SECONDS:
                shutil.rmtree(directory, ignore_errors=True)
        except OSError:
            continue
