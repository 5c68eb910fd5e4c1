"""The admin action log: every admin action and every change made in the web console, with
who, when and from where. Append-only (the database refuses updates and deletes); admins read
the rows of their own area."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AdminAction


class Acting(Protocol):
    """Whoever acts: a User, or the web console's Viewer."""

    telegram_id: int
    role: str


def record_action(
    session: AsyncSession,
    actor: Acting | None,
    origin: str,
    action: str,
    target: str,
    area_path: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Add one row to the session: it is committed with the change it records, or not at all.
    ``details`` names what changed, never a complaint's or a phone number's text."""
    session.add(
        AdminAction(
            actor_id=actor.telegram_id if actor else None,
            actor_role=actor.role if actor else "cli",
            origin=origin[:80],
            action=action[:40],
            target=str(target)[:120],
            area_path=area_path,
            details=details,
        )
    )


async def actions_in_area(
    session: AsyncSession,
    area_path: str,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[AdminAction]:
    """Newest first: the rows about the area or below it ("" is everything)."""
    query = select(AdminAction).order_by(AdminAction.at.desc(), AdminAction.id.desc())
    if area_path:
        query = query.where(AdminAction.area_path.startswith(area_path, autoescape=True))
    if action:
        query = query.where(AdminAction.action.startswith(action, autoescape=True))
    if actor_id is not None:
        query = query.where(AdminAction.actor_id == actor_id)
    if since is not None:
        query = query.where(AdminAction.at >= since)
    if until is not None:
        query = query.where(AdminAction.at < until)
    return list((await session.scalars(query.limit(limit).offset(offset))).all())
