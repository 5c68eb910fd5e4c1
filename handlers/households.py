"""Binding a Telegram account to a household. Villagers: /start bind_CODE (the card's link or QR
code), /bind CODE, /unbind. Cadres: /bindcode, /revokecodes and /bindings NUMBER, only for the
households of their area ("not found" otherwise, as for a number that does not exist)."""

from __future__ import annotations

import math
from contextlib import suppress
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bind_links import START_PREFIX, bind_link, qr_png
from db import audit
from db.audit import ViewAction, viewer_of
from db.bindings import BindingRepo, Outcome
from db.households import masked_name
from db.models import Household, User
from db.regions import RegionRepo
from handlers.access import area_path, household_in_area
from handlers.filters import PRIVATE
from handlers.household_case_card import in_locale
from handlers.household_cases import bind_first
from handlers.keyboards import BindingKeep, BindingUnbind
from handlers.notices import local_time

MAX_TYPED_CODE = 64


def create_router() -> Router:
    router = Router(name="households")
    router.message.register(
        bind_by_link,
        CommandStart(deep_link=True, magic=F.args.startswith(START_PREFIX)),
        PRIVATE,
    )
    router.message.register(bind_by_code, Command("bind"), PRIVATE)
    router.message.register(ask_unbind, Command("unbind"), PRIVATE)
    router.callback_query.register(unbind, BindingUnbind.filter())
    router.callback_query.register(keep, BindingKeep.filter())
    router.message.register(create_code, Command("bindcode"))
    router.message.register(revoke_codes, Command("revokecodes"))
    router.message.register(list_bindings, Command("bindings"))
    return router


async def household_label(
    household: Household, regions: RegionRepo, locale: str | None = None
) -> str:
    """The village and the masked head's name, as anyone may be shown them: 红星村 张*明; with
    ``locale``, in the reader's characters (紅星村 張*明 for zh_Hant)."""
    village = await regions.get(household.region_code)
    name = village.name if village else household.region_code
    label = f"{name} {masked_name(household.head_name)}"
    return escape(in_locale(label, locale) if locale else label)


# Villagers


async def bind_by_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    i18n: I18n,
) -> None:
    code = (command.args or "").removeprefix(START_PREFIX)
    await _bind(message, code, state, account, session, regions, i18n.current_locale)


async def bind_by_code(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    i18n: I18n,
) -> None:
    if not command.args:
        await message.answer(
            _(
                "Send /bind and the code from your household's card, for example: "
                "/bind K7MQ-4QXA. Your village cadre gives you the code."
            )
        )
        return
    await _bind(message, command.args, state, account, session, regions, i18n.current_locale)


async def _bind(
    message: Message,
    typed: str,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    locale: str,
) -> None:
    result = await BindingRepo(session).bind(account, typed[:MAX_TYPED_CODE])
    if result.outcome == Outcome.BLOCKED and result.wait is not None:
        minutes = max(1, math.ceil(result.wait.total_seconds() / 60))
        text = _("Too many wrong codes. Please wait {minutes} minutes, then try again.").format(
            minutes=minutes
        )
    elif result.household is None:
        text = _(
            "This code does not work. Please check it, or ask your village cadre for a new one."
        )
    elif result.outcome == Outcome.ALREADY_BOUND:
        text = _("Your account is already linked to the household {household}.").format(
            household=await household_label(result.household, regions, locale)
        )
    else:
        await state.clear()
        text = (
            _("Linked: {household} household.").format(
                household=await household_label(result.household, regions, locale)
            )
            + "\n"
            + _("Answers now fit your village. /unbind removes the link.")
        )
    await message.answer(text)


async def ask_unbind(
    message: Message, account: User, session: AsyncSession, regions: RegionRepo, i18n: I18n
) -> None:
    binding = await BindingRepo(session).active(account.telegram_id)
    if binding is None:  # not a dead end: how to link comes with it
        await message.answer(_("Your account is not linked to a household.") + "\n" + bind_first())
        return
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Yes, unlink"), callback_data=BindingUnbind(binding_id=binding.id))
    keyboard.button(text=_("No, keep it"), callback_data=BindingKeep())
    await message.answer(
        _("Unlink your account from the household {household}?").format(
            household=await household_label(binding.household, regions, i18n.current_locale)
        ),
        reply_markup=keyboard.as_markup(),
    )


async def unbind(
    query: CallbackQuery,
    callback_data: BindingUnbind,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    i18n: I18n,
) -> None:
    """The member unlinks themself, or a cadre of the household's area unlinks a member."""
    repo = BindingRepo(session)
    binding = await repo.get(callback_data.binding_id)
    own = binding is not None and binding.telegram_id == account.telegram_id
    if binding is None or (
        not own
        and await household_in_area(account, regions, session, binding.household.number) is None
    ):
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    household = await household_label(binding.household, regions, i18n.current_locale)
    await repo.unbind(binding)
    if own:
        text = _("Your account is no longer linked to the household {household}.")
    else:
        text = _("Account {id} is no longer linked to the household {household}.")
    await _edit(query, text.format(household=household, id=binding.telegram_id))


async def keep(query: CallbackQuery) -> None:
    await _edit(query, _("Nothing changed: your account stays linked."))


async def _edit(query: CallbackQuery, text: str) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):  # a second tap on the same button
            await query.message.edit_text(text)


# Cadres


async def _household_of(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> Household | None:
    """The household the command names, if the cadre handles it; otherwise say why, once."""
    name = command.command
    if message.chat.type != "private":
        await message.answer(_("Please ask me for this in a private chat."))
    elif await area_path(account, regions) is None:
        await message.answer(_("Only township and county cadres can do this."))
    elif not command.args:
        await message.answer(
            _("Give the household's number, for example: /{command} NUMBER").format(command=name)
        )
    elif household := await household_in_area(account, regions, session, command.args):
        return household
    else:
        await message.answer(_("Household not found."))
    return None


async def create_code(
    message: Message,
    command: CommandObject,
    bot: Bot,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    household = await _household_of(message, command, account, regions, session)
    if household is None:
        return
    label = await household_label(household, regions, i18n.current_locale)
    await audit.record(session, [household], viewer_of(account), account.role, ViewAction.BINDCODE)
    code, expires = await BindingRepo(session).create_code(
        household, f"telegram:{account.telegram_id}"
    )
    me = await bot.me()
    link = bind_link(me.username or "", code)
    number = escape(household.number)
    await message.answer(
        _("Binding code for household {number} ({household}):").format(
            number=number, household=label
        )
        + f"\n<b>{code}</b>\n"
        + _("It links one account, once, until {time}.").format(time=local_time(expires))
        + f"\n{link}"
    )
    await message.answer_photo(
        BufferedInputFile(qr_png(link), filename=f"bind-{code}.png"),
        caption=_(
            "Print this QR code on the household's card. A family member scans it, or sends "
            "/bind {code}, to link their Telegram account. For each further member, create a "
            "new code: /bindcode {number}"
        ).format(code=code, number=number),
    )


async def revoke_codes(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
) -> None:
    household = await _household_of(message, command, account, regions, session)
    if household is None:
        return
    count = await BindingRepo(session).revoke_codes(household)
    await message.answer(
        _("Revoked the unused codes of household {number}: {count}.").format(
            number=escape(household.number), count=count
        )
    )


async def list_bindings(
    message: Message,
    command: CommandObject,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    household = await _household_of(message, command, account, regions, session)
    if household is None:
        return
    await audit.record(session, [household], viewer_of(account), account.role, ViewAction.BINDINGS)
    repo = BindingRepo(session)
    members = await repo.members(household)
    lines = [
        _("Accounts linked to household {number} ({household}): {count}").format(
            number=escape(household.number),
            household=await household_label(household, regions, i18n.current_locale),
            count=len(members),
        )
    ]
    keyboard = InlineKeyboardBuilder()
    for binding in members:
        lines.append(
            "• "
            + _("account {id}, linked {time}").format(
                id=binding.telegram_id, time=local_time(binding.bound_at)
            )
        )
        keyboard.button(
            text=_("Unlink {id}").format(id=binding.telegram_id),
            callback_data=BindingUnbind(binding_id=binding.id),
        )
    keyboard.adjust(1)
    lines.append(
        _("Unused codes: {count} (/revokecodes {number})").format(
            count=await repo.open_codes(household), number=escape(household.number)
        )
    )
    await message.answer("\n".join(lines), reply_markup=keyboard.as_markup() if members else None)
