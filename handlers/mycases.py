"""Villagers: /mycases and each case's own view (its messages to and from the unit, its outcome,
the buttons that apply now), adding information to an open case, and rating a resolved one."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db.cases import MAX_ID, CaseRepo
from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, CaseEvent, CaseStatus, User
from db.regions import RegionRepo
from grievances.service import CaseError, CaseService, Outcome, Rating, Renderer
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.keyboards import CaseAddInfo, CaseRate, CaseRateSkip, CaseView
from handlers.notices import OUTCOMES, RATINGS, STATUSES, category_name, due_date, local_date
from handlers.text_input import clean_text, visible_length

MAX_INFO = 2000
MAX_REASON = 500  # 不满意's reason: one short message
NOTE_SHOWN = 300  # characters of one message shown in a case's view
EVENTS_SHOWN = 20  # the latest messages of a case's view
MOVES = ("transferred", "escalated", "unstaffed", "reopened")


class VillagerInput(StatesGroup):
    information = State()
    reason = State()  # why 不满意, before the case reopens


def create_router() -> Router:
    router = Router(name="mycases")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)
    router.message.register(my_cases, Command("mycases"))
    router.callback_query.register(view_case, CaseView.filter())
    router.callback_query.register(ask_information, CaseAddInfo.filter())
    router.message.register(add_information, StateFilter(VillagerInput.information), PLAIN_TEXT)
    router.callback_query.register(rate_case, CaseRate.filter())
    router.message.register(give_reason, StateFilter(VillagerInput.reason), PLAIN_TEXT)
    router.callback_query.register(skip_reason, CaseRateSkip.filter())
    return router


async def _own_case(session: AsyncSession, account: User, case_id: int | str) -> Case | None:
    """The reporter's own case by id or tracking number; a forged id out of the database's
    range is simply not found."""
    if str(case_id).isdecimal() and not 0 < int(case_id) <= MAX_ID:
        return None
    return await CaseRepo(session).of_reporter(account.telegram_id, case_id)


async def my_cases(
    message: Message,
    command: CommandObject,
    account: User,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """The reporter's cases, each with a button to its view; `/mycases NUMBER` opens one."""
    if command.args:
        case = await _own_case(session, account, command.args.strip().upper())
        if case is None:
            await message.answer(_("Case not found."))
            return
        text, markup = await case_view(session, case, i18n.current_locale)
        await message.answer(text, reply_markup=markup)
        return
    cases = await CaseRepo(session).reported_by(account.telegram_id)
    if not cases:
        await message.answer(_("You have not reported anything yet. /report starts a report."))
        return
    lines = [_("Your reports:")]
    keyboard = InlineKeyboardBuilder()
    for case in cases:
        status = STATUSES.get(case.status, case.status)
        category = escape(category_name(case.category, i18n.current_locale))
        lines.append(
            "• "
            + _("<b>{number}</b> {category}: {status}").format(
                number=case.number, category=category, status=status
            )
            + _due_line(case)
        )
        keyboard.button(
            text=_("Open {number}").format(number=case.number),
            callback_data=CaseView(case_id=case.id),
        )
    keyboard.adjust(2)
    lines.append(_("Press a report to see its messages and what you can do."))
    await message.answer("\n".join(lines), reply_markup=keyboard.as_markup())


def _due_line(case: Case) -> str:
    if case.status in WAITING_STATUSES:
        return _(", to be accepted by {due}").format(due=due_date(case.accept_due))
    if case.status in OPEN_STATUSES:
        return _(", to be resolved by {due}").format(due=due_date(case.resolve_due))
    return ""


async def view_case(
    query: CallbackQuery,
    callback_data: CaseView,
    account: User,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    case = await _own_case(session, account, callback_data.case_id)
    if case is None:
        await query.answer(_("Case not found."), show_alert=True)
        return
    text, markup = await case_view(session, case, i18n.current_locale)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def case_view(
    session: AsyncSession, case: Case, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One case as its reporter sees it: what they reported, every message to and from the
    unit, the outcome, and the buttons that apply now. Never a cadre's name or id."""
    regions = RegionRepo(session)
    lines = [
        _("Case <b>{number}</b>: {category}").format(
            number=case.number, category=escape(category_name(case.category, locale))
        ),
        _("Handled by {unit}").format(unit=escape(await regions.full_name(case.unit_code))),
        _("Status: {status}").format(status=STATUSES.get(case.status, case.status))
        + _due_line(case),
        "",
        _("You reported: {text}").format(text=_short(case.description)),
    ]
    history = await _history(regions, case)
    if len(history) > EVENTS_SHOWN:
        history = ["…", *history[-EVENTS_SHOWN:]]
    lines.extend(history)
    keyboard = InlineKeyboardBuilder()
    if case.status in OPEN_STATUSES:
        keyboard.button(text=_("Add information"), callback_data=CaseAddInfo(case_id=case.id))
    elif case.status == CaseStatus.RESOLVED:
        lines += ["", _("Are you satisfied with how it was handled?")]
        lines.append(
            _("“Not satisfied” closes it: it was reopened once already.")
            if case.reopened
            else _("“Not satisfied” reopens it once, at the level above.")
        )
        for rating, label in RATINGS.items():
            keyboard.button(text=str(label), callback_data=CaseRate(case_id=case.id, rating=rating))
    else:
        lines += ["", _("This case is closed. /report starts a new report.")]
    keyboard.adjust(1)
    markup = keyboard.as_markup() if keyboard.buttons else None
    return "\n".join(lines), markup


def _short(text: str | None) -> str:
    text = text or ""
    return escape(text if len(text) <= NOTE_SHOWN else text[:NOTE_SHOWN] + "…")


async def _history(regions: RegionRepo, case: Case) -> list[str]:
    """The case's events a reporter may read, oldest first, each with its day and unit."""
    lines: list[str] = []
    names: dict[str, str] = {}
    unit = case.unit_code
    for event in sorted(case.events, key=lambda event: event.id):
        data = event.data or {}
        unit = data.get("to") or data.get("unit") or unit
        if unit not in names:
            names[unit] = escape(await regions.full_name(unit))
        text = _event_text(event, names[unit])
        if text:
            lines.append(f"{local_date(event.at)} {text}")
    return lines


def _event_text(event: CaseEvent, unit: str) -> str | None:
    """One event in the reporter's words; None for what is not theirs to see."""
    note = _short(event.note)
    kind = event.kind
    if kind == "accepted":
        return _("{unit} accepted it.").format(unit=unit)
    if kind == "replied":
        return _("{unit}: {text}").format(unit=unit, text=note)
    if kind == "info_requested":
        return _("{unit} asked: {text}").format(unit=unit, text=note)
    if kind == "info_added":
        return _("You added: {text}").format(text=note)
    if kind == "resolved":
        outcome = OUTCOMES.get(Outcome((event.data or {}).get("outcome", Outcome.FIXED)))
        text = _("{unit} handled it: {outcome}.").format(unit=unit, outcome=outcome)
        return f"{text}\n{note}" if note else text
    if kind in MOVES:
        return _("Passed to {unit}.").format(unit=unit)
    if kind == "rated":
        rating = RATINGS.get(Rating((event.data or {}).get("rating", Rating.SATISFIED)))
        text = _("You rated it: {rating}.").format(rating=rating)
        return (f"{text}\n" + _("Your reason: {text}").format(text=note)) if note else text
    if kind == "closed":
        return _("Closed.")
    return None


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


async def _typed_text(message: Message, limit: int) -> str | None:
    """The message's text, cleaned; None (after saying why) when empty or too long."""
    text = clean_text(message.text or "")
    if not visible_length(text):
        await message.answer(_("I could not read any words in that. Please type it again."))
        return None
    if len(text) > limit:
        await message.answer(
            _("That is too long: please keep it under {limit} characters.").format(limit=limit)
        )
        return None
    return text


async def add_information(
    message: Message,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    text = await _typed_text(message, MAX_INFO)
    if text is None:
        return
    case_id = (await state.get_data()).get("case_id", 0)
    await state.clear()
    case = await _own_case(session, account, case_id)
    try:
        if case is None:
            raise CaseError("not found")
        told = await CaseService(session, render, settings.default_locale).add_information(
            case, account, text
        )
    except CaseError:
        await message.answer(_("This case cannot take more information now."))
        return
    done = (
        _("Added to case {number}; the handlers are told.")
        if told
        else _("Added to case {number}. Nobody is registered to handle it yet: they will see it.")
    )
    await message.answer(done.format(number=case.number))


async def rate_case(
    query: CallbackQuery,
    callback_data: CaseRate,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    """满意/基本满意 rate at once; 不满意 that will reopen the case first asks for the reason."""
    case = await _own_case(session, account, callback_data.case_id)
    if case is None or callback_data.rating not in set(Rating):
        await query.answer(_("Case not found."), show_alert=True)
        return
    if case.status != CaseStatus.RESOLVED and case.rating == callback_data.rating:
        # A retried tap (its answer lost): the same answer, nothing rated twice.
        await query.answer(_("Thank you for your rating."))
        return
    if case.status != CaseStatus.RESOLVED:
        await query.answer(_("This case is not waiting for a rating now."), show_alert=True)
        return
    if callback_data.rating == Rating.UNSATISFIED and not case.reopened:
        await state.set_state(VillagerInput.reason)
        await state.update_data(case_id=case.id)
        await query.answer()
        if isinstance(query.message, Message):
            keyboard = InlineKeyboardBuilder()
            keyboard.button(text=_("Skip"), callback_data=CaseRateSkip(case_id=case.id))
            await query.message.answer(
                _(
                    "What was not right? Tell me in one short message; it goes to those who "
                    "handle case {number} again. Or press Skip."
                ).format(number=case.number),
                reply_markup=keyboard.as_markup(),
            )
        return
    service = CaseService(session, render, settings.default_locale)
    answer = await _rate(service, case, account, Rating(callback_data.rating))
    await query.answer(answer, show_alert=answer != _("Thank you for your rating."))


async def _rate(
    service: CaseService, case: Case, account: User, rating: Rating, reason: str | None = None
) -> str:
    """Rate the case; what to tell the reporter."""
    try:
        await service.rate(case, account, rating, reason)
    except CaseError:
        return _("This case is not waiting for a rating now.")
    return _("Thank you for your rating.")


async def give_reason(
    message: Message,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    text = await _typed_text(message, MAX_REASON)
    if text is None:
        return
    case_id = (await state.get_data()).get("case_id", 0)
    await state.clear()
    await message.answer(await _reopen(session, render, settings, account, case_id, text))


async def skip_reason(
    query: CallbackQuery,
    callback_data: CaseRateSkip,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    await state.clear()
    answer = await _reopen(session, render, settings, account, callback_data.case_id, None)
    await query.answer(answer, show_alert=True)


async def _reopen(
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
    account: User,
    case_id: int,
    reason: str | None,
) -> str:
    """不满意, with the reporter's reason or none."""
    case = await _own_case(session, account, case_id)
    if case is None:
        return _("Case not found.")
    if case.status != CaseStatus.RESOLVED and case.rating == Rating.UNSATISFIED:
        return _("Thank you for your rating.")  # a second tap on Skip
    service = CaseService(session, render, settings.default_locale)
    return await _rate(service, case, account, Rating.UNSATISFIED, reason)
