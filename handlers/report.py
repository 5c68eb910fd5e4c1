"""Reporting a grievance: category → (whose conduct) → place → description → anonymity →
review → submit. The case is committed before the bot says "received"."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.outbox import SendNow
from bot.report_limit import refuse_extra_report
from db.cases import CaseRepo
from db.models import RegionLevel, User
from db.regions import RegionRepo
from grievances.catalog import categories, report_flow_categories
from grievances.service import CaseService, Renderer, Report
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.keyboards import ReportAbout, ReportCategory, ReportPlace, ReportStep
from handlers.notices import category_name
from handlers.places import which_place
from handlers.text_input import clean_text, visible_length

MAX_DESCRIPTION = 3000
MIN_DESCRIPTION = 2  # "漏雨" says enough
MAX_PHOTOS = 5
SUBMIT_WINDOW = timedelta(hours=1)  # a summary's ✅ Submit sends its report within this


class ReportFlow(StatesGroup):
    category = State()
    about = State()
    place = State()
    description = State()
    anonymity = State()
    review = State()


def create_router() -> Router:
    router = Router(name="report")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)
    router.message.register(start_report, Command("report"))
    router.callback_query.register(start_from_button, ReportStep.filter(F.step == "start"))
    router.callback_query.register(cancel_report, ReportStep.filter(F.step == "cancel"))
    router.callback_query.register(
        choose_category, StateFilter(ReportFlow.category), ReportCategory.filter()
    )
    router.callback_query.register(
        choose_about, StateFilter(ReportFlow.about), ReportAbout.filter()
    )
    router.callback_query.register(
        place_confirmed, StateFilter(ReportFlow.place), ReportStep.filter(F.step == "place_ok")
    )
    router.callback_query.register(
        change_place, StateFilter(ReportFlow.place), ReportStep.filter(F.step == "place_change")
    )
    router.callback_query.register(pick_place, StateFilter(ReportFlow.place), ReportPlace.filter())
    router.message.register(typed_place, StateFilter(ReportFlow.place), PLAIN_TEXT)
    router.message.register(
        add_description, StateFilter(ReportFlow.description), ~F.text.startswith("/")
    )
    router.callback_query.register(
        description_done, StateFilter(ReportFlow.description), ReportStep.filter(F.step == "done")
    )
    router.callback_query.register(
        choose_anonymity,
        StateFilter(ReportFlow.anonymity),
        ReportStep.filter(F.step.in_({"anonymous", "named"})),
    )
    router.callback_query.register(
        submit, StateFilter(ReportFlow.review), ReportStep.filter(F.step == "submit")
    )
    # ✅ Submit tapped again once the report is in (its answer lost, or not seen).
    router.callback_query.register(submitted_already, ReportStep.filter(F.step == "submit"))
    # A button of a flow that is over (or forged): say so, change nothing.
    router.callback_query.register(stale_button, ReportStep.filter())
    router.callback_query.register(stale_button, ReportCategory.filter())
    router.callback_query.register(stale_button, ReportAbout.filter())
    router.callback_query.register(stale_button, ReportPlace.filter())
    return router


def report_button() -> InlineKeyboardBuilder:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("📝 Report it"), callback_data=ReportStep(step="start"))
    return keyboard


def _cancel_row(keyboard: InlineKeyboardBuilder) -> InlineKeyboardBuilder:
    keyboard.button(text=_("Cancel"), callback_data=ReportStep(step="cancel"))
    return keyboard


async def start_report(message: Message, state: FSMContext, i18n: I18n) -> None:
    await state.set_state(ReportFlow.category)
    await state.update_data(report={})
    await message.answer(**_category_prompt(i18n.current_locale))


async def start_from_button(query: CallbackQuery, state: FSMContext, i18n: I18n) -> None:
    """From the answer to a complaint-like question: that question becomes the description."""
    prefill = clean_text((await state.get_data()).get("report_prefill", ""))
    await state.set_state(ReportFlow.category)
    await state.update_data(report={"texts": [prefill] if prefill else []})
    if isinstance(query.message, Message):
        await query.message.answer(**_category_prompt(i18n.current_locale))
    await query.answer()


def _category_prompt(locale: str) -> dict[str, Any]:
    keyboard = InlineKeyboardBuilder()
    for category in report_flow_categories():
        keyboard.button(
            text=category.name(locale), callback_data=ReportCategory(code=category.code)
        )
    _cancel_row(keyboard).adjust(2)
    return {
        "text": _("Report a problem. What is it about?") + "\n" + _("/cancel stops at any step."),
        "reply_markup": keyboard.as_markup(),
    }


async def cancel_report(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.answer(_("Cancelled. Nothing was sent."))
    await query.answer()


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("That choice is no longer available."), show_alert=True)


async def submitted_already(
    query: CallbackQuery, bot: Bot, account: User, session: AsyncSession, send_now: SendNow
) -> None:
    """Names the case this summary's button sent, and sends what is still owed to the reporter
    (its tracking number, when the first answer was lost)."""
    shown_at = query.message.date if isinstance(query.message, Message) else None
    case = (
        await CaseRepo(session).first_reported_after(
            account.telegram_id, shown_at - timedelta(seconds=1), SUBMIT_WINDOW
        )
        if shown_at is not None
        else None
    )
    if case is None:
        await stale_button(query)
        return
    await query.answer(
        _("This report was already received: tracking number {number}. /mycases shows it.").format(
            number=case.number
        ),
        show_alert=True,
    )
    await send_now(bot, account.telegram_id)


async def choose_category(
    query: CallbackQuery,
    callback_data: ReportCategory,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
) -> None:
    category = categories().get(callback_data.code)
    if category is None or not category.in_report_flow:
        await stale_button(query)
        return
    await _update_report(state, category=category.code)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if category.asks_about_whom:
        keyboard = InlineKeyboardBuilder()
        for level, label in (
            (RegionLevel.VILLAGE, _("Village cadres")),
            (RegionLevel.TOWNSHIP, _("Township cadres or leaders")),
            (RegionLevel.COUNTY, _("County officials")),
        ):
            keyboard.button(text=label, callback_data=ReportAbout(level=level))
        _cancel_row(keyboard).adjust(1)
        await state.set_state(ReportFlow.about)
        await query.message.answer(
            _("Whose conduct is it about? It goes to the level above them."),
            reply_markup=keyboard.as_markup(),
        )
        return
    await _ask_place(query.message, state, account, regions)


async def choose_about(
    query: CallbackQuery,
    callback_data: ReportAbout,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
) -> None:
    if callback_data.level not in {RegionLevel.VILLAGE, RegionLevel.TOWNSHIP, RegionLevel.COUNTY}:
        await stale_button(query)
        return
    await _update_report(state, about=callback_data.level)
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_place(query.message, state, account, regions)


async def _ask_place(
    message: Message, state: FSMContext, account: User, regions: RegionRepo
) -> None:
    await state.set_state(ReportFlow.place)
    if account.region_code is None:
        await message.answer(_("In which village did it happen? Type its name."))
        return
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Yes"), callback_data=ReportStep(step="place_ok"))
    keyboard.button(text=_("Another place"), callback_data=ReportStep(step="place_change"))
    _cancel_row(keyboard).adjust(2, 1)
    place = await regions.full_name(account.region_code)
    await message.answer(
        _("Did it happen in your village, {place}?").format(place=escape(place)),
        reply_markup=keyboard.as_markup(),
    )


async def place_confirmed(query: CallbackQuery, state: FSMContext, account: User) -> None:
    await query.answer()
    if account.region_code and isinstance(query.message, Message):
        await _place_chosen(query.message, state, account.region_code)


async def change_place(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("In which village did it happen? Type its name."))


async def typed_place(message: Message, state: FSMContext, regions: RegionRepo) -> None:
    typed = clean_text(message.text or "")[:50]
    lookup = await regions.lookup(typed, RegionLevel.VILLAGE)
    villages = lookup.regions
    if lookup.exact and len(villages) == 1:
        await _place_chosen(message, state, villages[0].code)
        return
    if not villages:
        await message.answer(
            _(
                "I could not find a village called “{name}”. Check the name and type it again."
            ).format(name=escape(typed))
        )
        return
    keyboard = InlineKeyboardBuilder()
    for village in villages:
        label = await regions.full_name(village.code)
        keyboard.button(text=label, callback_data=ReportPlace(code=village.code))
    keyboard.adjust(1)
    await message.answer(which_place(lookup, typed), reply_markup=keyboard.as_markup())


async def pick_place(
    query: CallbackQuery, callback_data: ReportPlace, state: FSMContext, regions: RegionRepo
) -> None:
    village = await regions.get(callback_data.code)
    if village is None or village.level != RegionLevel.VILLAGE:
        await stale_button(query)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await _place_chosen(query.message, state, village.code)


async def _place_chosen(message: Message, state: FSMContext, code: str) -> None:
    report = await _update_report(state, place=code)
    await state.set_state(ReportFlow.description)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Done"), callback_data=ReportStep(step="done"))
    _cancel_row(keyboard).adjust(2)
    text = _(
        "Describe the problem in your own words. You may send several messages, photos and "
        "a location. Press Done when you have finished."
    )
    if report.get("texts"):
        taken = escape(report["texts"][0][:200])
        text = _("I have taken your message: “{text}”").format(text=taken) + "\n" + text
    await message.answer(text, reply_markup=keyboard.as_markup())


async def add_description(message: Message, state: FSMContext) -> None:
    report = (await state.get_data()).get("report", {})
    texts: list[str] = report.get("texts", [])
    photos: list[str] = report.get("photos", [])
    if message.photo:
        if len(photos) >= MAX_PHOTOS:
            await message.answer(_("That is enough photos; the first ones are kept."))
            return
        photos.append(message.photo[-1].file_id)
        caption = clean_text(message.caption or "")
        if visible_length(caption):
            texts.append(caption)
    elif message.location:
        report["location"] = [message.location.latitude, message.location.longitude]
    elif message.text and not message.text.startswith("/"):
        text = clean_text(message.text)
        if not visible_length(text):
            await message.answer(_("I could not read any words in that. Please type the problem."))
            return
        texts.append(text)
    else:
        await message.answer(_("Please send text, photos or a location, then press Done."))
        return
    if sum(len(text) for text in texts) > MAX_DESCRIPTION:
        await message.answer(
            _("The description is too long. Please keep it under {limit} characters.").format(
                limit=MAX_DESCRIPTION
            )
        )
        return
    await _update_report(state, texts=texts, photos=photos, location=report.get("location"))
    await message.answer(_("Added. Send more, or press Done."))


async def description_done(query: CallbackQuery, state: FSMContext) -> None:
    report = (await state.get_data()).get("report", {})
    if visible_length("".join(report.get("texts", []))) < MIN_DESCRIPTION:
        await query.answer(_("Please describe the problem in a few words first."), show_alert=True)
        return
    await state.set_state(ReportFlow.anonymity)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("Keep my identity hidden (recommended)"), callback_data=ReportStep(step="anonymous")
    )
    keyboard.button(text=_("Show my identity"), callback_data=ReportStep(step="named"))
    _cancel_row(keyboard).adjust(1)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "Should the people handling it see who you are? If you stay anonymous, they "
                "do not; the bot still tells you about every step."
            ),
            reply_markup=keyboard.as_markup(),
        )


async def choose_anonymity(
    query: CallbackQuery,
    callback_data: ReportStep,
    state: FSMContext,
    regions: RegionRepo,
    i18n: I18n,
) -> None:
    report = await _update_report(state, anonymous=callback_data.step == "anonymous")
    await state.set_state(ReportFlow.review)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    place = await regions.full_name(report["place"])
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("✅ Submit"), callback_data=ReportStep(step="submit"))
    _cancel_row(keyboard).adjust(2)
    lines = [
        _("Please check your report:"),
        _("Problem: {category}").format(
            category=escape(category_name(report["category"], i18n.current_locale))
        ),
        _("Place: {place}").format(place=escape(place)),
        _("Identity: {choice}").format(
            choice=_("hidden") if report["anonymous"] else _("shown to the handlers")
        ),
        "",
        escape("\n".join(report["texts"])),
    ]
    if report.get("photos"):
        lines.append(_("Photos: {count}").format(count=len(report["photos"])))
    if report.get("location"):
        lines.append(_("Location: attached"))
    await query.message.answer("\n".join(lines), reply_markup=keyboard.as_markup())


async def submit(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    send_now: SendNow,
    render: Renderer,
    settings: Settings,
    i18n: I18n,
    event_update: Update,
) -> None:
    if await refuse_extra_report(query, session, account, settings):
        return
    report = (await state.get_data()).get("report", {})
    service = CaseService(session, render, settings.default_locale)
    case = await service.submit(
        Report(
            reporter=account,
            locale=i18n.current_locale,
            category=report["category"],
            place_code=report["place"],
            description=clean_text("\n".join(report["texts"])),
            anonymous=report.get("anonymous", True),
            about=RegionLevel(report["about"]) if report.get("about") else None,
            photos=report.get("photos", []),
            location=tuple(report["location"]) if report.get("location") else None,
        ),
        source_update_id=event_update.update_id,
    )
    # Committed, with the tracking number in the outbox: only now may the bot say "received".
    await state.clear()
    await query.answer()
    await send_now(bot, case.reporter_id)


async def _update_report(state: FSMContext, **changes: Any) -> dict[str, Any]:
    report = dict((await state.get_data()).get("report", {}))
    report.update(changes)
    await state.update_data(report=report)
    return report
