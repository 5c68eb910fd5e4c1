"""Who may see which cases: a cadre's area, as a prefix of the cases' unit paths."""

from __future__ import annotations

from db.models import Role, User
from db.regions import RegionRepo
from grievances.routing import unit_path

HANDLER_ROLES = (Role.CADRE, Role.ADMIN)


async def area_path(user: User, regions: RegionRepo) -> str | None:
    """The path prefix of the cases this user may handle; None if they may handle none.

    An admin without an area sees everything (""); a cadre without an area sees nothing.
    """
    if user.role not in HANDLER_ROLES:
        return None
    if user.area_code is None:
        return "" if user.role == Role.ADMIN else None
    path = await regions.path(user.area_code)
    return unit_path(path) if path else None
