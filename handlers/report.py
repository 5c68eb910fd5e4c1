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
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
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
from grievances.catalog import Category, categories, report_flow_categories
from grievances.service import CaseService, Renderer, Report
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.keyboards import ReportAbout, ReportCategory, ReportPlace, ReportStep
from handlers.notices import category_name
from handlers.places import local_name, place_choices, which_place
from handlers.text_input import clean_text, visible_length
from knowledge.intent import Chatter, chatter, looks_like_grievance
from knowledge.normalize import compact

MAX_DESCRIPTION = 3000
MIN_DESCRIPTION = 2  # "漏雨" says enough
MAX_PHOTOS = 5
SUBMIT_WINDOW = timedelta(hours=1)  # a summary's ✅ Submit sends its report within this
# Words villagers use for a category besides its names ("吃水" for 饮水), by category code.
CATEGORY_WORDS = {
    "poverty_funds": ("扶贫款", "扶贫的钱"),
    "identification": ("评贫困户", "评上", "建档立卡"),
    "housing": ("危房", "房子", "住房"),
    "water": ("吃水", "喝水", "自来水", "水管", "停水", "没水", "水井"),
    "medical": ("医疗", "看病", "住院", "报销", "医保"),
    "education": ("上学", "学费", "读书", "助学", "学校"),
    "microcredit": ("贷款", "信贷"),
    "industry_income": ("产业", "分红", "收益"),
    "cadre_conduct": ("干部", "作风", "村长", "书记", "村主任"),
}
# A typed text longer than the category word by more than this tells the problem too: it is kept.
NAMING_SLACK = 4
PLACE_SUFFIX = ("村", "屯", "寨", "庄", "组", "社区", "镇", "乡", "街道", "县", "区", "市")
SHORT_PLACE = 4  # a typed text this short with no place word may still be a name
LONG_PLACE = 12  # no village name is longer
SAYS_NO = {"不是", "不对", "不在", "别的地方", "另一个地方", "换一个", "no"}


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
    router.message.register(typed_category, StateFilter(ReportFlow.category), PLAIN_TEXT)
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


def _category_prompt(locale: str, text: str | None = None) -> dict[str, Any]:
    keyboard = InlineKeyboardBuilder()
    for category in report_flow_categories():
        keyboard.button(
            text=category.name(locale), callback_data=ReportCategory(code=category.code)
        )
    _cancel_row(keyboard).adjust(2)
    default = _("Report a problem. What is it about?") + "\n" + _("/cancel stops at any step.")
    return {"text": text or default, "reply_markup": keyboard.as_markup()}


def named_category(text: str) -> tuple[Category, bool] | None:
    """The one category the typed text names, and whether the text says more than its name
    (then it is the start of the description); None when it names none or several."""
    typed = compact(text)
    found: dict[str, int] = {}
    for category in report_flow_categories():
        names = [part for name in category.names.values() for part in name.split("/")]
        words = [compact(word) for word in (*names, *CATEGORY_WORDS.get(category.code, ()))]
        lengths = [len(word) for word in words if word and word in typed]
        if lengths:
            found[category.code] = max(lengths)
    if len(found) != 1:
        return None
    [(code, length)] = found.items()
    return categories()[code], len(typed) > length + NAMING_SLACK


async def typed_category(
    message: Message, state: FSMContext, account: User, regions: RegionRepo, i18n: I18n
) -> None:
    """Typed instead of a category button: the category it names, or the problem itself."""
    text = clean_text(message.text or "")
    locale = i18n.current_locale
    if chatter(text) is not None or not visible_length(text):
        await message.answer(**_category_prompt(locale))
        return
    named = named_category(text)
    if named is None or named[1]:
        await _keep_text(state, text)
    if named is None:
        kept = _("I have kept your words for the report.")
        await message.answer(
            **_category_prompt(locale, kept + "\n" + _("What is it about? Choose below."))
        )
        return
    await _category_chosen(message, state, account, regions, named[0])


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
    await query.answer()
    if isinstance(query.message, Message):
        await _category_chosen(query.message, state, account, regions, category)


async def _category_chosen(
    message: Message, state: FSMContext, account: User, regions: RegionRepo, category: Category
) -> None:
    await _update_report(state, category=category.code)
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
        await message.answer(
            _("Whose conduct is it about? It goes to the level above them."),
            reply_markup=keyboard.as_markup(),
        )
        return
    await _ask_place(message, state, account, regions)


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
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    before: str | None = None,
) -> None:
    """Ask where it happened: "in your village?" when the village is known, else its name."""
    await state.set_state(ReportFlow.place)
    lines = [before] if before else []
    if account.region_code is None:
        await _update_report(state, place_question="name")
        lines.append(_("In which village did it happen? Type its name."))
        await message.answer("\n".join(lines))
        return
    await _update_report(state, place_question="confirm")
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Yes"), callback_data=ReportStep(step="place_ok"))
    keyboard.button(text=_("Another place"), callback_data=ReportStep(step="place_change"))
    _cancel_row(keyboard).adjust(2, 1)
    place = local_name(await regions.full_name(account.region_code))
    lines.append(_("Did it happen in your village, {place}?").format(place=escape(place)))
    await message.answer("\n".join(lines), reply_markup=keyboard.as_markup())


async def place_confirmed(query: CallbackQuery, state: FSMContext, account: User) -> None:
    await query.answer()
    if account.region_code and isinstance(query.message, Message):
        await _place_chosen(query.message, state, account.region_code)


async def change_place(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    await _update_report(state, place_question="name")
    if isinstance(query.message, Message):
        await query.message.answer(_("In which village did it happen? Type its name."))


def names_a_place(text: str) -> bool:
    """Could the typed text be a place's name, rather than the problem told in words?"""
    typed = compact(text)
    if not typed or len(typed) > LONG_PLACE or looks_like_grievance(text):
        return False
    return typed.endswith(PLACE_SUFFIX) or len(typed) <= SHORT_PLACE


async def typed_place(
    message: Message, state: FSMContext, account: User, regions: RegionRepo
) -> None:
    """A village typed, a yes or no to "in your village?", or the problem itself (kept)."""
    typed = clean_text(message.text or "")
    confirming = (await _report(state)).get("place_question") == "confirm"
    if confirming and account.region_code and chatter(typed) is Chatter.ACKNOWLEDGEMENT:
        await _place_chosen(message, state, account.region_code)
        return
    if confirming and compact(typed) in SAYS_NO:
        await _update_report(state, place_question="name")
        await message.answer(_("In which village did it happen? Type its name."))
        return
    if chatter(typed) is not None or not visible_length(typed):
        await _ask_place(message, state, account, regions)
        return
    lookup = await regions.lookup(typed[:50], RegionLevel.VILLAGE)
    villages = lookup.regions
    if lookup.exact and len(villages) == 1:
        await _place_chosen(message, state, villages[0].code)
        return
    if villages and (lookup.exact or names_a_place(typed)):
        keyboard = InlineKeyboardBuilder()
        for village in place_choices(lookup):
            label = local_name(await regions.full_name(village.code))
            keyboard.button(text=label, callback_data=ReportPlace(code=village.code))
        keyboard.adjust(1)
        await message.answer(which_place(lookup, typed), reply_markup=keyboard.as_markup())
        return
    if not confirming and names_a_place(typed):
        await message.answer(
            _(
                "I could not find a village called “{name}”. Check the name and type it again."
            ).format(name=escape(typed[:50]))
        )
        return
    await _keep_text(state, typed)
    await _ask_place(message, state, account, regions, _("I have kept your words for the report."))


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
    text = _(
        "Describe the problem in your own words. You may send several messages, photos and "
        "a location. Press Done when you have finished."
    )
    if report.get("texts"):
        taken = escape(report["texts"][0][:200])
        text = _("I have taken your message: “{text}”").format(text=taken) + "\n" + text
    await message.answer(text, reply_markup=_done_keyboard())


def _done_keyboard() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Done"), callback_data=ReportStep(step="done"))
    return _cancel_row(keyboard).adjust(2).as_markup()


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
    await message.answer(_("Added. Send more, or press Done."), reply_markup=_done_keyboard())


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
    place = local_name(await regions.full_name(report["place"]), i18n.current_locale)
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


async def _report(state: FSMContext) -> dict[str, Any]:
    return dict((await state.get_data()).get("report", {}))


async def _keep_text(state: FSMContext, text: str) -> None:
    """Typed before the description step: the text is the description's beginning."""
    texts = [*(await _report(state)).get("texts", []), text]
    if sum(len(kept) for kept in texts) <= MAX_DESCRIPTION:
        await _update_report(state, texts=texts)


async def _update_report(state: FSMContext, **changes: Any) -> dict[str, Any]:
    report = await _report(state)
    report.update(changes)
    await state.update_data(report=report)
    return report
