"""Notifications about cases, rendered in the recipient's language for the outbox."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.household_cases import BENEFIT_INQUIRY, HOUSEHOLD_CHANGE
from db.models import Case
from grievances.catalog import categories
from grievances.service import Notice, Notify, Outcome, Rating
from handlers.household_case_card import confirm_button, household_case_lines
from handlers.keyboards import CaseAction, CaseAddInfo, CaseRate

# Deadlines are shown in China's time, whatever the server's clock zone.
LOCAL_TIME = ZoneInfo("Asia/Shanghai")

OUTCOMES = {
    Outcome.FIXED: __("fixed"),
    Outcome.PARTLY_FIXED: __("partly fixed"),
    Outcome.NOT_OURS: __("not our responsibility"),
    Outcome.NO_ACTION: __("no action taken"),
}
RATINGS = {
    Rating.SATISFIED: __("Satisfied (满意)"),
    Rating.BASICALLY: __("Basically satisfied (基本满意)"),
    Rating.UNSATISFIED: __("Not satisfied (不满意)"),
}
STATUSES = {
    "submitted": __("waiting to be accepted"),
    "accepted": __("being handled"),
    "info_requested": __("waiting for your information"),
    "resolved": __("resolved, waiting for your rating"),
    "closed": __("closed"),
    "reopened": __("reopened"),
}


def local_time(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def category_name(code: str, locale: str) -> str:
    category = categories().get(code)
    return category.name(locale) if category else code


def cadre_buttons(case: Case) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    actions = [
        ("accept", _("Accept")),
        ("reply", _("Reply to reporter")),
        ("info", _("Ask for information")),
        ("resolve", _("Resolve")),
        ("transfer", _("Transfer")),
    ]
    if case.attachments:
        actions.append(("media", _("📎 Photos and location")))
    for action, label in actions:
        keyboard.button(text=label, callback_data=CaseAction(case_id=case.id, action=action))
    if (confirm := confirm_button(case)) is not None:  # a reported household change
        keyboard.add(confirm)
    keyboard.adjust(2, 2, 2)
    return keyboard.as_markup()


def case_card(case: Case, place: str, locale: str) -> str:
    """What a cadre sees of a case: never who reported it unless they chose to be named."""
    reporter = (
        _("Reporter: anonymous")
        if case.anonymous
        else _("Reporter: named, Telegram id {id}").format(id=case.reporter_id)
    )
    return "\n".join(
        [
            _("Case {number} — {category}").format(
                number=case.number, category=escape(category_name(case.category, locale))
            ),
            _("Place: {place}").format(place=escape(place)),
            reporter,
            *household_case_lines(case, locale),
            _("Status: {status}").format(status=STATUSES.get(case.status, case.status)),
            _("Accept by {accept}, resolve by {resolve}").format(
                accept=local_time(case.accept_due), resolve=local_time(case.resolve_due)
            ),
            *_attachment_line(case),
            "",
            escape(case.description),
        ]
    )


def _attachment_line(case: Case) -> list[str]:
    photos = sum(1 for item in case.attachments if item.kind == "photo")
    located = any(item.kind == "location" for item in case.attachments)
    if not (photos or located):
        return []
    parts = [_("📷 {count} photos").format(count=photos)] if photos else []
    if located:
        parts.append(_("📍 location"))
    return [" · ".join(parts)]


def received(case: Case, unit: str) -> str:
    """The reporter's confirmation: the tracking number, who handles it, and by when."""
    text = _(
        "Received. Your tracking number is <b>{number}</b>.\n"
        "{unit} handles it: it should be accepted by {accept} and resolved by "
        "{resolve}. I will tell you about every step; /mycases shows your reports."
    ).format(
        number=case.number,
        unit=unit,
        accept=local_time(case.accept_due),
        resolve=local_time(case.resolve_due),
    )
    if case.category == BENEFIT_INQUIRY:
        note = _(
            "The cadres see your household and your question, not your Telegram account. "
            "Their answer comes here."
        )
    elif case.category == HOUSEHOLD_CHANGE:
        note = _("Nothing in your household's record changes until a cadre has checked it.")
    else:
        return text
    return f"{text}\n{note}"


class NoticeRenderer:
    """Renders a Notice with aiogram's gettext in the recipient's locale."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def __call__(self, notice: Notice) -> tuple[str, dict[str, Any] | None]:
        with self.i18n.context(), self.i18n.use_locale(notice.locale):
            text, markup = self._render(notice)
        return text, markup.model_dump(exclude_none=True) if markup else None

    def _render(self, notice: Notice) -> tuple[str, InlineKeyboardMarkup | None]:
        case, kind = notice.case, notice.kind
        number = case.number
        unit = escape(notice.unit)
        note = escape(notice.note or "")
        if kind is Notify.NEW_CASE:
            why = notice.extra.get("why")
            if why == "escalated":
                heading = _("⚠️ Escalated to you: a deadline was missed below.")
            elif why == "reopened":
                heading = _("⚠️ Reopened: the reporter was not satisfied.")
            elif why == "transferred":
                heading = _("↪️ Transferred to you: {reason}").format(reason=note)
            else:
                heading = _("🆕 New case for {unit}.").format(unit=unit)
            card = case_card(case, notice.place, notice.locale)
            return f"{heading}\n\n{card}", cadre_buttons(case)
        if kind is Notify.INFO_ADDED:
            text = _("Case {number}: the reporter added information:").format(number=number)
            return f"{text}\n{note}", cadre_buttons(case)
        if kind is Notify.REMINDER:
            due = case.accept_due if notice.extra.get("deadline") == "accept" else case.resolve_due
            text = (
                _("⏰ Case {number} must be accepted by {due}.")
                if notice.extra.get("deadline") == "accept"
                else _("⏰ Case {number} must be resolved by {due}.")
            ).format(number=number, due=local_time(due))
            return text, cadre_buttons(case)
        return self._to_reporter(notice, number, unit, note)

    def _to_reporter(
        self, notice: Notice, number: str, unit: str, note: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        case, kind = notice.case, notice.kind
        if kind is Notify.RECEIVED:
            return received(case, unit), None
        if kind is Notify.ACCEPTED:
            return _(
                "Your case {number} was accepted by {unit}. It should be resolved by {due}."
            ).format(number=number, unit=unit, due=local_time(case.resolve_due)), None
        if kind is Notify.REPLY:
            heading = _("Message from {unit} about your case {number}:")
            return heading.format(unit=unit, number=number) + f"\n{note}", None
        if kind is Notify.INFO_REQUESTED:
            keyboard = InlineKeyboardBuilder()
            keyboard.button(text=_("Add information"), callback_data=CaseAddInfo(case_id=case.id))
            heading = _("{unit} needs more information about your case {number}:")
            return heading.format(unit=unit, number=number) + f"\n{note}", keyboard.as_markup()
        if kind is Notify.RESOLVED:
            outcome = OUTCOMES[Outcome(notice.extra["outcome"])]
            keyboard = InlineKeyboardBuilder()
            for rating, label in RATINGS.items():
                keyboard.button(
                    text=str(label), callback_data=CaseRate(case_id=case.id, rating=rating)
                )
            keyboard.adjust(1)
            text = _("Your case {number} was handled: {outcome}.").format(
                number=number, outcome=outcome
            )
            question = _("Are you satisfied with how it was handled?")
            return f"{text}\n{note}\n\n{question}", keyboard.as_markup()
        if kind is Notify.TRANSFERRED:
            return _("Your case {number} was passed to {unit}, which is responsible.").format(
                number=number, unit=unit
            ), None
        if kind is Notify.ESCALATED:
            return _("Your case {number} passed its deadline and went up to {unit}.").format(
                number=number, unit=unit
            ), None
        if kind is Notify.REOPENED:
            return _("Your case {number} is reopened and goes to {unit}.").format(
                number=number, unit=unit
            ), None
        if notice.extra.get("unrated"):
            return _("Your case {number} is closed: it was resolved and not rated.").format(
                number=number
            ), None
        return _("Your case {number} is closed. Thank you for your rating.").format(
            number=number
        ), None
