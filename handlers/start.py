"""/start, /help and choosing one's village, by buttons or by typing its name."""

from __future__ import annotations

from html import escape as quote

from aiogram import Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Region, RegionLevel, User
from db.regions import Lookup, RegionRepo
from handlers.filters import PLAIN_TEXT
from handlers.keyboards import RegionNav, RegionPick

PAGE_SIZE = 8
MAX_TYPED_NAME = 50

CHOOSE_PROMPT = {
    RegionLevel.PROVINCE: __("Choose your province:"),
    RegionLevel.CITY: __("Choose your city:"),
    RegionLevel.COUNTY: __("Choose your county:"),
    RegionLevel.TOWNSHIP: __("Choose your township:"),
    RegionLevel.VILLAGE: __("Choose your village:"),
}


class VillageChoice(StatesGroup):
    choosing = State()


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(show_help, Command("help"))
    router.message.register(cancel, Command("cancel"))
    router.callback_query.register(navigate, RegionNav.filter())
    router.callback_query.register(pick_village, RegionPick.filter())
    router.message.register(typed_place, StateFilter(VillageChoice.choosing), PLAIN_TEXT)
    return router


def help_text() -> str:
    return _(
        "I can:\n"
        "• answer questions about poverty-alleviation policies: subsidies, medical costs, "
        "small loans, housing, school, drinking water and jobs — just type your question;\n"
        "• take your report of a problem to the responsible township and follow it to the "
        "end;\n"
        "• remember your village, so that answers fit your area.\n\n"
        "Commands:\n"
        "/topics — browse the policies by topic\n"
        "/report — report a problem\n"
        "/mycases — your reports and where they stand\n"
        "/start — start again and see or change your village\n"
        "/language — 简体中文 / 繁體中文 / English\n"
        "/help — this message\n"
        "/cancel — stop what you are doing"
    )


async def start(message: Message, state: FSMContext, account: User, regions: RegionRepo) -> None:
    name = quote(message.from_user.first_name) if message.from_user else ""
    greeting = _(
        "Hello, {name}! I am Huhuqing (户户清), your helper for poverty-alleviation policies."
    ).format(name=name)
    if account.region_code:
        place = await regions.full_name(account.region_code)
        await state.clear()
        change = InlineKeyboardBuilder()
        change.button(text=_("Change village"), callback_data=RegionNav(code=""))
        await message.answer(
            greeting
            + "\n\n"
            + _("Your village: {place}.").format(place=quote(place))
            + "\n"
            + _("Type a question, or /help to see what I can do."),
            reply_markup=change.as_markup(),
        )
        return
    await message.answer(
        greeting
        + "\n\n"
        + _(
            "First, where do you live? Then my answers fit your area. "
            "Choose below, or type the name of your village."
        )
    )
    await state.set_state(VillageChoice.choosing)
    text, markup = await region_picker(regions, None, 0)
    await message.answer(text, reply_markup=markup)


async def show_help(message: Message) -> None:
    await message.answer(help_text())


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Stopped. Type a question, or /help to see what I can do."))


async def navigate(
    query: CallbackQuery, callback_data: RegionNav, state: FSMContext, regions: RegionRepo
) -> None:
    parent = callback_data.code or None
    if parent is not None and await regions.get(parent) is None:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    await state.set_state(VillageChoice.choosing)
    text, markup = await region_picker(regions, parent, max(callback_data.page, 0))
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    await query.answer()


async def pick_village(
    query: CallbackQuery,
    callback_data: RegionPick,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
) -> None:
    village = await regions.get(callback_data.code)
    if village is None or village.level != RegionLevel.VILLAGE:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    text = await save_village(account, village, session, regions, state)
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    await query.answer()


async def typed_place(
    message: Message,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
) -> None:
    typed = (message.text or "").strip()[:MAX_TYPED_NAME]
    lookup = await regions.lookup(typed)
    matches = lookup.regions
    if not matches:
        await message.answer(
            _(
                "I could not find a place called “{name}”. Check the name, "
                "or choose from the buttons. /cancel stops."
            ).format(name=quote(typed))
        )
        return
    if lookup.exact and len(matches) == 1 and matches[0].level == RegionLevel.VILLAGE:
        await message.answer(await save_village(account, matches[0], session, regions, state))
        return
    if lookup.exact and len(matches) == 1:
        text, markup = await region_picker(regions, matches[0].code, 0)
        await message.answer(text, reply_markup=markup)
        return
    keyboard = InlineKeyboardBuilder()
    for region in matches:
        label = await regions.full_name(region.code)
        data = (
            RegionPick(code=region.code)
            if region.level == RegionLevel.VILLAGE
            else RegionNav(code=region.code)
        )
        keyboard.button(text=label, callback_data=data)
    keyboard.adjust(1)
    await message.answer(which_place(lookup, typed), reply_markup=keyboard.as_markup())


def which_place(lookup: Lookup, typed: str) -> str:
    """The question above the buttons of several matching places, or of a guessed one."""
    if lookup.exact:
        return _("Several places match “{name}”. Which one is yours?").format(name=quote(typed))
    return _("Did you mean one of these?")


async def save_village(
    account: User, village: Region, session: AsyncSession, regions: RegionRepo, state: FSMContext
) -> str:
    account.region_code = village.code
    await session.commit()
    await state.clear()
    place = await regions.full_name(village.code)
    return (
        _("Saved. Your village: {place}.").format(place=quote(place))
        + "\n"
        + _("Now type your question, for example: 小额信贷能贷多少？")
    )


async def region_picker(
    regions: RegionRepo, parent: str | None, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons that list one page of a region's children.

    A level with a single choice (one province, say) is skipped: nobody needs to press it.
    """
    children = await regions.children(parent)
    while len(children) == 1 and children[0].level != RegionLevel.VILLAGE:
        parent = children[0].code
        children = await regions.children(parent)
    if not children:
        if parent is None:
            return _(
                "No villages are registered yet. An administrator can add them with "
                "<code>huhuqing regions import FILE</code> or <code>huhuqing demo</code>."
            ), None
        return _("No villages are registered here yet."), _back_only(
            await _back_target(regions, parent)
        )
    level = RegionLevel(children[0].level)
    shown = children[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    keyboard = InlineKeyboardBuilder()
    for region in shown:
        data = (
            RegionPick(code=region.code)
            if region.level == RegionLevel.VILLAGE
            else RegionNav(code=region.code)
        )
        keyboard.button(text=region.name, callback_data=data)
    keyboard.adjust(2)
    navigation = []
    back = await _back_target(regions, parent)
    if back is not None:
        navigation.append(
            InlineKeyboardButton(text=_("◀ Back"), callback_data=RegionNav(code=back).pack())
        )
    if (page + 1) * PAGE_SIZE < len(children):
        navigation.append(
            InlineKeyboardButton(
                text=_("More ▶"), callback_data=RegionNav(code=parent or "", page=page + 1).pack()
            )
        )
    if navigation:
        keyboard.row(*navigation)
    heading = str(CHOOSE_PROMPT[level])
    if parent is not None:
        heading = f"{quote(await regions.full_name(parent))}\n{heading}"
    return heading, keyboard.as_markup()


async def _back_target(regions: RegionRepo, parent: str | None) -> str | None:
    """Where "Back" leads: the nearest ancestor list that differs from this one, or None."""
    if parent is None:
        return None
    ancestors = [region.code for region in await regions.path(parent)][:-1]
    for code in [*reversed(ancestors), None]:
        siblings = await regions.children(code)
        if len(siblings) > 1:
            return code or ""
    return None


def _back_only(code: str | None) -> InlineKeyboardMarkup | None:
    if code is None:
        return None
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("◀ Back"), callback_data=RegionNav(code=code))
    return keyboard.as_markup()
