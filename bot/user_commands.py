"""`huhuqing users grant | revoke | list`: who is a cadre or an admin, and for which area."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.region_arg import named_region
from db.models import Role, User
from db.regions import RegionRepo
from db.users import UserRepo
from grievances import roles
from grievances.roles import Announcer, Refusal, RoleChange, RoleRefused

CLI_ORIGIN = "cli"  # the admin action log's name for the command line (its actor is None)
# The rules' refusals in the command line's own words, where they are about its options.
CLI_WORDING = {
    Refusal.NEEDS_AREA: "a cadre needs --region: their township, county or city (code or name)",
    Refusal.VILLAGE_AREA: "--region {code} is a village; a {role}'s area is a township or above "
    "(the village's township: {parent})",
    Refusal.NO_ROLE: "user {id} is not a cadre or admin: nothing to revoke",
}


def _refusal(refused: RoleRefused) -> ValueError:
    wording = CLI_WORDING.get(refused.reason)
    return ValueError(wording.format(**refused.values) if wording else refused.english())


async def grant(
    session: AsyncSession,
    telegram_id: int,
    role: str,
    region: str | None,
    out: TextIO,
    announce: Announcer | None = None,
) -> None:
    """A cadre's area is a township or above; an admin without one handles everything. The
    rules are the bot's (grievances/roles.py), for an operator who may grant anything."""
    area = await named_region(session, region) if region else None
    if role == Role.VILLAGER and area is not None:
        raise ValueError("a villager has no area: leave out --region")
    try:
        change = await roles.grant(
            session, None, CLI_ORIGIN, telegram_id, role, area.code if area else None, announce
        )
    except RoleRefused as refused:
        raise _refusal(refused) from None
    if change.revoked:
        _print_revoked(change, out)
        return
    where = await _area_name(session, change.area_code)
    print(f"user {telegram_id} is now {role} for {where}", file=out)


async def revoke(
    session: AsyncSession, telegram_id: int, out: TextIO, announce: Announcer | None = None
) -> None:
    """Back to villager, with no area, signed out of the console; their cases stay with their
    unit."""
    try:
        change = await roles.revoke(session, None, CLI_ORIGIN, telegram_id, announce)
    except RoleRefused as refused:
        raise _refusal(refused) from None
    _print_revoked(change, out)


def _print_revoked(change: RoleChange, out: TextIO) -> None:
    former = f"{change.former_role} for {change.former_area or 'everything'}"
    print(f"user {change.user_id} is a villager again (was {former})", file=out)


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
