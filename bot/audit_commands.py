"""`huhuqing audit`: who looked at which household, and when, newest first."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.household_commands import area_of
from db.audit import views_in_area

# China's time, as the bot shows times (handlers/notices.py), without importing aiogram here.
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
MAX_LIMIT = 100_000


def parse_since(text: str | None) -> datetime | None:
    """--since YYYY-MM-DD: from that day's start in China; ValueError with the reason."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since needs a date like 2026-12-01, not {text!r}") from None
    return datetime.combine(day, time(), tzinfo=LOCAL_TIME)


def parse_limit(text: str) -> int:
    if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= MAX_LIMIT:
        raise ValueError(f"--limit needs a whole number from 1 to {MAX_LIMIT}, not {text!r}")
    return int(text)


async def print_views(
    session: AsyncSession,
    region: str | None,
    number: str | None,
    since: datetime | None,
    limit: int,
    out: TextIO,
) -> None:
    """One view a line: time (China), viewer, role, action, household number."""
    rows = await views_in_area(
        session, await area_of(session, region), number=number, since=since, limit=limit
    )
    for row in rows:
        moment = row.at.astimezone(LOCAL_TIME).isoformat(sep=" ", timespec="seconds")
        fields = (moment, row.viewer, row.viewer_role, row.action, row.household_number)
        print("\t".join(fields), file=out)
