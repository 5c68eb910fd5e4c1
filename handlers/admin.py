"""Admins: /grant roles, /linkgroup a unit's group chat, /stats, /unanswered questions."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from db.knowledge import KnowledgeRepo
from db.models import RegionLevel, Role, UnitChat, User, utcnow
from db.regions import RegionRepo
from db.users import UserRepo
from grievances.chart import SERIES, stats_png
from grievances.stats import TownshipStats, township_stats, townships_under
from handlers.cases import answer_long, may_list_here

STATS_DAYS = 30
UNANSWERED_SCAN = 500
UNANSWERED_SHOWN = 20
MAX_TELEGRAM_ID = 2**63 - 1  # a BIGINT: a larger (forged) id never reaches the database


def create_router() -> Router:
    router = Router(name="admin")
    router.message.register(grant, Command("grant"))
    router.message.register(link_group, Command("linkgroup"))
    router.message.register(show_stats, Command("stats"))
    router.message.register(show_unanswered, Command("unanswered"))
    return router


ROLE_NAMES = {
    Role.VILLAGER: __("villager"),
    Role.CADRE: __("cadre"),
    Role.ADMIN: __("administrator"),
}


def _is_admin(account: User) -> bool:
    return account.role == Role.ADMIN


async def within_area(account: User, code: str | None, regions: RegionRepo) -> bool:
    """Whether an admin may act on this region: theirs or below it (everything, for an admin
    without an area). ``None`` stands for "everything" and only such an admin may give it."""
    if account.area_code is None:
        return True
    if code is None:
        return False
    return account.area_code in [region.code for region in await regions.path(code)]


async def grant(
    message: Message,
    command: CommandObject,
    account: User,
    users: UserRepo,
    regions: RegionRepo,
) -> None:
    """/grant TELEGRAM_ID cadre|admin|villager [REGION_CODE]"""
    if not _is_admin(account):
        await message.answer(_("Only administrators can do this."))
        return
    parts = (command.args or "").split()
    roles = {role.value for role in Role}
    if (
        len(parts) not in (2, 3)
        or not (parts[0].isascii() and parts[0].isdecimal())
        or int(parts[0]) > MAX_TELEGRAM_ID
        or parts[1] not in roles
    ):
        await message.answer(_("Usage: /grant TELEGRAM_ID cadre|admin|villager REGION_CODE"))
        return
    area = parts[2] if len(parts) == 3 else None
    if parts[1] == Role.CADRE and area is None:
        await message.answer(_("A cadre needs the code of their township or county."))
        return
    if area is not None and await regions.get(area) is None:
        await message.answer(_("No region has the code {code}.").format(code=escape(area)))
        return
    target = await users.get(int(parts[0]))
    target_area_ok = (
        target is None
        or target.role == Role.VILLAGER
        or await within_area(account, target.area_code, regions)
    )
    if not target_area_ok or not await within_area(account, area, regions):
        await message.answer(_("You can only grant roles within your own area."))
        return
    await users.grant(int(parts[0]), Role(parts[1]), area)
    await message.answer(
        _("User {id} is now {role} for {area}.").format(
            id=parts[0],
            role=ROLE_NAMES[Role(parts[1])],
            area=escape(await regions.full_name(area)) if area else _("everything"),
        )
    )


async def link_group(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    """/linkgroup REGION_CODE, sent by an admin inside the unit's group chat."""
    if not _is_admin(account):
        await message.answer(_("Only administrators can do this."))
        return
    if message.chat.type not in ("group", "supergroup"):
        await message.answer(_("Send this inside the township's group chat."))
        return
    code = (command.args or "").strip()
    unit = await regions.get(code) if code else None
    if unit is None or unit.level == RegionLevel.VILLAGE:
        await message.answer(_("Usage: /linkgroup TOWNSHIP_OR_COUNTY_CODE"))
        return
    if not await within_area(account, unit.code, regions):
        await message.answer(_("You can only link the units of your own area."))
        return
    link = await session.get(UnitChat, unit.code) or UnitChat(region_code=unit.code)
    link.chat_id = message.chat.id
    link.linked_by = account.telegram_id
    link.linked_at = utcnow()
    session.add(link)
    await session.commit()
    await message.answer(
        _("This group now receives the cases of {unit}.").format(
            unit=escape(await regions.full_name(unit.code))
        )
    )


def not_here() -> str:
    return _("Ask for this in a private chat with me, or in your unit's own group.")


def may_see_stats(account: User, area_level: str | None) -> bool:
    if account.role == Role.ADMIN:
        return True
    county_or_above = {RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY}
    return account.role == Role.CADRE and area_level in county_or_above


def stats_text(rows: list[TownshipStats], days: int) -> str:
    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    lines = [_("Cases of the last {days} days, per township:").format(days=days)]
    for number, row in enumerate(rows, start=1):
        lines.append(
            f"{number}. {escape(row.township)}: "
            + _("{cases} cases, {overdue} overdue now").format(
                cases=row.cases, overdue=row.overdue_now
            )
            + " · "
            + " ".join(f"{square}{percent(getattr(row, name))}" for name, _colour, square in SERIES)
        )
    lines.append(
        _("🟦 accepted in time (响应率) 🟧 resolved (解决率) 🟩 resolved in time (按期办结率) "
          "🟥 satisfied (满意率)")
    )  # fmt: skip
    return "\n".join(lines)


async def show_stats(
    message: Message, account: User, regions: RegionRepo, session: AsyncSession
) -> None:
    area = await regions.get(account.area_code) if account.area_code else None
    if not may_see_stats(account, area.level if area else None):
        await message.answer(_("Only administrators and county cadres can see statistics."))
        return
    if not await may_list_here(account, message.chat, session):
        await message.answer(not_here())
        return
    now = utcnow()
    townships = await townships_under(session, account.area_code)
    rows = await township_stats(session, townships, now - timedelta(days=STATS_DAYS), now, now)
    if not rows:
        await message.answer(_("No cases in the last {days} days.").format(days=STATS_DAYS))
        return
    chart = BufferedInputFile(stats_png(rows), filename="stats.png")
    text = stats_text(rows, STATS_DAYS)
    await message.answer_photo(chart)
    await answer_long(message, text)


async def show_unanswered(
    message: Message, account: User, session: AsyncSession, regions: RegionRepo
) -> None:
    if not _is_admin(account):
        await message.answer(_("Only administrators can do this."))
        return
    if not await may_list_here(account, message.chat, session):
        await message.answer(not_here())
        return
    recent = await KnowledgeRepo(session).unanswered(limit=UNANSWERED_SCAN)
    questions = [
        row for row in recent
        if account.area_code is None
        or (row.region_code and await within_area(account, row.region_code, regions))
    ][:UNANSWERED_SHOWN]  # fmt: skip
    disliked = [
        (feedback, region) for feedback, region in
        await KnowledgeRepo(session).unhelpful(limit=UNANSWERED_SCAN)
        if account.area_code is None
        or (region and await within_area(account, region, regions))
    ][:UNANSWERED_SHOWN]  # fmt: skip
    if not questions and not disliked:
        await message.answer(_("No unanswered questions."))
        return
    kinds = {"unsure": _("not sure"), "out_of_scope": _("not found")}
    lines = [_("Questions the bot could not answer (newest first):")]
    lines += [
        f"• {escape(row.text[:100])} ({kinds.get(row.decision, row.decision)})" for row in questions
    ]
    if disliked:
        lines += ["", _("Answers marked 👎 (question → entry):")]
        lines += [
            f"• {escape((feedback.question or '—')[:100])} → {escape(feedback.entry_id)}"
            for feedback, _region in disliked
        ]
    await answer_long(message, "\n".join(lines))
