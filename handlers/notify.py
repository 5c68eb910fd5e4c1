"""/notify: reminders about one's household (a loan falling due) on or off. `/notify on`,
`/notify off`, or `/notify` alone to see the setting and switch it with a button."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from handlers.filters import PRIVATE, PRIVATE_CALLBACK

# Typed after /notify; the Chinese words are what a villager may type instead.
ON_WORDS = {"on", "开", "開"}
OFF_WORDS = {"off", "关", "關"}


class NotifySet(CallbackData, prefix="ntf"):
    on: bool


def create_router() -> Router:
    router = Router(name="notify")
    router.message.register(notify, Command("notify"), PRIVATE)
    router.callback_query.register(pressed, NotifySet.filter(), PRIVATE_CALLBACK)
    return router


def _buttons() -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("🔔 Reminders on"), callback_data=NotifySet(on=True))
    keyboard.button(text=_("🔕 Reminders off"), callback_data=NotifySet(on=False))
    return keyboard.as_markup()


def _confirmation(on: bool) -> str:
    if on:
        return _("Reminders are on. I will tell you when your household's loan falls due soon.")
    return _("Reminders are off. Send /notify on to turn them back on.")


async def notify(
    message: Message, command: CommandObject, account: User, session: AsyncSession
) -> None:
    word = (command.args or "").strip().lower()
    if not word:
        status = (
            _("Reminders about your household (such as a loan falling due) are on.")
            if account.household_notices
            else _("Reminders about your household (such as a loan falling due) are off.")
        )
        await message.answer(status, reply_markup=_buttons())
        return
    if word not in ON_WORDS | OFF_WORDS:
        await message.answer(_("Sorry, I did not understand. Send /notify on or /notify off."))
        return
    account.household_notices = word in ON_WORDS
    await session.commit()
    await message.answer(_confirmation(account.household_notices))


async def pressed(
    query: CallbackQuery, callback_data: NotifySet, account: User, session: AsyncSession
) -> None:
    account.household_notices = callback_data.on
    await session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_text(_confirmation(callback_data.on))
    await query.answer()
