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


class ReportCategory(CallbackData, prefix="rc"):
    code: str


class ReportAbout(CallbackData, prefix="ra"):
    """Whose conduct a complaint about cadres concerns: village, township or county."""

    level: str


class ReportPlace(CallbackData, prefix="rpl"):
    code: str


class ReportStep(CallbackData, prefix="rs"):
    """A step of the report flow: place_ok, place_change, done, anonymous, named, submit, cancel."""

    step: str


class CaseAction(CallbackData, prefix="ca"):
    """A cadre's button under a case: accept, reply, info, resolve, transfer, up, show."""

    case_id: int
    action: str


class CaseOutcome(CallbackData, prefix="co"):
    case_id: int
    outcome: str


class CaseRate(CallbackData, prefix="cr"):
    case_id: int
    rating: str


class CaseAddInfo(CallbackData, prefix="cai"):
    case_id: int


class CasesPage(CallbackData, prefix="cp"):
    page: int


class BindingUnbind(CallbackData, prefix="ub"):
    """End this account–household link (the member themself, or a cadre of the area)."""

    binding_id: int


class BindingKeep(CallbackData, prefix="ubk"):
    """The member changed their mind: keep the link."""


class CaseView(CallbackData, prefix="cv"):
    """A villager opens one of their cases from /mycases."""

    case_id: int


class CaseRateSkip(CallbackData, prefix="crs"):
    """After 不满意, the villager gives no reason: rate (and reopen) without one."""

    case_id: int
