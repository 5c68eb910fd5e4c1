"""/language: choose 简体中文, 繁體中文 or English; the choice outlives later /start."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import LOCALES
from db.models import User
from db.regions import RegionRepo
from handlers.admin import update_menu
from handlers.keyboards import LanguagePick

# Each language is named in itself, so that anyone can find their own.
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}


def create_router() -> Router:
    router = Router(name="language")
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(set_language, LanguagePick.filter())
    return router


async def choose_language(message: Message) -> None:
    keyboard = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        keyboard.button(text=name, callback_data=LanguagePick(locale=locale))
    await message.answer(_("Choose your language:"), reply_markup=keyboard.as_markup())


async def set_language(
    query: CallbackQuery,
    callback_data: LanguagePick,
    account: User,
    session: AsyncSession,
    i18n: I18n,
    bot: Bot,
    regions: RegionRepo,
) -> None:
    if callback_data.locale not in LOCALES:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    account.locale = callback_data.locale
    await session.commit()
    with i18n.use_locale(callback_data.locale):
        text = _("Language: English. /language changes it again.")
    await update_menu(bot, i18n, account, regions)  # the role's menu, in the new language
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    await query.answer()
