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


class AnswerShow(CallbackData, prefix="kbs"):
    """Show this entry's answer (a suggestion or a topic item was pressed)."""

    entry_id: str


class AnswerMore(CallbackData, prefix="kbm"):
    """Show the details of this entry."""

    entry_id: str


class AnswerFeedback(CallbackData, prefix="kbf"):
    entry_id: str
    version: int
    helpful: bool


class TopicPick(CallbackData, prefix="kbt"):
    topic: str
    page: int = 0
