"""A helper cadre records a visit in a few taps: the day (today, yesterday or typed), the 七看
checklist toggled by buttons, an optional note (/skip), saved as a HouseholdVisit and written to
the audit log. Every button names the household; it must be the one of the visit under way and
in the cadre's area, or the tap changes nothing."""

from __future__ import annotations

import re
import unicodedata
from contextlib import suppress
from datetime import date, datetime, timedelta
from html import escape

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from db import audit
from db.cadre_households import CadreHouseholdRepo
from db.household_template import id_like
from db.models import Household, User
from db.regions import RegionRepo
from handlers.access import area_path
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.households import household_label
from handlers.notices import LOCAL_TIME

# Yunnan's 七看 (knowledge/seeds/000_*.txt, 回头看): what the record keeps, and what the button
# says. The record keeps the short Chinese word, as county registers write it (住房|饮水).
SEVEN_CHECKS = (
    ("产业", __("Industry: does it lift the household?")),
    ("就业", __("Work: is it steady?")),
    ("饮水", __("Drinking water: safe and sufficient?")),
    ("住房", __("Housing: safe and sound?")),
    ("义务教育", __("School: no child dropped out?")),
    ("基本医疗", __("Medical care: covered?")),
    ("内生动力", __("Own drive: is the family keen?")),
)
MAX_NOTE = 500
OLDEST_VISIT = timedelta(days=365)
# The registry's files separate entries with ";" (db/household_template.py): a note keeps none,
# or the exported file would not import again.
_NOTE_SAFE = str.maketrans({";": ",", "；": "，"})
_TYPED_DATE = re.compile(r"(\d{4})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2})\D{0,2}")


class VisitStart(CallbackData, prefix="hvs"):
    household_id: int


class VisitDay(CallbackData, prefix="hvd"):
    """today, yesterday or other (typed)."""

    household_id: int
    day: str


class VisitCheck(CallbackData, prefix="hvc"):
    """Tick or untick one of SEVEN_CHECKS."""

    household_id: int
    item: int


class VisitChecked(CallbackData, prefix="hvk"):
    """The checklist is done: ask for the note."""

    household_id: int


class VisitInput(StatesGroup):
    day = State()  # buttons expected
    typed_day = State()  # a typed date expected
    checks = State()  # buttons expected
    note = State()  # a note or /skip expected


def create_router() -> Router:
    router = Router(name="household_visits")
    router.callback_query.filter(PRIVATE_CALLBACK)
    router.message.filter(PRIVATE)
    router.callback_query.register(start, VisitStart.filter())
    # The day's buttons still work while a typed day is awaited: the cadre changed their mind.
    router.callback_query.register(
        choose_day, VisitDay.filter(), StateFilter(VisitInput.day, VisitInput.typed_day)
    )
    router.callback_query.register(toggle, VisitCheck.filter(), StateFilter(VisitInput.checks))
    router.callback_query.register(ask_note, VisitChecked.filter(), StateFilter(VisitInput.checks))
    for stale in (VisitDay, VisitCheck, VisitChecked):
        router.callback_query.register(no_longer_available, stale.filter())
    router.message.register(typed_day, StateFilter(VisitInput.typed_day), PLAIN_TEXT)
    router.message.register(save_with_note, StateFilter(VisitInput.note), PLAIN_TEXT)
    router.message.register(save_without_note, StateFilter(VisitInput.note), Command("skip"))
    router.message.register(
        use_the_buttons, StateFilter(VisitInput.day, VisitInput.checks), PLAIN_TEXT
    )
    return router


def local_today() -> date:
    return datetime.now(LOCAL_TIME).date()


async def _household(
    account: User, regions: RegionRepo, session: AsyncSession, household_id: int
) -> Household | None:
    area = await area_path(account, regions)
    if area is None:
        return None
    return await CadreHouseholdRepo(session).in_area(area, household_id)


async def _current(
    query: CallbackQuery,
    household_id: int,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> Household | None:
    """The household of the visit under way, if the button names it and it is still in the
    cadre's area; otherwise the tap is answered as stale and None returned."""
    data = await state.get_data()
    household = None
    if data.get("visit_household") == household_id:
        household = await _household(account, regions, session, household_id)
    if household is None:
        await no_longer_available(query)
    return household


async def no_longer_available(query: CallbackQuery) -> None:
    await query.answer(_("That choice is no longer available."), show_alert=True)


async def start(
    query: CallbackQuery,
    callback_data: VisitStart,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if await area_path(account, regions) is None:
        await query.answer(_("Only township and county cadres can do this."), show_alert=True)
        return
    household = await _household(account, regions, session, callback_data.household_id)
    if household is None:
        await query.answer(_("Household not found."), show_alert=True)
        return
    await state.set_state(VisitInput.day)
    await state.set_data({"visit_household": household.id, "visit_checks": []})
    keyboard = InlineKeyboardBuilder()
    days = (("today", _("Today")), ("yesterday", _("Yesterday")), ("other", _("Another day")))
    for day, label in days:
        keyboard.button(text=label, callback_data=VisitDay(household_id=household.id, day=day))
    await query.answer()
    await _send(
        query,
        _("Visit to household {number} ({household}). When was it?").format(
            number=escape(household.number),
            household=await household_label(household, regions, i18n.current_locale),
        ),
        keyboard.as_markup(),
    )


async def choose_day(
    query: CallbackQuery,
    callback_data: VisitDay,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    household = await _current(query, callback_data.household_id, state, account, regions, session)
    if household is None:
        return
    today = local_today()
    if callback_data.day == "other":
        await state.set_state(VisitInput.typed_day)
        await query.answer()
        example = (today - timedelta(days=3)).isoformat()
        await _send(
            query, _("Type the day of the visit, for example {example}.").format(example=example)
        )
        return
    days_back = {"today": 0, "yesterday": 1}.get(callback_data.day)
    if days_back is None:
        await no_longer_available(query)
        return
    await query.answer()
    await _show_checklist(query, household, today - timedelta(days=days_back), state)


def parse_day(text: str, today: date) -> date | None:
    """A typed day (2026-12-01, 2026/12/1, 2026年12月1日, full-width digits too) within the
    last year and not in the future; None otherwise."""
    found = _TYPED_DATE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if found is None:
        return None
    try:
        day = date(*(int(part) for part in found.groups()))
    except ValueError:
        return None
    return day if today - OLDEST_VISIT <= day <= today else None


async def typed_day(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    data = await state.get_data()
    household = await _household(account, regions, session, data.get("visit_household", 0))
    if household is None:
        await state.clear()
        await message.answer(_("Household not found."))
        return
    today = local_today()
    day = parse_day(message.text or "", today)
    if day is None:
        await message.answer(
            _(
                "I could not use that date. Type it like {example}: not in the future, "
                "and within the last year. Or send /cancel."
            ).format(example=today.isoformat())
        )
        return
    await _show_checklist(message, household, day, state)


async def _show_checklist(
    target: CallbackQuery | Message, household: Household, day: date, state: FSMContext
) -> None:
    await state.update_data(visit_day=day.isoformat(), visit_checks=[])
    await state.set_state(VisitInput.checks)
    await _send(target, _checklist_text(day), _checklist(household.id, set()))


def _checklist_text(day: date) -> str:
    return _("Visit on {day}. Tap what you looked at (七看), then Done.").format(
        day=day.isoformat()
    )


def _checklist(household_id: int, ticked: set[int]) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for index, (_word, label) in enumerate(SEVEN_CHECKS):
        mark = "☑" if index in ticked else "☐"
        keyboard.button(
            text=f"{mark} {label}", callback_data=VisitCheck(household_id=household_id, item=index)
        )
    keyboard.button(text=_("Done"), callback_data=VisitChecked(household_id=household_id))
    keyboard.adjust(1)
    return keyboard.as_markup()


async def toggle(
    query: CallbackQuery,
    callback_data: VisitCheck,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    if not 0 <= callback_data.item < len(SEVEN_CHECKS):
        await no_longer_available(query)
        return
    household = await _current(query, callback_data.household_id, state, account, regions, session)
    if household is None:
        return
    ticked = set((await state.get_data()).get("visit_checks", []))
    ticked ^= {callback_data.item}
    await state.update_data(visit_checks=sorted(ticked))
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # two quick taps: the markup did not change
            await query.message.edit_reply_markup(reply_markup=_checklist(household.id, ticked))


async def ask_note(
    query: CallbackQuery,
    callback_data: VisitChecked,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    household = await _current(query, callback_data.household_id, state, account, regions, session)
    if household is None:
        return
    await state.set_state(VisitInput.note)
    await query.answer()
    await _send(
        query,
        _("Add a short note (at most {limit} characters), or send /skip.").format(limit=MAX_NOTE),
    )


async def save_with_note(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    note = (message.text or "").strip().translate(_NOTE_SAFE)
    if len(note) > MAX_NOTE:
        await message.answer(
            _(
                "That note is too long ({length} characters). Please keep it within {limit}, "
                "or send /skip."
            ).format(length=len(note), limit=MAX_NOTE)
        )
        return
    if id_like(note):  # the registry never holds one (and an export would not import again)
        await message.answer(
            _("Please send no ID-card or bank card numbers. Type the note again without them.")
        )
        return
    await _save(message, note or None, state, account, regions, session)


async def save_without_note(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    await _save(message, None, state, account, regions, session)


async def _save(
    message: Message,
    note: str | None,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    data = await state.get_data()
    await state.clear()
    household = await _household(account, regions, session, data.get("visit_household", 0))
    if household is None or "visit_day" not in data:
        await message.answer(_("Household not found."))
        return
    day = date.fromisoformat(data["visit_day"])
    ticked = [index for index in data.get("visit_checks", []) if 0 <= index < len(SEVEN_CHECKS)]
    viewer = audit.viewer_of(account)
    # "#800": the registry file keeps a visit as date:checklist:by:note, so no colon in "by".
    await CadreHouseholdRepo(session).add_visit(
        household, day, [SEVEN_CHECKS[index][0] for index in ticked], note,
        f"#{account.telegram_id}",
    )  # fmt: skip
    await audit.record(session, [household], viewer, account.role, audit.ViewAction.VISIT)
    lines = [
        _("Visit recorded: household {number}, {day}.").format(
            number=escape(household.number), day=day.isoformat()
        ),
        _("Looked at:") if ticked else _("Nothing ticked."),
        *(f"• {SEVEN_CHECKS[index][1]}" for index in ticked),
    ]
    if note:  # as it is kept
        lines.append(_("Note: {note}").format(note=escape(note)))
    await message.answer("\n".join(lines))


async def use_the_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or send /cancel to stop."))


async def _send(
    target: CallbackQuery | Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    message = target.message if isinstance(target, CallbackQuery) else target
    if isinstance(message, Message):
        await message.answer(text, reply_markup=markup)
