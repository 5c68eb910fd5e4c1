"""Cadres: /cases, /case N, and the buttons under a case — accept, reply, ask for information,
resolve, transfer. The case's message is kept up to date in place, with the buttons that apply
now. A case outside the cadre's area is "not found", whatever the way of asking."""

from __future__ import annotations

import time
from contextlib import suppress
from html import escape

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, ForceReply, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.outbox import split_text
from db.cases import CaseRepo
from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, RegionLevel, User, utcnow
from db.regions import RegionRepo
from db.users import UserRepo
from grievances.catalog import categories
from grievances.numbers import normalize_number
from grievances.service import Actor, CaseError, CaseService, Outcome, Renderer
from handlers.access import area_path
from handlers.case_screen import (
    case_keyboard,
    outcome_keyboard,
    screen_text,
    show_in_place,
    transfer_keyboard,
    why_not,
)
from handlers.filters import PLAIN_TEXT
from handlers.keyboards import CaseAction, CaseOutcome, CasesPage
from handlers.notices import category_name, local_time
from handlers.text_input import clean_text, visible_length

PAGE_SIZE = 5
GROUP_SCAN = 200  # open cases read at a time to leave complaints about cadres out of a group
MAX_PAGE = 10_000
MAX_NOTE = 2000
NOTE_WAIT_SECONDS = 30 * 60


class CadreInput(StatesGroup):
    note = State()  # the text of a reply, a question, a resolution note or a transfer reason


def create_router() -> Router:
    router = Router(name="cases")
    router.message.register(list_cases, Command("cases"))
    router.callback_query.register(list_cases_page, CasesPage.filter())
    router.message.register(show_case, Command("case"))
    router.callback_query.register(case_action, CaseAction.filter())
    router.callback_query.register(choose_outcome, CaseOutcome.filter())
    router.message.register(cadre_note, StateFilter(CadreInput.note), PLAIN_TEXT)
    return router


async def _case_in_area(
    account: User, regions: RegionRepo, session: AsyncSession, key: str | int
) -> Case | None:
    area = await area_path(account, regions)
    if area is None:
        return None
    return await CaseRepo(session).in_area(area, key)


async def list_cases(
    message: Message, account: User, regions: RegionRepo, session: AsyncSession, i18n: I18n
) -> None:
    if not await may_list_here(account, message.chat, session):
        await message.answer(not_here())
        return
    private = message.chat.type == "private"
    text, markup = await _cases_page(account, regions, session, 0, i18n.current_locale, private)
    await answer_long(message, text, markup)


async def list_cases_page(
    query: CallbackQuery,
    callback_data: CasesPage,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if not isinstance(query.message, Message) or not await may_list_here(
        account, query.message.chat, session
    ):
        await query.answer(not_here(), show_alert=True)
        return
    page = min(max(callback_data.page, 0), MAX_PAGE)
    private = query.message.chat.type == "private"
    text, markup = await _cases_page(account, regions, session, page, i18n.current_locale, private)
    # A second tap on the same page changes nothing, which Telegram reports as an error.
    with suppress(TelegramBadRequest):
        await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


async def _cases_page(
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    page: int,
    locale: str,
    private: bool,
) -> tuple[str, InlineKeyboardMarkup | None]:
    area = await area_path(account, regions)
    if area is None:
        return _("Only township and county cadres can see cases."), None
    cases, total = await _open_cases(CaseRepo(session), area, page, private)
    if total == 0:
        return _("No open cases in your area."), None
    now = utcnow()
    lines = [_("Open cases: {total}").format(total=total)]
    keyboard = InlineKeyboardBuilder()
    for case in cases:
        waiting = case.status in WAITING_STATUSES
        due = case.accept_due if waiting else case.resolve_due
        label = _("accept by {due}") if waiting else _("resolve by {due}")
        late = " ❗" + _("overdue") if due < now else ""
        place = await regions.full_name(case.place_code)
        lines.append(
            f"• <b>{case.number}</b> {escape(category_name(case.category, locale))} · "
            f"{escape(place)} · {label.format(due=local_time(due))}{late}"
        )
        keyboard.button(text=case.number, callback_data=CaseAction(case_id=case.id, action="show"))
    keyboard.adjust(PAGE_SIZE)
    navigation = []
    if page > 0:
        navigation.append(("◀", page - 1))
    if (page + 1) * PAGE_SIZE < total:
        navigation.append(("▶", page + 1))
    for label, target in navigation:
        keyboard.button(text=label, callback_data=CasesPage(page=target))
    if navigation:
        keyboard.adjust(PAGE_SIZE, len(navigation))
    return "\n".join(lines), keyboard.as_markup()


async def work_summary(
    account: User, regions: RegionRepo, session: AsyncSession, locale: str, private: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A cadre's open work, as /start shows it: how many cases are overdue, then the first page
    of the open ones, the most urgent first."""
    text, markup = await _cases_page(account, regions, session, 0, locale, private)
    area = await area_path(account, regions)
    if area is None:
        return text, markup
    overdue = await _overdue_count(CaseRepo(session), area, private)
    if overdue:
        text = _("❗ Overdue now: {count}").format(count=overdue) + "\n" + text
    return text, markup


async def _overdue_count(repo: CaseRepo, area: str, private: bool) -> int:
    """The open cases of the area past the deadline that counts now (in a group, without the
    complaints about cadres)."""
    now, count, offset, total = utcnow(), 0, 0, 1
    while offset < total:
        chunk, total = await repo.open_in_area(area, offset, GROUP_SCAN)
        count += sum(
            1
            for case in chunk
            if (private or not is_about_cadres(case))
            and (case.accept_due if case.status in WAITING_STATUSES else case.resolve_due) < now
        )
        offset += GROUP_SCAN
    return count


async def _open_cases(
    repo: CaseRepo, area: str, page: int, private: bool
) -> tuple[list[Case], int]:
    """A page of the area's open cases and their count; in a group, without the complaints
    about cadres (the accused may be reading)."""
    if private:
        return await repo.open_in_area(area, page * PAGE_SIZE, PAGE_SIZE)
    shown: list[Case] = []
    offset, total = 0, 1
    while offset < total:
        chunk, total = await repo.open_in_area(area, offset, GROUP_SCAN)
        shown += [case for case in chunk if not is_about_cadres(case)]
        offset += GROUP_SCAN
    return shown[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], len(shown)


async def answer_long(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """A reply of any length, in pieces under Telegram's limit; the buttons under the last."""
    pieces = split_text(text)
    for number, piece in enumerate(pieces, start=1):
        await message.answer(piece, reply_markup=reply_markup if number == len(pieces) else None)


async def show_case(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    users: UserRepo,
    i18n: I18n,
) -> None:
    if not command.args:
        await message.answer(_("Give the case number, for example: /case K7M-4QX"))
        return
    case = await _case_in_area(account, regions, session, normalize_number(command.args))
    if case is None:
        await message.answer(_("Case not found."))
        return
    if not await _may_show_here(case, message.chat, session):
        await message.answer(not_here())
        return
    await _send_screen(message, case, regions, users, i18n.current_locale)


async def _send_screen(
    message: Message, case: Case, regions: RegionRepo, users: UserRepo, locale: str
) -> None:
    """The case's whole screen as a new message (in pieces if long), its buttons under it."""
    text = await screen_text(case, regions, users, locale, limit=None)
    await answer_long(message, text, case_keyboard(case))


async def case_action(
    query: CallbackQuery,
    callback_data: CaseAction,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    users: UserRepo,
    render: Renderer,
    settings: Settings,
    i18n: I18n,
) -> None:
    case = await _case_in_area(account, regions, session, callback_data.case_id)
    if case is None:
        await query.answer(_("Case not found."), show_alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    action = callback_data.action
    if (action in ("show", "media") or is_about_cadres(case)) and (
        message is None or not await _may_show_here(case, message.chat, session)
    ):
        await query.answer(not_here(), show_alert=True)
        return
    locale, area = i18n.current_locale, await area_path(account, regions)
    answer = None
    try:
        if action == "accept":
            if not accepted_by(case, account):  # a retried tap gets the same answer again
                await CaseService(session, render, settings.default_locale).accept(
                    case, Actor.of(account)
                )
            answer = _("Case {number} accepted by you.").format(number=case.number)
            case = await _fresh(session, case, area)
        elif action == "show" and message:
            await _send_screen(message, case, regions, users, locale)
        elif action == "media" and message:
            await _send_media(case, message)
        elif action == "back" and message:
            await _drop_note(state, case.id)
        elif action in ("resolve", "transfer") and message:
            _require_open(case)
            menu = (
                outcome_keyboard(case)
                if action == "resolve"
                else await transfer_keyboard(case, regions)
            )
            await _edit_buttons(message, menu)
            await query.answer()
            return
        elif message and (action in ("reply", "info", "up") or action.startswith("to-")):
            await _ask_note(case, action, state, message, regions)
        else:
            await query.answer(_("That choice is no longer available."), show_alert=True)
            return
    except CaseError:
        case = await _fresh(session, case, area)
        if case is not None and message:
            await show_in_place(message, case, regions, users, locale)
        await query.answer(why_not(case) if case else _("Case not found."), show_alert=True)
        return
    if message and case is not None and action in ("accept", "back"):
        await show_in_place(message, case, regions, users, locale)
    await query.answer(answer)


async def _fresh(session: AsyncSession, case: Case, area: str | None) -> Case | None:
    """The case as the database holds it now, after a step of ours or someone else's; None
    once it has left the area."""
    await session.refresh(case)
    await session.refresh(case, ["events", "attachments"])
    return case if area is not None and case.unit_path.startswith(area) else None


async def _edit_buttons(message: Message, markup: InlineKeyboardMarkup) -> None:
    # A second tap on the same button changes nothing, which Telegram reports as an error.
    with suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=markup)


async def _send_media(case: Case, message: Message) -> None:
    """The reporter's photos and location, sent where the cadre asked for them."""
    for item in case.attachments:
        if item.kind == "photo" and item.file_id:
            await message.answer_photo(item.file_id, caption=case.number)
        elif item.latitude is not None and item.longitude is not None:
            await message.answer_location(item.latitude, item.longitude)


def accepted_by(case: Case, account: User) -> bool:
    """The cadre accepted this case already, and it is still theirs and open."""
    return (
        case.status in OPEN_STATUSES
        and case.status not in WAITING_STATUSES
        and case.assignee_id == account.telegram_id
    )


def _require_open(case: Case) -> None:
    if case.status in ("resolved", "closed"):
        raise CaseError("not open")


async def _ask_note(
    case: Case, action: str, state: FSMContext, message: Message, regions: RegionRepo
) -> None:
    _require_open(case)
    if action.startswith("to-") and not await may_transfer_to(case, action[3:], regions):
        raise CaseError("not a unit this case may be passed to")
    await _await_note(state, case.id, action, message)
    prompts = {
        "reply": _("Type your reply to the reporter of case {number}. /cancel stops."),
        "info": _("Type your question to the reporter of case {number}. /cancel stops."),
        "up": _("Why does case {number} go to the level above? Type the reason."),
    }
    prompt = prompts.get(action, _("Why does case {number} go there? Type the reason."))
    # A reply to the bot's message reaches it even in a group where it does not read all text.
    await message.answer(prompt.format(number=case.number), reply_markup=ForceReply(selective=True))


async def _await_note(state: FSMContext, case_id: int, action: str, screen: Message) -> None:
    """The cadre's next text is the note of this action, if it comes within the wait; the
    case's message (``screen``) is brought up to date once it is done."""
    await state.set_state(CadreInput.note)
    await state.update_data(
        case_id=case_id,
        action=action,
        asked_at=time.time(),
        screen=[screen.chat.id, screen.message_id],
    )


async def _drop_note(state: FSMContext, case_id: int) -> None:
    """Cancel pressed under a case: a note asked for that case is no longer awaited."""
    if await state.get_state() == CadreInput.note and (
        (await state.get_data()).get("case_id") == case_id
    ):
        await state.clear()


async def may_transfer_to(case: Case, code: str, regions: RegionRepo) -> bool:
    """Only to the units offered: the other units under the same parent (up has its button)."""
    unit, target = await regions.get(case.unit_code), await regions.get(code)
    return (
        unit is not None
        and target is not None
        and target.code != unit.code
        and target.parent_code == unit.parent_code
        and target.level != RegionLevel.VILLAGE
    )


def not_here() -> str:
    return _("Open cases in a private chat with me, or in the unit's own group.")


def is_about_cadres(case: Case) -> bool:
    category = categories().get(case.category)
    return case.about is not None or (category is not None and category.asks_about_whom)


async def _may_show_here(case: Case, chat: Chat, session: AsyncSession) -> bool:
    """A case's details go to a private chat, or to the group linked to the unit handling it,
    never to whatever group a cadre happens to type in; a complaint about cadres only ever to
    a private chat (the accused may be in any group)."""
    if chat.type == "private":
        return True
    if is_about_cadres(case):
        return False
    return chat.id in await CaseRepo(session).unit_chats([case.unit_code])


async def may_list_here(account: User, chat: Chat, session: AsyncSession) -> bool:
    """Lists and figures of an area go to a private chat or to the group linked to the
    account's own area unit."""
    if chat.type == "private":
        return True
    if account.area_code is None:
        return False
    return chat.id in await CaseRepo(session).unit_chats([account.area_code])


async def choose_outcome(
    query: CallbackQuery,
    callback_data: CaseOutcome,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    case = await _case_in_area(account, regions, session, callback_data.case_id)
    if case is None or callback_data.outcome not in set(Outcome):
        await query.answer(_("Case not found."), show_alert=True)
        return
    if case.status in ("resolved", "closed"):
        if case.outcome == callback_data.outcome:  # a retried tap: the answer it had
            await query.answer(
                _("Case {number} resolved; the reporter is asked to rate it.").format(
                    number=case.number
                ),
                show_alert=True,
            )
        else:
            await query.answer(why_not(case), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    await _await_note(state, case.id, f"resolve:{callback_data.outcome}", query.message)
    prompt = (
        _("Who is responsible instead? Type it for the reporter.")
        if callback_data.outcome == Outcome.NOT_OURS
        else _("Write a short note for the reporter about what was done.")
    )
    await query.answer()
    await query.message.answer(prompt, reply_markup=ForceReply(selective=True))


async def cadre_note(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    users: UserRepo,
    render: Renderer,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    data = await state.get_data()
    note = clean_text(message.text or "")
    if not visible_length(note):
        await message.answer(_("I could not read any words in that. Please type it again."))
        return
    if len(note) > MAX_NOTE:
        await message.answer(
            _("That is too long: please keep it under {limit} characters.").format(limit=MAX_NOTE)
        )
        return
    await state.clear()
    if time.time() - data.get("asked_at", 0) > NOTE_WAIT_SECONDS:
        # A text typed long after pressing the button is not meant for the reporter.
        await message.answer(_("That step has expired. Press the case's button again."))
        return
    area = await area_path(account, regions)
    case = await _case_in_area(account, regions, session, data.get("case_id", 0))
    if case is None:
        await message.answer(_("Case not found."))
        return
    try:
        done = await _apply_note(case, account, data.get("action", ""), note, regions, session,
                                 render, settings)  # fmt: skip
    except CaseError:
        await message.answer(why_not(await _fresh(session, case, area) or case))
        return
    await message.answer(done)
    if data.get("screen"):
        fresh = await _fresh(session, case, area)
        await _update_screen(bot, data["screen"], fresh, regions, users, i18n.current_locale)


async def _update_screen(
    bot: Bot,
    screen: list[int],
    case: Case | None,
    regions: RegionRepo,
    users: UserRepo,
    locale: str,
) -> None:
    """Bring the case's message up to date, wherever it was; a case that left the cadre's area
    keeps its text and loses its buttons. Deleted or too old to edit: nothing to do."""
    chat_id, message_id = screen
    with suppress(TelegramBadRequest):
        if case is None:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
            return
        text = await screen_text(case, regions, users, locale)
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=case_keyboard(case)
        )


async def _apply_note(
    case: Case,
    account: User,
    action: str,
    note: str,
    regions: RegionRepo,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> str:
    """Carry out the step the note was asked for; what to tell the cadre."""
    service = CaseService(session, render, settings.default_locale)
    actor = Actor.of(account)
    if action == "reply":
        await service.reply(case, actor, note)
        return _("Sent to the reporter of case {number}.").format(number=case.number)
    if action == "info":
        await service.request_information(case, actor, note)
        return _("Question sent to the reporter of case {number}.").format(number=case.number)
    if action.startswith("resolve:"):
        await service.resolve(case, actor, Outcome(action.split(":", 1)[1]), note)
        return _("Case {number} resolved; the reporter is asked to rate it.").format(
            number=case.number
        )
    target = await regions.get(action[3:]) if action.startswith("to-") else None
    moved_to = await service.transfer(case, actor, target, note)
    return _("Case {number} passed to {unit}.").format(
        number=case.number, unit=escape(await regions.full_name(moved_to.code))
    )
