"""Admins: /grant and /revoke roles, /linkgroup a unit's group chat, /stats, /unanswered."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import refresh_user_menu
from db.knowledge import KnowledgeRepo
from db.models import RegionLevel, Role, UnansweredQuestion, UnitChat, User, utcnow
from db.regions import RegionRepo
from db.users import UserRepo
from grievances.chart import SERIES, stats_png
from grievances.stats import TownshipStats, township_stats, townships_under
from handlers.cases import answer_long, may_list_here
from knowledge.normalize import compact
from knowledge.service import KnowledgeBase

STATS_DAYS = 30
UNANSWERED_SCAN = 500
UNANSWERED_SHOWN = 20
MAX_TELEGRAM_ID = 2**63 - 1  # a BIGINT: a larger (forged) id never reaches the database


def create_router() -> Router:
    router = Router(name="admin")
    router.message.register(grant, Command("grant"))
    router.message.register(revoke, Command("revoke"))
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


async def update_menu(
    bot: Bot, i18n: I18n, user: User, regions: RegionRepo, seen_locale: str | None = None
) -> None:
    """Give the user's chat the command menu of the role they have now."""
    area = await regions.get(user.area_code) if user.area_code else None
    stats = may_see_stats(user, area.level if area else None)
    await refresh_user_menu(bot, i18n, user, stats, seen_locale)


def _user_id(text: str) -> int | None:
    """A Telegram id as typed, or None for anything else (a larger, forged id included)."""
    if not (text.isascii() and text.isdecimal()) or int(text) > MAX_TELEGRAM_ID:
        return None
    return int(text)


async def grant(
    message: Message,
    command: CommandObject,
    account: User,
    users: UserRepo,
    regions: RegionRepo,
    bot: Bot,
    i18n: I18n,
) -> None:
    """/grant TELEGRAM_ID cadre|admin|villager [REGION_CODE]"""
    if not _is_admin(account):
        await message.answer(_("Only administrators can do this."))
        return
    parts = (command.args or "").split()
    roles = {role.value for role in Role}
    user_id = _user_id(parts[0]) if parts else None
    if len(parts) not in (2, 3) or user_id is None or parts[1] not in roles:
        await message.answer(_("Usage: /grant TELEGRAM_ID cadre|admin|villager REGION_CODE"))
        return
    if parts[1] == Role.VILLAGER:
        await _take_back(message, account, users, regions, bot, i18n, user_id)
        return
    area = parts[2] if len(parts) == 3 else None
    if parts[1] == Role.CADRE and area is None:
        await message.answer(_("A cadre needs the code of their township or county."))
        return
    region = await regions.get(area) if area is not None else None
    if area is not None and region is None:
        await message.answer(_("No region has the code {code}.").format(code=escape(area)))
        return
    if region is not None and region.level == RegionLevel.VILLAGE:
        await message.answer(
            _("A cadre's or administrator's area is a township or above, not a village.")
        )
        return
    target = await users.get(user_id)
    target_area_ok = (
        target is None
        or target.role == Role.VILLAGER
        or await within_area(account, target.area_code, regions)
    )
    if not target_area_ok or not await within_area(account, area, regions):
        await message.answer(_("You can only grant roles within your own area."))
        return
    granted = await users.grant(user_id, Role(parts[1]), area)
    await update_menu(bot, i18n, granted, regions)
    await message.answer(
        _("User {id} is now {role} for {area}.").format(
            id=user_id,
            role=ROLE_NAMES[Role(parts[1])],
            area=escape(await regions.full_name(area)) if area else _("everything"),
        )
    )


async def revoke(
    message: Message,
    command: CommandObject,
    account: User,
    users: UserRepo,
    regions: RegionRepo,
    bot: Bot,
    i18n: I18n,
) -> None:
    """/revoke TELEGRAM_ID: the user's role ends; they are a villager again."""
    if not _is_admin(account):
        await message.answer(_("Only administrators can do this."))
        return
    parts = (command.args or "").split()
    user_id = _user_id(parts[0]) if len(parts) == 1 else None
    if user_id is None:
        await message.answer(_("Usage: /revoke TELEGRAM_ID — the user becomes a villager again."))
        return
    await _take_back(message, account, users, regions, bot, i18n, user_id)


async def _take_back(
    message: Message,
    account: User,
    users: UserRepo,
    regions: RegionRepo,
    bot: Bot,
    i18n: I18n,
    user_id: int,
) -> None:
    """Make a cadre or administrator of the admin's area a villager, and say what that means."""
    target = await users.get(user_id)
    if target is None or target.role == Role.VILLAGER:
        await message.answer(
            _(
                "User {id} has no role to take back: villagers need no grant, everyone who "
                "writes to me is one. /grant gives a cadre or administrator role."
            ).format(id=user_id)
        )
        return
    if user_id == account.telegram_id:
        await message.answer(_("You cannot take back your own role; ask another administrator."))
        return
    if not await within_area(account, target.area_code, regions):
        await message.answer(_("You can only grant or take back roles within your own area."))
        return
    role = ROLE_NAMES[Role(target.role)]
    revoked = await users.grant(user_id, Role.VILLAGER, None)
    await update_menu(bot, i18n, revoked, regions)
    await message.answer(
        _(
            "User {id} is no longer {role}: they are a villager now, and see no cases or "
            "households. Their open cases stay with their unit."
        ).format(id=user_id, role=role)
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
    message: Message,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
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
    ]  # fmt: skip
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
    for row, count in grouped(questions)[:UNANSWERED_SHOWN]:
        times = f" ×{count}" if count > 1 else ""
        lines.append(f"• {escape(row.text[:100])}{times} ({kinds.get(row.decision, row.decision)})")
    if disliked:
        index = await knowledge.index()
        lines += ["", _("Answers marked 👎 (question → the answer's question):")]
        for feedback, _region in disliked:
            entry = index.get(feedback.entry_id)
            named = entry.questions[0] if entry else feedback.entry_id
            lines.append(f"• {escape((feedback.question or '—')[:100])} → {escape(named)}")
    await answer_long(message, "\n".join(lines))


def grouped(rows: list[UnansweredQuestion]) -> list[tuple[UnansweredQuestion, int]]:
    """The same question asked again (up to punctuation, spaces and character set) once, with
    how often it was asked, in the order of its newest asking."""
    counts: dict[str, list] = {}
    for row in rows:
        key = compact(row.text) or row.text
        counts.setdefault(key, [row, 0])[1] += 1
    return [(row, count) for row, count in counts.values()]
