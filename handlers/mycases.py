"""Villagers: /mycases, adding information to an open case, and rating a resolved one."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db.cases import MAX_ID, CaseRepo
from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, CaseStatus, User
from grievances.service import CaseError, CaseService, Rating, Renderer
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.keyboards import CaseAddInfo, CaseRate
from handlers.notices import STATUSES, category_name, local_time
from handlers.text_input import clean_text, visible_length

MAX_INFO = 2000


class VillagerInput(StatesGroup):
    information = State()


def create_router() -> Router:
    router = Router(name="mycases")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)
    router.message.register(my_cases, Command("mycases"))
    router.callback_query.register(ask_information, CaseAddInfo.filter())
    router.message.register(add_information, StateFilter(VillagerInput.information), PLAIN_TEXT)
    router.callback_query.register(rate_case, CaseRate.filter())
    return router


async def _own_case(session: AsyncSession, account: User, case_id: int) -> Case | None:
    """The reporter's own case; a forged id out of the database's range is simply not found."""
    if not 0 < case_id <= MAX_ID:
        return None
    return await CaseRepo(session).of_reporter(account.telegram_id, case_id)


async def my_cases(message: Message, account: User, session: AsyncSession, i18n: I18n) -> None:
    cases = await CaseRepo(session).reported_by(account.telegram_id)
    if not cases:
        await message.answer(_("You have not reported anything yet. /report starts a report."))
        return
    lines = [_("Your reports:")]
    keyboard = InlineKeyboardBuilder()
    for case in cases:
        status = STATUSES.get(case.status, case.status)
        line = f"• <b>{case.number}</b> {escape(category_name(case.category, i18n.current_locale))}"
        line += f" — {status}"
        if case.status in WAITING_STATUSES:
            line += " · " + _("to be accepted by {due}").format(due=local_time(case.accept_due))
        elif case.status in OPEN_STATUSES:
            line += " · " + _("to be resolved by {due}").format(due=local_time(case.resolve_due))
        lines.append(line)
        if case.status in OPEN_STATUSES:
            keyboard.button(
                text=_("Add information to {number}").format(number=case.number),
                callback_data=CaseAddInfo(case_id=case.id),
            )
    keyboard.adjust(1)
    await message.answer("\n".join(lines), reply_markup=keyboard.as_markup())


async def ask_information(
    query: CallbackQuery,
    callback_data: CaseAddInfo,
    state: FSMContext,
    account: User,
    session: AsyncSession,
) -> None:
    case = await _own_case(session, account, callback_data.case_id)
    if case is None or case.status == CaseStatus.CLOSED:
        await query.answer(_("Case not found."), show_alert=True)
        return
    await state.set_state(VillagerInput.information)
    await state.update_data(case_id=case.id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Type what you want to add to case {number}. /cancel stops.").format(
                number=case.number
            )
        )


async def add_information(
    message: Message,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    text = clean_text(message.text or "")
    if not visible_length(text):
        await message.answer(_("I could not read any words in that. Please type it again."))
        return
    if len(text) > MAX_INFO:
        await message.answer(
            _("That is too long: please keep it under {limit} characters.").format(limit=MAX_INFO)
        )
        return
    case_id = (await state.get_data()).get("case_id", 0)
    await state.clear()
    case = await _own_case(session, account, case_id)
    try:
        if case is None:
            raise CaseError("not found")
        await CaseService(session, render, settings.default_locale).add_information(
            case, account, text
        )
    except CaseError:
        await message.answer(_("This case cannot take more information now."))
        return
    await message.answer(_("Added to case {number}; the handlers are told.").format(
        number=case.number
    ))  # fmt: skip


async def rate_case(
    query: CallbackQuery,
    callback_data: CaseRate,
    account: User,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    case = await _own_case(session, account, callback_data.case_id)
    if case is None or callback_data.rating not in set(Rating):
        await query.answer(_("Case not found."), show_alert=True)
        return
    if case.status != CaseStatus.RESOLVED and case.rating == callback_data.rating:
        # A retried tap (its answer lost): the same answer, nothing rated twice.
        await query.answer(_("Thank you for your rating."))
        return
    try:
        await CaseService(session, render, settings.default_locale).rate(
            case, account, Rating(callback_data.rating)
        )
    except CaseError:
        await query.answer(_("This case is not waiting for a rating now."), show_alert=True)
        return
    await query.answer(_("Thank you for your rating."))
