"""Babel gettext set-up and the map from Telegram language codes to our locales."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import ErrorEvent, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.catalogs import DOMAIN, LOCALES_DIR
from bot.config import LOCALES

LOCALE_KEY = "user_locale"  # the update's locale, a plain string in the middleware data

_SIMPLIFIED = {"zh", "zh-cn", "zh-hans", "zh-sg", "zh-my", "zh-hans-cn"}
_TRADITIONAL = {"zh-tw", "zh-hk", "zh-mo", "zh-hant", "zh-hant-tw", "zh-hant-hk"}


def locale_for_language_code(language_code: str | None, default: str) -> str:
    """Map Telegram's IETF language code (zh-hans, zh-TW, en-US, ...) to one of our locales.

    aiogram's SimpleI18nMiddleware would send every zh-* code to the default locale, so the map
    is explicit: simplified and traditional Chinese by region or script, English for en-*, and
    the default for everything else.
    """
    if not language_code:
        return default
    code = language_code.lower().replace("_", "-")
    if code in _SIMPLIFIED:
        return "zh_Hans"
    if code in _TRADITIONAL:
        return "zh_Hant"
    if code.startswith("zh-hant"):
        return "zh_Hant"
    if code.startswith("zh"):
        return "zh_Hans"
    if code.startswith("en"):
        return "en"
    return default


def create_i18n(default_locale: str) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


class UserLocaleMiddleware(I18nMiddleware):
    """The locale the user chose with /language, else the one their Telegram app reports.

    It is worked out once per update, right after the account is loaded, and kept as a plain
    string: the error path (an apology after a failed commit, when the account's attributes are
    expired and its session is closed) reuses it and never touches the ORM.
    """

    def setup(self, router: Router, exclude: set[str] | None = None) -> BaseMiddleware:
        super().setup(router, exclude)
        router.update.outer_middleware(self._resolve_once)
        return self

    async def _resolve_once(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data[LOCALE_KEY] = await self.get_locale(event, data)
        return await handler(event, data)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        known: str | None = data.get(LOCALE_KEY)
        if known is not None:
            return known
        account = data.get("account")
        # An error event's account may be expired and detached: not read (the ORM would raise).
        if account is not None and not isinstance(event, ErrorEvent) and account.locale in LOCALES:
            return account.locale
        user: User | None = data.get("event_from_user")
        return locale_for_language_code(
            user.language_code if user else None, self.i18n.default_locale
        )
