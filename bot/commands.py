"""The command menu, registered with setMyCommands: everyone's in every language, and per chat
the menu of a cadre's or an administrator's role."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from db.models import Role, User

# Telegram keys menus by ISO 639-1 code only, so zh_Hant users get theirs per chat (below).
MENU_LANGUAGE_CODES = {"zh_Hans": "zh", "en": "en"}
MENU_CODE_OF_LOCALE = {**MENU_LANGUAGE_CODES, "zh_Hant": "zh"}


def menu(role: str = Role.VILLAGER, stats: bool = False) -> list[BotCommand]:
    """The commands of this role in the current locale: everyone's first, then the role's;
    ``stats`` for a cadre of a county or above (an administrator always has it)."""
    commands = [
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
    if role in (Role.CADRE, Role.ADMIN):
        commands[0] = BotCommand(command="start", description=_("My work: open and overdue cases"))
        commands += [
            BotCommand(command="cases", description=_("Open cases of my area")),
            BotCommand(command="case", description=_("One case: /case NUMBER")),
            BotCommand(command="households", description=_("Households of my area")),
            BotCommand(command="household", description=_("One household: /household NUMBER")),
            BotCommand(command="bindcode", description=_("A binding code for a household")),
            BotCommand(command="web", description=_("Sign in to the web console")),
        ]
    if role == Role.ADMIN or (role == Role.CADRE and stats):
        commands.append(BotCommand(command="stats", description=_("Statistics of my area")))
    if role == Role.ADMIN:
        commands += [
            BotCommand(command="grant", description=_("Give a role: /grant ID ROLE REGION")),
            BotCommand(command="revoke", description=_("Take a role back: /revoke ID")),
            BotCommand(command="linkgroup", description=_("Send a unit's cases to this group")),
            BotCommand(command="unanswered", description=_("Questions I could not answer")),
            BotCommand(command="audit", description=_("Who looked at which household")),
        ]
    return commands


async def set_default_commands(bot: Bot, i18n: I18n) -> None:
    """Register the menu for everyone: the default locale, then each language Telegram keys."""
    with i18n.context():
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(menu())
        for locale, code in MENU_LANGUAGE_CODES.items():
            with i18n.use_locale(locale):
                await bot.set_my_commands(menu(), language_code=code)


async def set_user_commands(
    bot: Bot, chat_id: int, role: str = Role.VILLAGER, stats: bool = False
) -> None:
    """Give one chat its role's menu in the current locale, the language its user chose by hand:
    the per-language menus of the chat would win over it, so they go."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    await bot.set_my_commands(menu(role, stats), scope=scope)
    for code in MENU_LANGUAGE_CODES.values():
        await bot.delete_my_commands(scope=scope, language_code=code)


async def refresh_user_menu(
    bot: Bot, i18n: I18n, user: User, stats: bool = False, seen_locale: str | None = None
) -> None:
    """Give the user's private chat the menu of their role, in their language.

    A language chosen with /language gives one menu in it. Otherwise the chat gets a menu per
    language Telegram keys (``seen_locale``, the one their client just showed, for its code), or,
    for a villager, none: the menus for everyone apply again.
    """
    with i18n.context():
        if user.locale:
            with i18n.use_locale(user.locale):
                await set_user_commands(bot, user.telegram_id, user.role, stats)
            return
        scope = BotCommandScopeChat(chat_id=user.telegram_id)
        if user.role == Role.VILLAGER:
            for code in ("", *MENU_LANGUAGE_CODES.values()):
                await bot.delete_my_commands(scope=scope, language_code=code or None)
            return
        by_code = {code: locale for locale, code in MENU_LANGUAGE_CODES.items()}
        if seen_locale in MENU_CODE_OF_LOCALE:
            by_code[MENU_CODE_OF_LOCALE[seen_locale]] = seen_locale
        for code, locale in {"": i18n.default_locale, **by_code}.items():
            with i18n.use_locale(locale):
                await bot.set_my_commands(
                    menu(user.role, stats), scope=scope, language_code=code or None
                )
