"""Who may see which cases and households: a cadre's area, as a prefix of their paths."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.households import HouseholdRepo
from db.models import Household, RegionLevel, Role, User
from db.regions import RegionRepo
from grievances.routing import unit_path

HANDLER_ROLES = (Role.CADRE, Role.ADMIN)
COUNTY_OR_ABOVE = (RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY)


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


def may_see_stats(account: User, area_level: str | None) -> bool:
    """Statistics are for supervision: admins, and cadres of a county or above."""
    if account.role == Role.ADMIN:
        return True
    return account.role == Role.CADRE and area_level in COUNTY_OR_ABOVE


async def household_in_area(
    user: User, regions: RegionRepo, session: AsyncSession, number: str
) -> Household | None:
    """The household with this number if the user handles its village; None otherwise, so that
    a household outside the area looks exactly like one that does not exist."""
    area = await area_path(user, regions)
    if area is None:
        return None
    household = await HouseholdRepo(session).get(number.strip())
    if household is None or not household.region_path.startswith(area):
        return None
    return household
