"""`huhuqing users grant | revoke | list`: who is a cadre or an admin, and for which area."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.region_arg import named_region
from db.models import RegionLevel, Role, User
from db.regions import RegionRepo
from db.users import UserRepo


async def grant(
    session: AsyncSession, telegram_id: int, role: str, region: str | None, out: TextIO
) -> None:
    """A cadre's area is a township or above; an admin without one handles everything."""
    area = await named_region(session, region) if region else None
    if role == Role.CADRE and area is None:
        raise ValueError("a cadre needs --region: their township, county or city (code or name)")
    if area is not None and RegionLevel(area.level).depth > RegionLevel.TOWNSHIP.depth:
        raise ValueError(
            f"--region {region} is a village; a {role}'s area is a township or above "
            f"(the village's township: {area.parent_code})"
        )
    if role == Role.VILLAGER and area is not None:
        raise ValueError("a villager has no area: leave out --region")
    await UserRepo(session).grant(telegram_id, Role(role), area.code if area else None)
    where = await _area_name(session, area.code if area else None)
    print(f"user {telegram_id} is now {role} for {where}", file=out)


async def revoke(session: AsyncSession, telegram_id: int, out: TextIO) -> None:
    """Back to villager, with no area; their cases stay with their unit."""
    former = await UserRepo(session).revoke(telegram_id)
    if former is None:
        raise ValueError(f"user {telegram_id} is not a cadre or admin: nothing to revoke")
    print(f"user {telegram_id} is a villager again (was {former})", file=out)


async def list_users(
    session: AsyncSession, role: str | None, region: str | None, out: TextIO
) -> None:
    """One user a line: id, role, area; cadres and admins unless --role says otherwise."""
    under = await named_region(session, region) if region else None
    roles = [Role(role)] if role else [Role.CADRE, Role.ADMIN]
    shown = 0
    for user in await UserRepo(session).with_roles(roles):
        if under is not None and not await _within(session, user, under.code):
            continue
        area = await _area_name(session, user.area_code)
        print(f"{user.telegram_id}\t{user.role}\t{user.area_code or '-'}\t{area}", file=out)
        shown += 1
    if not shown:
        print("no such users", file=out)


async def _within(session: AsyncSession, user: User, code: str) -> bool:
    if user.area_code is None:
        return False
    return any(region.code == code for region in await RegionRepo(session).path(user.area_code))


async def _area_name(session: AsyncSession, code: str | None) -> str:
    if code is None:
        return "everything"
    return await RegionRepo(session).full_name(code) or code
