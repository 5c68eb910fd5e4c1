"""Who may give or take back a cadre's or administrator's role, and link a unit's group chat:
one rule for the bot's /grant, /revoke and /linkgroup, `huhuqing users grant | revoke` and the
web console's Users page. Every change is committed with its row in the admin action log.

No aiogram: a refusal carries an English msgid (marked with ``N_`` for the catalogs) and its
values; the bot and the console translate it, the command line prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.admin_log import record_action
from db.models import OutboxMessage, Region, RegionLevel, Role, UnitChat, User, utcnow
from db.outbox import ROLE
from db.regions import RegionRepo
from db.users import UserRepo
from db.web_access import end_sessions_of
from grievances.routing import unit_path

MAX_TELEGRAM_ID = 2**63 - 1  # a BIGINT: a larger (forged) id never reaches the database
GRANTED_ROLES = (Role.CADRE, Role.ADMIN)


def N_(message: str) -> str:
    """Marks a msgid for the catalogs (a keyword Babel knows); whoever shows it translates
    it."""
    return message


class Refusal(StrEnum):
    NOT_ADMIN = "not_admin"
    BAD_ID = "bad_id"
    BAD_ROLE = "bad_role"
    NEEDS_AREA = "needs_area"
    NO_REGION = "no_region"
    VILLAGE_AREA = "village_area"
    AREA_OUTSIDE = "area_outside"  # the area given is not the admin's own or below it
    USER_OUTSIDE = "user_outside"  # the user holds a role outside the admin's area
    NO_ROLE = "no_role"
    OWN_ROLE = "own_role"
    BAD_UNIT = "bad_unit"
    UNIT_OUTSIDE = "unit_outside"
    NOT_LINKED = "not_linked"


MESSAGES = {
    Refusal.NOT_ADMIN: N_("Only administrators can do this."),
    Refusal.BAD_ID: N_("{id} is not a Telegram id: a Telegram id is a whole number."),
    Refusal.BAD_ROLE: N_("A role is cadre or admin."),
    Refusal.NEEDS_AREA: N_("A cadre needs the code of their township or county."),
    Refusal.NO_REGION: N_("No region has the code {code}."),
    Refusal.VILLAGE_AREA: N_(
        "A cadre's or administrator's area is a township or above, not a village."
    ),
    Refusal.AREA_OUTSIDE: N_("You can only grant roles within your own area."),
    Refusal.USER_OUTSIDE: N_("You can only grant or take back roles within your own area."),
    Refusal.NO_ROLE: N_(
        "User {id} has no role to take back: villagers need no grant, everyone who "
        "writes to me is one. /grant gives a cadre or administrator role."
    ),
    Refusal.OWN_ROLE: N_(
        "You cannot change or take back your own role; ask another administrator."
    ),
    Refusal.BAD_UNIT: N_("Usage: /linkgroup TOWNSHIP_OR_COUNTY_CODE"),
    Refusal.UNIT_OUTSIDE: N_("You can only link the units of your own area."),
    Refusal.NOT_LINKED: N_("No group chat is linked to {code}."),
}


class RoleRefused(Exception):
    """What an admin asked for breaks a rule: ``message`` (a msgid) says which."""

    def __init__(self, reason: Refusal, **values: Any) -> None:
        self.reason = reason
        self.message = MESSAGES[reason]
        self.values = values
        super().__init__(self.english())

    def english(self) -> str:
        return self.message.format(**self.values)


@dataclass(frozen=True)
class RoleChange:
    """What a grant or a revocation did."""

    user_id: int
    role: Role
    area_code: str | None
    former_role: Role
    former_area: str | None

    @property
    def revoked(self) -> bool:
        return self.role == Role.VILLAGER


class Announcer(Protocol):
    def __call__(self, change: RoleChange, locale: str | None, area_name: str) -> str:
        """The notice telling the person of the change, in their locale (None: the default)."""


@dataclass(frozen=True)
class Area:
    """A region an admin may give as an area: its code and its full name."""

    code: str
    name: str


@dataclass(frozen=True)
class RoleHolder:
    telegram_id: int
    role: Role
    area_code: str | None
    area_name: str
    last_seen: datetime


@dataclass(frozen=True)
class GroupLink:
    region_code: str
    unit_name: str
    chat_id: int
    linked_by: int
    linked_at: datetime


def parse_user_id(text: str) -> int | None:
    """A Telegram id as typed, or None for anything else (a larger, forged id included)."""
    text = text.strip()
    if not (text.isascii() and text.isdecimal()) or not 0 < int(text) <= MAX_TELEGRAM_ID:
        return None
    return int(text)


def may_manage_roles(account: User | None) -> bool:
    """Admins (and the command line, ``None``) give and take back roles."""
    return account is None or account.role == Role.ADMIN


async def within_area(account: User | None, code: str | None, regions: RegionRepo) -> bool:
    """Whether an admin may act on this region: theirs or below it (everything, for an admin
    without an area or the command line). ``None`` stands for "everything" and only such an
    admin may give it."""
    if account is None or account.area_code is None:
        return True
    if code is None:
        return False
    return account.area_code in [region.code for region in await regions.path(code)]


async def area_path_of(regions: RegionRepo, code: str | None) -> str:
    """The path prefix the audit log files an action about this region under ("" for all)."""
    path = await regions.path(code) if code else []
    return unit_path(path) if path else ""


async def grant(
    session: AsyncSession,
    granter: User | None,
    origin: str,
    user_id: int,
    role: str,
    area_code: str | None,
    announce: Announcer | None = None,
) -> RoleChange:
    """Make the user a cadre or an admin of the area (a villager: take their role back).
    ``granter`` None is the command line. Committed with its audit row and, with ``announce``,
    the person's notice in the outbox; RoleRefused if a rule forbids it, and then nothing is
    changed."""
    if not may_manage_roles(granter):
        raise RoleRefused(Refusal.NOT_ADMIN)
    if not 0 < user_id <= MAX_TELEGRAM_ID:
        raise RoleRefused(Refusal.BAD_ID, id=user_id)
    if role == Role.VILLAGER:
        return await revoke(session, granter, origin, user_id, announce)
    if role not in GRANTED_ROLES:
        raise RoleRefused(Refusal.BAD_ROLE)
    regions = RegionRepo(session)
    area = await _granted_area(regions, Role(role), area_code)
    target = await UserRepo(session).get(user_id)
    if (
        target is not None
        and target.role in GRANTED_ROLES
        and not await within_area(granter, target.area_code, regions)
    ):
        raise RoleRefused(Refusal.USER_OUTSIDE)
    if not await within_area(granter, area.code if area else None, regions):
        raise RoleRefused(Refusal.AREA_OUTSIDE)
    if granter is not None and granter.telegram_id == user_id:
        raise RoleRefused(Refusal.OWN_ROLE)
    former_role = Role(target.role) if target else Role.VILLAGER
    former_area = target.area_code if target else None
    await UserRepo(session).set_role(user_id, Role(role), area.code if area else None)
    change = RoleChange(user_id, Role(role), area.code if area else None, former_role, former_area)
    await _log(session, granter, origin, "role.grant", change, change.area_code)
    await _tell(session, announce, change)
    await session.commit()
    return change


async def _granted_area(regions: RegionRepo, role: Role, code: str | None) -> Region | None:
    if code is None:
        if role == Role.CADRE:
            raise RoleRefused(Refusal.NEEDS_AREA)
        return None
    area = await regions.get(code)
    if area is None:
        raise RoleRefused(Refusal.NO_REGION, code=code)
    if area.level == RegionLevel.VILLAGE:
        raise RoleRefused(Refusal.VILLAGE_AREA, code=code, role=role, parent=area.parent_code)
    return area


async def revoke(
    session: AsyncSession,
    granter: User | None,
    origin: str,
    user_id: int,
    announce: Announcer | None = None,
) -> RoleChange:
    """Make a cadre or admin of the granter's area a villager again, and end their console
    sessions; their open cases stay with their unit. Committed with its audit row (and the
    person's notice, with ``announce``)."""
    if not may_manage_roles(granter):
        raise RoleRefused(Refusal.NOT_ADMIN)
    target = await UserRepo(session).get(user_id) if 0 < user_id <= MAX_TELEGRAM_ID else None
    if target is None or target.role not in GRANTED_ROLES:
        raise RoleRefused(Refusal.NO_ROLE, id=user_id)
    if granter is not None and granter.telegram_id == user_id:
        raise RoleRefused(Refusal.OWN_ROLE)
    if not await within_area(granter, target.area_code, RegionRepo(session)):
        raise RoleRefused(Refusal.USER_OUTSIDE)
    change = RoleChange(user_id, Role.VILLAGER, None, Role(target.role), target.area_code)
    await UserRepo(session).set_role(user_id, Role.VILLAGER, None)
    await end_sessions_of(session, user_id)
    await _log(session, granter, origin, "role.revoke", change, change.former_area)
    await _tell(session, announce, change)
    await session.commit()
    return change


async def _tell(session: AsyncSession, announce: Announcer | None, change: RoleChange) -> None:
    """Queue the person's notice; whoever sends it gives them their new command menu."""
    if announce is None:
        return
    user = await UserRepo(session).get(change.user_id)
    code = change.former_area if change.revoked else change.area_code
    area = await RegionRepo(session).full_name(code) if code else ""
    text = announce(change, user.locale if user else None, area)
    session.add(OutboxMessage(chat_id=change.user_id, text=text, kind=ROLE))


async def _log(
    session: AsyncSession,
    granter: User | None,
    origin: str,
    action: str,
    change: RoleChange,
    area_code: str | None,
) -> None:
    details = {
        "role": change.role.value,
        "area": change.area_code,
        "former_role": change.former_role.value,
        "former_area": change.former_area,
    }
    path = await area_path_of(RegionRepo(session), area_code)
    record_action(session, granter, origin, action, str(change.user_id), path, details)


async def grantable_areas(session: AsyncSession, granter: User) -> list[Area]:
    """The regions this admin may give as an area: theirs and every township or above below
    it (all of them for an admin without an area), by code."""
    regions = RegionRepo(session)
    if granter.area_code is None:
        level = [Area(region.code, region.name) for region in await regions.children(None)]
    else:
        own = await regions.get(granter.area_code)
        level = [Area(own.code, await regions.full_name(own.code))] if own else []
    found: list[Area] = []
    while level:
        found += level
        names = {area.code: area.name for area in level}
        children = await session.scalars(
            select(Region).where(
                Region.parent_code.in_(list(names)), Region.level != RegionLevel.VILLAGE
            )
        )
        level = [Area(child.code, names[child.parent_code] + child.name) for child in children]  # type: ignore[index]
    return sorted(found, key=lambda area: area.code)


async def holders_in_area(session: AsyncSession, area_path: str) -> list[RoleHolder]:
    """The cadres and admins whose area is at or below this path ("": everyone, those without
    an area included), by role and id."""
    regions = RegionRepo(session)
    holders = []
    for user in await UserRepo(session).with_roles(GRANTED_ROLES):
        if (await area_path_of(regions, user.area_code)).startswith(area_path):
            name = await regions.full_name(user.area_code) if user.area_code else ""
            holders.append(
                RoleHolder(user.telegram_id, Role(user.role), user.area_code, name, user.last_seen)
            )
    return holders


async def link_group(
    session: AsyncSession, admin: User, origin: str, unit_code: str, chat_id: int
) -> str:
    """Send the unit's cases to this group chat (the bot checked the admin wrote inside it).
    Committed with its audit row; returns the unit's full name."""
    if not may_manage_roles(admin):
        raise RoleRefused(Refusal.NOT_ADMIN)
    regions = RegionRepo(session)
    unit = await regions.get(unit_code) if unit_code else None
    if unit is None or unit.level == RegionLevel.VILLAGE:
        raise RoleRefused(Refusal.BAD_UNIT)
    if not await within_area(admin, unit.code, regions):
        raise RoleRefused(Refusal.UNIT_OUTSIDE)
    link = await session.get(UnitChat, unit.code) or UnitChat(region_code=unit.code)
    former = link.chat_id
    link.chat_id = chat_id
    link.linked_by = admin.telegram_id
    link.linked_at = utcnow()
    session.add(link)
    details = {"chat_id": chat_id, "former_chat_id": former}
    path = await area_path_of(regions, unit.code)
    record_action(session, admin, origin, "group.link", unit.code, path, details)
    await session.commit()
    return await regions.full_name(unit.code)


async def unlink_group(session: AsyncSession, admin: User, origin: str, unit_code: str) -> None:
    """The unit's group chat no longer receives its cases (its cadres still do, privately).
    Committed with its audit row."""
    if not may_manage_roles(admin):
        raise RoleRefused(Refusal.NOT_ADMIN)
    regions = RegionRepo(session)
    link = await session.get(UnitChat, unit_code)
    if link is None or not await within_area(admin, unit_code, regions):
        raise RoleRefused(Refusal.NOT_LINKED, code=unit_code)
    path = await area_path_of(regions, unit_code)
    details = {"chat_id": link.chat_id}
    record_action(session, admin, origin, "group.unlink", unit_code, path, details)
    await session.delete(link)
    await session.commit()


async def group_links_in_area(session: AsyncSession, area_path: str) -> list[GroupLink]:
    """The units' group chats at or below this path, by region code."""
    regions = RegionRepo(session)
    links = []
    for link in await session.scalars(select(UnitChat).order_by(UnitChat.region_code)):
        if (await area_path_of(regions, link.region_code)).startswith(area_path):
            name = await regions.full_name(link.region_code)
            links.append(
                GroupLink(link.region_code, name, link.chat_id, link.linked_by, link.linked_at)
            )
    return links
