"""/start, /help and choosing one's village, by buttons or by typing its name."""

from __future__ import annotations

from html import escape as quote

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from db.models import Region, RegionLevel, Role, User
from db.regions import RegionRepo
from handlers.access import HANDLER_ROLES, may_see_stats
from handlers.admin import update_menu
from handlers.ask import answer_question
from handlers.cases import work_summary
from handlers.filters import PLAIN_TEXT
from handlers.keyboards import RegionNav, RegionPick
from handlers.places import VillageChoice, local_name, place_choices, region_picker, which_place
from knowledge.service import KnowledgeBase

MAX_TYPED_NAME = 50


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
        "/bind — link your account to your household (the code comes from your village cadre)\n"
        "/mycard — your household's card: its help, helpers and policies\n"
        "/change — tell your township about a change in your family\n"
        "/notify — reminders (a loan falling due) on or off\n"
        "/unbind — remove that link\n"
        "/start — start again and see or change your village\n"
        "/language — 简体中文 / 繁體中文 / English\n"
        "/help — this message\n"
        "/cancel — stop what you are doing"
    )


async def start(
    message: Message,
    state: FSMContext,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    i18n: I18n,
    bot: Bot,
) -> None:
    name = quote(message.from_user.first_name) if message.from_user else ""
    if account.role in HANDLER_ROLES:
        await state.clear()
        await start_work(message, name, account, regions, session, i18n, bot)
        return
    greeting = _(
        "Hello, {name}! I am Huhuqing (户户清), your helper for poverty-alleviation policies."
    ).format(name=name)
    if account.region_code:
        place = local_name(await regions.full_name(account.region_code))
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


async def start_work(
    message: Message,
    name: str,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    i18n: I18n,
    bot: Bot,
) -> None:
    """A cadre's or administrator's /start: who they are here, and their open work."""
    area = local_name(await regions.full_name(account.area_code)) if account.area_code else None
    if account.role == Role.ADMIN:
        who = (
            _("You are an administrator of {area}.").format(area=quote(area))
            if area
            else _("You are an administrator of every area.")
        )
    else:
        who = (
            _("You are a cadre of {area}.").format(area=quote(area))
            if area
            else _("You are a cadre, but no area is set: ask an administrator for one.")
        )
    private = message.chat.type == "private"
    text, markup = await work_summary(account, regions, session, i18n.current_locale, private)
    await message.answer(
        _("Hello, {name}!").format(name=name)
        + " "
        + who
        + "\n\n"
        + text
        + "\n\n"
        + _("/help lists your commands; they are in the menu too."),
        reply_markup=markup,
    )
    if private:  # the menu of their role, in the language their client shows now
        await update_menu(bot, i18n, account, regions, i18n.current_locale)


def cadre_help_text() -> str:
    return _(
        "For cadres:\n"
        "/cases — the cases of your area; /case NUMBER — one case\n"
        "/households — the households of your area, what needs attention first\n"
        "/household NUMBER — one household; record a visit there\n"
        "/bindcode NUMBER — a binding code and QR card for a household\n"
        "/bindings NUMBER — who is linked; /revokecodes NUMBER — cancel its codes"
    )


def admin_help_text() -> str:
    return _(
        "For administrators:\n"
        "/grant TELEGRAM_ID cadre|admin REGION_CODE — give a role (a township or above)\n"
        "/revoke TELEGRAM_ID — take a role back: the user is a villager again\n"
        "/linkgroup REGION_CODE — in a unit's group chat: send its cases there\n"
        "/stats — statistics; /unanswered — questions I could not answer\n"
        "/audit [NUMBER] — who looked at which household"
    )


async def show_help(message: Message, account: User, regions: RegionRepo) -> None:
    """The villager's commands, and those of the sender's role."""
    parts = [help_text()]
    if account.role in HANDLER_ROLES:
        parts.append(cadre_help_text())
        parts.append(_("/web — a sign-in link to the web console, for a computer or a phone"))
    if account.role == Role.CADRE:
        area = await regions.get(account.area_code) if account.area_code else None
        if may_see_stats(account, area.level if area else None):
            parts.append(_("/stats — the statistics of your area"))
    if account.role == Role.ADMIN:
        parts.append(admin_help_text())
    await message.answer("\n\n".join(parts))


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
    knowledge: KnowledgeBase,
    i18n: I18n,
    settings: Settings,
) -> None:
    village = await regions.get(callback_data.code)
    if village is None or village.level != RegionLevel.VILLAGE:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    pending = await pending_question(state)
    text = await save_village(account, village, session, regions, state)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_text(text)
    if pending:
        await answer_question(
            query.message, pending, state, account, session, regions, knowledge, i18n, settings
        )


async def typed_place(
    message: Message,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
    i18n: I18n,
    settings: Settings,
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
        pending = await pending_question(state)
        await message.answer(await save_village(account, matches[0], session, regions, state))
        if pending:
            await answer_question(
                message, pending, state, account, session, regions, knowledge, i18n, settings
            )
        return
    if lookup.exact and len(matches) == 1:
        text, markup = await region_picker(regions, matches[0].code, 0)
        await message.answer(text, reply_markup=markup)
        return
    keyboard = InlineKeyboardBuilder()
    for region in place_choices(lookup):
        label = local_name(await regions.full_name(region.code))
        data = (
            RegionPick(code=region.code)
            if region.level == RegionLevel.VILLAGE
            else RegionNav(code=region.code)
        )
        keyboard.button(text=label, callback_data=data)
    keyboard.adjust(1)
    await message.answer(which_place(lookup, typed), reply_markup=keyboard.as_markup())


async def pending_question(state: FSMContext) -> str | None:
    """The question asked before the village was known, to be answered once it is chosen."""
    return (await state.get_data()).get("pending_question")


async def save_village(
    account: User, village: Region, session: AsyncSession, regions: RegionRepo, state: FSMContext
) -> str:
    account.region_code = village.code
    await session.commit()
    await state.clear()
    place = local_name(await regions.full_name(village.code))
    return (
        _("Saved. Your village: {place}.").format(place=quote(place))
        + "\n"
        + _("Now type your question, for example: 小额信贷能贷多少？")
    )
