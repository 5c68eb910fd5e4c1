"""Helper cadres: /households (their area's, or /households mine: those whose helper phone is
theirs), most urgent first; /household NUMBER and its button: one household in full. Admins:
/audit [NUMBER], who looked at their area's households. A household outside the cadre's area is
"not found", worded as for a number that does not exist, however it is asked for; every view is
written to the audit log (db/audit.py), refusals are not."""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import suppress
from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import split_text
from bot.role_notice import ROLE_NAMES
from db import audit
from db.audit import ViewAction
from db.cadre_households import Attention, CadreHouseholdRepo, phone_digits
from db.household_template import HouseholdData
from db.households import HouseholdRepo, data_of
from db.models import Household, Role, User
from db.regions import RegionRepo
from handlers.access import area_path, household_in_area
from handlers.ask import localized
from handlers.filters import PRIVATE
from handlers.household_visits import VisitStart, local_today
from handlers.households import household_label
from handlers.notices import category_name, local_time
from handlers.own_household import (
    enumeration,
    render_measures,
    render_overview,
    render_policies,
    separators,
)
from knowledge.eligibility import gaps
from knowledge.entries import Entry
from knowledge.households import MemberFlag
from knowledge.service import KnowledgeBase

PAGE_SIZE = 10
MAX_PAGE = 10_000
LAST_VISITS = 3
VISIT_NOTE_SHOWN = 100
AUDIT_SHOWN = 30
MINE = ("mine", "我的")
ACTION_NAMES = {
    ViewAction.VIEW: __("viewed"),
    ViewAction.LIST: __("listed"),
    ViewAction.VISIT: __("visit recorded"),
    ViewAction.BINDINGS: __("linked accounts viewed"),
    ViewAction.BINDCODE: __("binding code created"),
    ViewAction.EXPORT: __("exported"),
}


class HouseholdsPage(CallbackData, prefix="hhp"):
    """A page of /households; ``phone``: only the households this helper phone helps."""

    page: int
    phone: str = ""


class HouseholdShow(CallbackData, prefix="hhs"):
    household_id: int


class HelperPhone(StatesGroup):
    waiting = State()  # for the cadre's own contact, shared by the button


def create_router() -> Router:
    router = Router(name="cadre_households")
    router.message.register(list_households, Command("households"))
    router.callback_query.register(list_page, HouseholdsPage.filter())
    router.message.register(shared_phone, StateFilter(HelperPhone.waiting), F.contact, PRIVATE)
    router.message.register(show_household, Command("household"))
    router.callback_query.register(show_by_button, HouseholdShow.filter())
    router.message.register(show_audit, Command("audit"))
    return router


async def _refused(account: User, regions: RegionRepo, private: bool) -> str | None:
    """Why this user may not see households here, or None when they may."""
    if not private:
        return _("Please ask me for this in a private chat.")
    if await area_path(account, regions) is None:
        return _("Only township and county cadres can do this.")
    return None


def _private(query: CallbackQuery) -> bool:
    return isinstance(query.message, Message) and query.message.chat.type == "private"


# The list


async def list_households(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    if refusal := await _refused(account, regions, message.chat.type == "private"):
        await message.answer(refusal)
        return
    argument = (command.args or "").strip().lower()
    if argument in MINE:
        await state.set_state(HelperPhone.waiting)
        button = KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)
        await message.answer(
            _(
                "To find the households you help, I look for your phone number among the "
                "helpers' phones in the registry. Tap the button below to share it."
            ),
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True
            ),
        )
        return
    if argument:
        await message.answer(
            _("Send /households for your area's households, or /households mine for yours.")
        )
        return
    await _answer_first_page(message, account, regions, session, knowledge, i18n, "")


async def shared_phone(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    contact = message.contact
    sender = message.from_user
    phone = phone_digits(contact.phone_number) if contact else ""
    if contact is None or sender is None or contact.user_id != sender.id or len(phone) < 7:
        await message.answer(_("Please share your own number with the button below."))
        return
    await state.clear()
    if refusal := await _refused(account, regions, private=True):
        await message.answer(refusal, reply_markup=ReplyKeyboardRemove())
        return
    await message.answer(_("Thank you."), reply_markup=ReplyKeyboardRemove())
    await _answer_first_page(message, account, regions, session, knowledge, i18n, phone[:15])


async def _answer_first_page(
    message: Message,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
    phone: str,
) -> None:
    page = await _page(account, regions, session, knowledge, i18n.current_locale, 0, phone)
    if page is not None:  # the first page always exists
        await message.answer(page[0], reply_markup=page[1])


async def list_page(
    query: CallbackQuery,
    callback_data: HouseholdsPage,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    if refusal := await _refused(account, regions, _private(query)):
        await query.answer(refusal, show_alert=True)
        return
    phone, page = callback_data.phone, callback_data.page
    if (phone and not (phone.isascii() and phone.isdecimal() and 7 <= len(phone) <= 15)) or not (
        0 <= page <= MAX_PAGE
    ):
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    result = await _page(account, regions, session, knowledge, i18n.current_locale, page, phone)
    if result is None:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # the same page again: nothing to change
            await query.message.edit_text(result[0], reply_markup=result[1])


async def _page(
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    locale: str,
    page: int,
    phone: str,
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """One page of the list, written to the audit log; None for a page past the end."""
    area = await area_path(account, regions) or ""
    repo = CadreHouseholdRepo(session)
    helper_phone = phone or None
    total = await repo.count(area, helper_phone)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page >= pages:
        return None
    if total == 0:
        if phone:
            return _(
                "No household in your area lists your phone number among its helpers. "
                "/households shows all of your area."
            ), None
        return _("No households are registered in your area."), None
    items = await repo.attention_page(
        area, local_today(), page * PAGE_SIZE, PAGE_SIZE, helper_phone
    )
    entries = (await knowledge.index()).entries
    households = HouseholdRepo(session)
    lines = [
        (
            _("Households you help: {total}.") if phone else _("Households in your area: {total}.")
        ).format(total=total)
        + "\n"
        + _("Page {page} of {pages}, most urgent first.").format(page=page + 1, pages=pages)
    ]
    keyboard = InlineKeyboardBuilder()
    for index, item in enumerate(items, start=page * PAGE_SIZE + 1):
        missing = gaps(await households.profile(item.household), entries)
        label = await household_label(item.household, regions, locale)
        lines.append(f"\n{index}. <b>{escape(item.household.number)}</b> {label}")
        lines.append("    " + " · ".join(_tags(item, [g.benefit for g in missing], locale)))
        keyboard.button(
            text=str(index), callback_data=HouseholdShow(household_id=item.household.id)
        )
    navigation = []
    if page > 0:
        navigation.append(("◀", page - 1))
    if page + 1 < pages:
        navigation.append(("▶", page + 1))
    for arrow, target in navigation:
        keyboard.button(text=arrow, callback_data=HouseholdsPage(page=target, phone=phone))
    rows = [5] * math.ceil(len(items) / 5)
    if navigation:
        rows.append(len(navigation))
    keyboard.adjust(*rows)
    lines.append("\n" + _("Tap a number to open the household."))
    await audit.record(
        session,
        [item.household for item in items],
        audit.viewer_of(account),
        account.role,
        ViewAction.LIST,
    )
    return "\n".join(lines), keyboard.as_markup()


def _tags(item: Attention, missing: list[str], locale: str) -> list[str]:
    """What needs doing, shortest first in the brief's order of urgency."""
    tags = []
    if item.loan_overdue:
        tags.append(_("💰 loan overdue since {day}").format(day=item.loan_due.isoformat()))
    elif item.loan_due is not None:
        tags.append(_("💰 loan due {day}").format(day=item.loan_due.isoformat()))
    if item.open_changes:
        tags.append(_("📝 change reports: {count}").format(count=item.open_changes))
    if missing:
        benefits = enumeration(locale).join(localized(benefit, locale) for benefit in missing)
        tags.append(_("🔎 may lack: {benefits}").format(benefits=escape(benefits)))
    if item.last_visit is None:
        tags.append(_("🚶 never visited"))
    elif item.visit_overdue:
        tags.append(_("🚶 last visit {day}").format(day=item.last_visit.isoformat()))
    return tags or [_("✅ nothing due")]


# One household


async def show_household(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    if refusal := await _refused(account, regions, message.chat.type == "private"):
        await message.answer(refusal)
        return
    if not command.args:
        await message.answer(
            _("Give the household's number, for example: /{command} NUMBER").format(
                command=command.command
            )
        )
        return
    household = await household_in_area(account, regions, session, command.args[:100])
    if household is None:
        await message.answer(_("Household not found."))
        return
    await _send_view(message, household, account, regions, session, knowledge, i18n)


async def show_by_button(
    query: CallbackQuery,
    callback_data: HouseholdShow,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    if refusal := await _refused(account, regions, _private(query)):
        await query.answer(refusal, show_alert=True)
        return
    area = await area_path(account, regions) or ""
    household = await CadreHouseholdRepo(session).in_area(area, callback_data.household_id)
    if household is None:
        await query.answer(_("Household not found."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _send_view(query.message, household, account, regions, session, knowledge, i18n)


async def _send_view(
    message: Message,
    household: Household,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    entries = (await knowledge.index()).entries
    text = await _view(household, regions, session, entries, i18n.current_locale)
    await audit.record(
        session, [household], audit.viewer_of(account), account.role, ViewAction.VIEW
    )
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("📝 Record a visit"), callback_data=VisitStart(household_id=household.id)
    )
    pieces = split_text(text)
    for number, piece in enumerate(pieces, start=1):
        await message.answer(
            piece, reply_markup=keyboard.as_markup() if number == len(pieces) else None
        )


async def _view(
    household: Household,
    regions: RegionRepo,
    session: AsyncSession,
    entries: Iterable[Entry],
    locale: str,
) -> str:
    data = data_of(household)
    profile = await HouseholdRepo(session).profile(household)
    repo = CadreHouseholdRepo(session)
    number = escape(household.number)
    parts = [
        "<b>"
        + _("Household {number}: {household}").format(
            number=number, household=await household_label(household, regions, locale)
        )
        + "</b>",
        render_overview(data, locale) + "\n" + _members(data, locale),
        render_measures(data, locale, for_cadre=True),
        render_policies(data, profile, entries, locale, for_cadre=True),
    ]
    cases = await repo.open_cases(household)
    lines = ["<b>" + _("Open cases about it: {count}").format(count=len(cases)) + "</b>"]
    lines += [
        f"• {case.number} {escape(category_name(case.category, locale))} · "
        + _("reported {time}").format(time=local_time(case.created_at))
        + f" (/case {case.number})"
        for case in cases
    ]
    parts.append("\n".join(lines))
    parts.append(
        _("Linked accounts: {count} (/bindings {number})").format(
            count=await repo.bindings(household), number=number
        )
    )
    visits = data.visits[-LAST_VISITS:][::-1]
    lines = ["<b>" + (_("Last visits:") if visits else _("No visit recorded.")) + "</b>"]
    for visit in visits:
        line = f"• {visit.on.isoformat()} {escape(localized('、'.join(visit.checklist), locale))}"
        if visit.by:
            line += f" ({escape(visit.by)})"
        if visit.note:
            note = visit.note[:VISIT_NOTE_SHOWN] + (
                "…" if len(visit.note) > VISIT_NOTE_SHOWN else ""
            )
            line += f"{separators(locale)[0]}{escape(localized(note, locale))}"
        lines.append(line)
    parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _members(data: HouseholdData, locale: str) -> str:
    """Who lives in the household: relation, age band and flags, never a name."""
    colon, _comma, semicolon = separators(locale)
    people = [
        " · ".join(
            part
            for part in (
                member.relation,
                member.age_band,
                "、".join(flag for flag in MemberFlag if flag in member.flags),
            )
            if part
        )
        for member in data.members
    ]
    listed = escape(localized(semicolon.join(people), locale)) or _("not recorded")
    label = _("Members")
    return f"<b>{label}</b>{colon}{listed}"


# The audit log


async def show_audit(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    """/audit [NUMBER]: the newest views of the admin's area (of one household)."""
    area = await area_path(account, regions)
    if account.role != Role.ADMIN or area is None:
        await message.answer(_("Only administrators can do this."))
        return
    if message.chat.type != "private":
        await message.answer(_("Please ask me for this in a private chat."))
        return
    number = (command.args or "").strip()[:40] or None
    rows = await audit.views_in_area(session, area, number=number, limit=AUDIT_SHOWN)
    if not rows:
        await message.answer(_("No household views recorded."))
        return
    if number:
        head = _("Views of household {number}, newest first:").format(number=escape(number))
    else:
        head = _("Household views in your area, newest first:")
    lines = [head]
    for row in rows:
        role = _(ROLE_NAMES.get(row.viewer_role, row.viewer_role))  # type: ignore[call-overload]
        action = ACTION_NAMES.get(row.action, row.action)  # type: ignore[call-overload]
        lines.append(
            f"• {local_time(row.at)} {escape(row.viewer)} ({escape(str(role))}) "
            f"{escape(str(action))} {escape(row.household_number)}"
        )
    for piece in split_text("\n".join(lines)):
        await message.answer(piece)
