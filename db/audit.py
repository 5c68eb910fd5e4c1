"""The audit log of household views: who looked at which household, when, and how (never what
they saw). Every cadre or admin path that shows a household writes here; admins read it by
area (`huhuqing audit`, `/audit`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Household, HouseholdView, User, utcnow


class ViewAction(StrEnum):
    VIEW = "view"  # /household: one household in full
    LIST = "list"  # shown on a /households page
    VISIT = "visit"  # a visit recorded
    BINDINGS = "bindings"  # /bindings: the accounts linked to it
    BINDCODE = "bindcode"  # a binding code created for it
    EXPORT = "export"  # written to a file by `huhuqing households export`


def viewer_of(account: User) -> str:
    """How the log names a Telegram user."""
    return f"telegram:{account.telegram_id}"


async def record(
    session: AsyncSession,
    households: Iterable[Household],
    viewer: str,
    role: str,
    action: ViewAction,
    *,
    commit: bool = True,
) -> None:
    """One row per household, committed (with ``commit`` False: in the caller's transaction)."""
    now = utcnow()
    session.add_all(
        HouseholdView(
            household_id=household.id,
            household_number=household.number,
            region_path=household.region_path,
            viewer=viewer[:120],
            viewer_role=role,
            action=action,
            at=now,
        )
        for household in households
    )
    if commit:
        await session.commit()


async def record_area(
    session: AsyncSession, area_path: str | None, viewer: str, role: str, action: ViewAction
) -> int:
    """One row per household of the area (everything for None), in one statement: an export of
    100,000 households writes its log without loading them. Committed; returns the count."""
    rows = select(
        Household.id,
        Household.number,
        Household.region_path,
        literal(viewer[:120]),
        literal(role),
        literal(action.value),
        literal(utcnow(), HouseholdView.at.type),
    )
    if area_path is not None:
        rows = rows.where(Household.region_path.startswith(area_path, autoescape=True))
    columns = ["household_id", "household_number", "region_path", "viewer", "viewer_role"]
    result = await session.execute(
        insert(HouseholdView).from_select([*columns, "action", "at"], rows)
    )
    await session.commit()
    return result.rowcount  # type: ignore[attr-defined]


async def views_in_area(
    session: AsyncSession,
    area_path: str | None,
    *,
    number: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[HouseholdView]:
    """The newest rows first, of households at or below the area (everything for None)."""
    query = select(HouseholdView).order_by(HouseholdView.at.desc(), HouseholdView.id.desc())
    if area_path is not None:
        query = query.where(HouseholdView.region_path.startswith(area_path, autoescape=True))
    if number is not None:
        query = query.where(HouseholdView.household_number == number)
    if since is not None:
        query = query.where(HouseholdView.at >= since)
    return list((await session.scalars(query.limit(limit))).all())
