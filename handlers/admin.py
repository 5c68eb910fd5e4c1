"""Admins: /grant and /revoke roles, /linkgroup a unit's group chat, /stats, /unanswered."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import refresh_user_menu
from bot.role_notice import ROLE_NAMES, RoleAnnouncer
from db.knowledge import KnowledgeRepo
from db.models import Role, UnansweredQuestion, User, utcnow
from db.regions import RegionRepo
from db.users import UserRepo
from grievances import roles as roles_rule
from grievances.chart import SERIES, stats_png
from grievances.roles import (
    MESSAGES,
    Refusal,
    RoleChange,
    RoleRefused,
    may_manage_roles,
    parse_user_id,
    within_area,
)
from grievances.stats import DEFAULT_DAYS, Period, TownshipStats, area_stats
from handlers.access import may_see_stats
from handlers.cases import answer_long, may_list_here
from knowledge.normalize import compact
from knowledge.service import KnowledgeBase

UNANSWERED_SCAN = 500
UNANSWERED_SHOWN = 20
BOT_ORIGIN = "bot"  # how the admin action log names an action sent to the bot


def create_router() -> Router:
    router = Router(name="admin")
    router.message.register(grant, Command("grant"))
    router.message.register(revoke, Command("revoke"))
    router.message.register(link_group, Command("linkgroup"))
    router.message.register(show_stats, Command("stats"))
    router.message.register(show_unanswered, Command("unanswered"))
    return router


def _is_admin(account: User) -> bool:
    return account.role == Role.ADMIN


async def update_menu(
    bot: Bot, i18n: I18n, user: User, regions: RegionRepo, seen_locale: str | None = None
) -> None:
    """Give the user's chat the command menu of the role they have now."""
    area = await regions.get(user.area_code) if user.area_code else None
    stats = may_see_stats(user, area.level if area else None)
    await refresh_user_menu(bot, i18n, user, stats, seen_locale)


def _explain(refused: RoleRefused) -> str:
    """The rule's refusal in the admin's language (user-typed values escaped for HTML)."""
    values = {name: escape(str(value)) for name, value in refused.values.items()}
    return _(refused.message).format(**values)


async def grant(
    message: Message,
    command: CommandObject,
    account: User,
    users: UserRepo,
    regions: RegionRepo,
    session: AsyncSession,
    bot: Bot,
    i18n: I18n,
) -> None:
    """/grant TELEGRAM_ID cadre|admin|villager [REGION_CODE]"""
    if not may_manage_roles(account):
        await message.answer(_(MESSAGES[Refusal.NOT_ADMIN]))
        return
    parts = (command.args or "").split()
    roles = {role.value for role in Role}
    user_id = parse_user_id(parts[0]) if parts else None
    if len(parts) not in (2, 3) or user_id is None or parts[1] not in roles:
        await message.answer(_("Usage: /grant TELEGRAM_ID cadre|admin|villager REGION_CODE"))
        return
    area = parts[2] if len(parts) == 3 else None
    try:
        announce = RoleAnnouncer(i18n.default_locale)
        change = await roles_rule.grant(
            session, account, BOT_ORIGIN, user_id, parts[1], area, announce
        )
    except RoleRefused as refused:
        await message.answer(_explain(refused))
        return
    await _announce(message, change, users, regions, bot, i18n)


async def revoke(
    message: Message,
    command: CommandObject,
    account: User,
    users: UserRepo,
    regions: RegionRepo,
    session: AsyncSession,
    bot: Bot,
    i18n: I18n,
) -> None:
    """/revoke TELEGRAM_ID: the user's role ends; they are a villager again."""
    if not may_manage_roles(account):
        await message.answer(_(MESSAGES[Refusal.NOT_ADMIN]))
        return
    parts = (command.args or "").split()
    user_id = parse_user_id(parts[0]) if len(parts) == 1 else None
    if user_id is None:
        await message.answer(_("Usage: /revoke TELEGRAM_ID — the user becomes a villager again."))
        return
    try:
        announce = RoleAnnouncer(i18n.default_locale)
        change = await roles_rule.revoke(session, account, BOT_ORIGIN, user_id, announce)
    except RoleRefused as refused:
        await message.answer(_explain(refused))
        return
    await _announce(message, change, users, regions, bot, i18n)


async def _announce(
    message: Message,
    change: RoleChange,
    users: UserRepo,
    regions: RegionRepo,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Give the user the menu of their new role and tell the admin what changed."""
    user = await users.get(change.user_id)
    assert user is not None  # the change was just committed
    await update_menu(bot, i18n, user, regions)
    if change.revoked:
        text = _(
            "User {id} is no longer {role}: they are a villager now, and see no cases or "
            "households. Their open cases stay with their unit."
        ).format(id=change.user_id, role=_(ROLE_NAMES[change.former_role]))
    else:
        area = change.area_code
        text = _("User {id} is now {role} for {area}.").format(
            id=change.user_id,
            role=_(ROLE_NAMES[change.role]),
            area=escape(await regions.full_name(area)) if area else _("everything"),
        )
    await message.answer(text)


async def link_group(
    message: Message, command: CommandObject, account: User, session: AsyncSession
) -> None:
    """/linkgroup REGION_CODE, sent by an admin inside the unit's group chat (which proves
    they are in it)."""
    if not may_manage_roles(account):
        await message.answer(_(MESSAGES[Refusal.NOT_ADMIN]))
        return
    if message.chat.type not in ("group", "supergroup"):
        await message.answer(_("Send this inside the township's group chat."))
        return
    code = (command.args or "").strip()
    try:
        unit = await roles_rule.link_group(session, account, BOT_ORIGIN, code, message.chat.id)
    except RoleRefused as refused:
        await message.answer(_explain(refused))
        return
    await message.answer(
        _("This group now receives the cases of {unit}.").format(unit=escape(unit))
    )


def not_here() -> str:
    return _("Ask for this in a private chat with me, or in your unit's own group.")


def stats_text(rows: list[TownshipStats], days: int) -> str:
    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    lines = [_("Cases of the last {days} days, per township:").format(days=days)]
    for number, row in enumerate(rows, start=1):
        lines.append(
            f"{number}. {escape(row.township)}: "
            + _("cases: {cases}, overdue now: {overdue}").format(
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
    period = Period.last_days(DEFAULT_DAYS, now)
    rows = (await area_stats(session, account.area_code, period, now)).townships
    if not rows:
        await message.answer(_("No cases in the last {days} days.").format(days=DEFAULT_DAYS))
        return
    chart = BufferedInputFile(stats_png(rows), filename="stats.png")
    text = stats_text(rows, DEFAULT_DAYS)
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
    kinds = {
        "unsure": _("not sure"),
        "out_of_scope": _("not found"),
        "particular": _("a name, number, place or day"),
    }
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
