"""Cadres: /cases, /case N, and the buttons under a case — accept, reply, ask for information,
resolve, transfer. A case outside the cadre's area is "not found", whatever the way of asking."""

from __future__ import annotations

import time
from contextlib import suppress
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, ForceReply, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.outbox import split_text
from db.cases import CaseRepo
from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, CaseEvent, RegionLevel, User, utcnow
from db.regions import RegionRepo
from grievances.catalog import categories
from grievances.numbers import normalize_number
from grievances.service import Actor, CaseError, CaseService, Outcome, Renderer
from handlers.access import area_path
from handlers.filters import PLAIN_TEXT
from handlers.keyboards import CaseAction, CaseOutcome, CasesPage
from handlers.notices import OUTCOMES, cadre_buttons, case_card, category_name, local_time
from handlers.text_input import clean_text, visible_length

PAGE_SIZE = 5
GROUP_SCAN = 200  # open cases read at a time to leave complaints about cadres out of a group
MAX_PAGE = 10_000
MAX_NOTE = 2000
NOTE_WAIT_SECONDS = 30 * 60
EVENT_ICONS = {
    "submitted": "📝",
    "accepted": "✅",
    "replied": "💬",
    "info_requested": "❓",
    "info_added": "➕",
    "resolved": "🏁",
    "transferred": "↪️",
    "escalated": "⚠️",
    "reminded": "⏰",
    "rated": "⭐",
    "reopened": "🔁",
    "closed": "🔒",
    "change_confirmed": "🏠",
}


EVENT_NAMES = {
    "submitted": __("reported"),
    "accepted": __("accepted"),
    "replied": __("replied"),
    "info_requested": __("asked for information"),
    "info_added": __("information added"),
    "resolved": __("resolved"),
    "transferred": __("transferred"),
    "escalated": __("escalated"),
    "overdue": __("overdue at the top level"),
    "reminded": __("reminded"),
    "rated": __("rated"),
    "reopened": __("reopened"),
    "closed": __("closed"),
    "change_confirmed": __("change confirmed into the household's record"),
}


def _actor(case: Case, event: CaseEvent) -> str:
    """Who acted: the reporter is never named by id, whatever role they have since."""
    if event.actor_id is None:
        return _("system")
    if event.actor_id == case.reporter_id:
        return _("reporter")
    return _("cadre {id}").format(id=event.actor_id)


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
    await answer_long(
        message, await _timeline(case, regions, i18n.current_locale), cadre_buttons(case)
    )


async def _timeline(case: Case, regions: RegionRepo, locale: str) -> str:
    lines = [case_card(case, await regions.full_name(case.place_code), locale), "", _("History:")]
    for event in case.events:
        note = f": {escape(event.note)}" if event.note else ""
        lines.append(
            f"{EVENT_ICONS.get(event.kind, '•')} {local_time(event.at)} "
            f"{EVENT_NAMES.get(event.kind, event.kind)} ({_actor(case, event)}){note}"
        )
    return "\n".join(lines)


async def case_action(
    query: CallbackQuery,
    callback_data: CaseAction,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
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
    try:
        if action == "show" and message:
            await answer_long(
                message, await _timeline(case, regions, i18n.current_locale), cadre_buttons(case)
            )
        elif action == "media" and message:
            await _send_media(case, message)
        elif action == "accept":
            if not _accepted_by(case, account):  # a retried tap gets the same answer again
                await CaseService(session, render, settings.default_locale).accept(
                    case, Actor.of(account)
                )
            if message:
                await message.answer(_("Case {number} accepted by you.").format(number=case.number))
        elif action == "resolve" and message:
            _require_open(case)
            keyboard = InlineKeyboardBuilder()
            for outcome, label in OUTCOMES.items():
                keyboard.button(
                    text=str(label), callback_data=CaseOutcome(case_id=case.id, outcome=outcome)
                )
            keyboard.adjust(2)
            await message.answer(
                _("Case {number}: what was the outcome?").format(number=case.number),
                reply_markup=keyboard.as_markup(),
            )
        elif action == "transfer" and message:
            _require_open(case)
            await message.answer(**await _transfer_choices(case, regions))
        elif message and (action in ("reply", "info", "up") or action.startswith("to-")):
            await _ask_note(case, action, state, message, regions)
        else:
            await query.answer(_("That choice is no longer available."), show_alert=True)
            return
    except CaseError:
        await query.answer(_("This case cannot do that now."), show_alert=True)
        return
    await query.answer()


async def _send_media(case: Case, message: Message) -> None:
    """The reporter's photos and location, sent where the cadre asked for them."""
    for item in case.attachments:
        if item.kind == "photo" and item.file_id:
            await message.answer_photo(item.file_id, caption=case.number)
        elif item.latitude is not None and item.longitude is not None:
            await message.answer_location(item.latitude, item.longitude)


def _accepted_by(case: Case, account: User) -> bool:
    """The cadre accepted this case already, and it is still theirs and open."""
    return (
        case.status in OPEN_STATUSES
        and case.status not in WAITING_STATUSES
        and case.assignee_id == account.telegram_id
    )


def _require_open(case: Case) -> None:
    if case.status in ("resolved", "closed"):
        raise CaseError("not open")


async def _transfer_choices(case: Case, regions: RegionRepo) -> dict:
    """Up one level, or to another unit of the same level next to this one."""
    unit = await regions.get(case.unit_code)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("⬆ To the level above"), callback_data=CaseAction(case_id=case.id, action="up")
    )
    siblings = await regions.children(unit.parent_code) if unit and unit.parent_code else []
    for sibling in siblings:
        if sibling.code != case.unit_code and sibling.level != RegionLevel.VILLAGE:
            keyboard.button(
                text=sibling.name,
                callback_data=CaseAction(case_id=case.id, action=f"to-{sibling.code}"),
            )
    keyboard.adjust(1)
    return {
        "text": _("Case {number}: pass it to whom?").format(number=case.number),
        "reply_markup": keyboard.as_markup(),
    }


async def _ask_note(
    case: Case, action: str, state: FSMContext, message: Message, regions: RegionRepo
) -> None:
    _require_open(case)
    if action.startswith("to-") and not await _may_transfer_to(case, action[3:], regions):
        raise CaseError("not a unit this case may be passed to")
    await _await_note(state, case.id, action)
    prompts = {
        "reply": _("Type your reply to the reporter of case {number}. /cancel stops."),
        "info": _("Type your question to the reporter of case {number}. /cancel stops."),
        "up": _("Why does case {number} go to the level above? Type the reason."),
    }
    prompt = prompts.get(action, _("Why does case {number} go there? Type the reason."))
    # A reply to the bot's message reaches it even in a group where it does not read all text.
    await message.answer(prompt.format(number=case.number), reply_markup=ForceReply(selective=True))


async def _await_note(state: FSMContext, case_id: int, action: str) -> None:
    """The cadre's next text is the note of this action, if it comes within the wait."""
    await state.set_state(CadreInput.note)
    await state.update_data(case_id=case_id, action=action, asked_at=time.time())


async def _may_transfer_to(case: Case, code: str, regions: RegionRepo) -> bool:
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
            await query.answer(_("This case cannot do that now."), show_alert=True)
        return
    await _await_note(state, case.id, f"resolve:{callback_data.outcome}")
    prompt = (
        _("Who is responsible instead? Type it for the reporter.")
        if callback_data.outcome == Outcome.NOT_OURS
        else _("Write a short note for the reporter about what was done.")
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(prompt, reply_markup=ForceReply(selective=True))


async def cadre_note(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
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
    case = await _case_in_area(account, regions, session, data.get("case_id", 0))
    if case is None:
        await message.answer(_("Case not found."))
        return
    service = CaseService(session, render, settings.default_locale)
    actor = Actor.of(account)
    action: str = data.get("action", "")
    unit = ""
    try:
        if action == "reply":
            await service.reply(case, actor, note)
            done = _("Sent to the reporter of case {number}.")
        elif action == "info":
            await service.request_information(case, actor, note)
            done = _("Question sent to the reporter of case {number}.")
        elif action.startswith("resolve:"):
            await service.resolve(case, actor, Outcome(action.split(":", 1)[1]), note)
            done = _("Case {number} resolved; the reporter is asked to rate it.")
        else:
            target = await regions.get(action[3:]) if action.startswith("to-") else None
            moved_to = await service.transfer(case, actor, target, note)
            unit = escape(await regions.full_name(moved_to.code))
            done = _("Case {number} passed to {unit}.")
    except CaseError:
        await message.answer(_("This case cannot do that now."))
        return
    await message.answer(done.format(number=case.number, unit=unit))
