"""Callback data shared by several routers."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class RegionNav(CallbackData, prefix="rn"):
    """Show the children of a region ("" = the top of the tree), one page of them."""

    code: str
    page: int = 0


class RegionPick(CallbackData, prefix="rp"):
    """The user chose this village."""

    code: str


class LanguagePick(CallbackData, prefix="lang"):
    locale: str
