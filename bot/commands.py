"""The command menu, registered with setMyCommands in every language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

# Telegram keys menus by ISO 639-1 code only, so zh_Hant users get theirs per chat (below).
MENU_LANGUAGE_CODES = {"zh_Hans": "zh", "en": "en"}


def menu() -> list[BotCommand]:
    """The commands in the current locale."""
    return [
        BotCommand(command="start", description=_("Start, choose your village")),
        BotCommand(command="topics", description=_("Policies by topic")),
        BotCommand(command="report", description=_("Report a problem")),
        BotCommand(command="mycases", description=_("My reports")),
        BotCommand(command="mycard", description=_("My household's card")),
        BotCommand(command="change", description=_("Report a change in my family")),
        BotCommand(command="bind", description=_("Link my account to my household")),
        BotCommand(command="unbind", description=_("Unlink my account from my household")),
        BotCommand(command="notify", description=_("Reminders on or off")),
        BotCommand(command="help", description=_("What I can do")),
        BotCommand(command="language", description=_("简体中文 / 繁體中文 / English")),
        BotCommand(command="cancel", description=_("Stop what you are doing")),
    ]


async def set_default_commands(bot: Bot, i18n: I18n) -> None:
    """Register the menu for everyone: the default locale, then each language Telegram keys."""
    with i18n.context():
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(menu())
        for locale, code in MENU_LANGUAGE_CODES.items():
            with i18n.use_locale(locale):
                await bot.set_my_commands(menu(), language_code=code)


async def set_user_commands(bot: Bot, chat_id: int) -> None:
    """Give one chat the menu in the current locale: the language its user chose by hand."""
    await bot.set_my_commands(menu(), scope=BotCommandScopeChat(chat_id=chat_id))
