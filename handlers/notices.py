"""Notifications about cases, rendered in the recipient's language for the outbox."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_skeleton

from db.household_cases import BENEFIT_INQUIRY, HOUSEHOLD_CHANGE
from db.models import Case
from grievances.catalog import categories
from grievances.service import Notice, Notify, Outcome, Rating, Reach
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
MOVED = {
    Notify.TRANSFERRED: __("Your case {number} was passed to {unit}, which is responsible."),
    Notify.ESCALATED: __("Your case {number} passed its deadline and went up to {unit}."),
    Notify.REOPENED: __("Your case {number} is reopened and goes to {unit}."),
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
    """A moment to the minute, for cadres' screens."""
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def local_date(moment: datetime, locale: str | None = None) -> str:
    """The day of a moment in Beijing, as people say it (12月8日; the year only when it is not
    this one)."""
    day = moment.astimezone(LOCAL_TIME).date()
    this_year = datetime.now(LOCAL_TIME).year == day.year
    locale = locale or get_i18n().current_locale
    return format_skeleton("MMMd" if this_year else "yMMMd", day, locale=locale)


def due_date(moment: datetime, locale: str | None = None) -> str:
    """A deadline for villagers: its day and half-day, in Beijing time, said as such."""
    date = local_date(moment, locale)
    if moment.astimezone(LOCAL_TIME).hour < 12:
        return _("{date}, morning (Beijing time)").format(date=date)
    return _("{date}, afternoon (Beijing time)").format(date=date)


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


def received(case: Case, unit: str, reach: str = Reach.UNIT, empty: str = "") -> str:
    """The reporter's confirmation: the tracking number, who handles it, and by when. ``reach``
    says who really has it when ``empty`` (the unit it was for) has nobody registered."""
    number = _("Received. Your tracking number is <b>{number}</b>.").format(number=case.number)
    due = {"accept": due_date(case.accept_due), "resolve": due_date(case.resolve_due)}
    if reach == Reach.NOBODY:
        handler = _(
            "Nobody is registered yet to handle cases for {unit}. Your case is kept: whoever is "
            "registered for it will find it in their list."
        ).format(unit=escape(empty))
    else:
        if reach == Reach.UP:
            who = _("{empty} has no one registered to handle cases, so {unit} handles it")
        elif reach == Reach.ADMINS:
            who = _("{empty} has no one registered to handle cases, so the admins handle it")
        else:
            who = _("{unit} handles it")
        handler = _("{who}: it should be accepted by {accept} and resolved by {resolve}.").format(
            who=who.format(unit=unit, empty=escape(empty)), **due
        )
    steps = _("I will tell you about every step; /mycases shows your reports.")
    text = f"{number}\n{handler}{_sentence_gap()}{steps}"
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


def _sentence_gap() -> str:
    """What separates two sentences: a space in English, nothing in Chinese."""
    return "" if get_i18n().current_locale.startswith("zh") else " "


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
                if note:
                    heading += "\n" + _("Their reason: {reason}").format(reason=note)
            elif why == "transferred":
                heading = _("↪️ Transferred to you: {reason}").format(reason=note)
            else:
                heading = _("🆕 New case for {unit}.").format(unit=unit)
            if empty := notice.extra.get("empty"):
                heading += "\n" + _(
                    "{empty} has no cadre and no linked group, so this case came to you."
                ).format(empty=escape(empty))
            card = case_card(case, notice.place, notice.locale)
            return f"{heading}\n\n{card}", cadre_buttons(case)
        if kind is Notify.INFO_ADDED:
            text = _("Case {number}: the reporter added information:").format(number=number)
            return f"{text}\n{note}", cadre_buttons(case)
        if kind is Notify.UNSTAFFED:
            return self._unstaffed(notice), None
        if kind is Notify.REMINDER:
            due = case.accept_due if notice.extra.get("deadline") == "accept" else case.resolve_due
            text = (
                _("⏰ Case {number} must be accepted by {due}.")
                if notice.extra.get("deadline") == "accept"
                else _("⏰ Case {number} must be resolved by {due}.")
            ).format(number=number, due=local_time(due))
            return text, cadre_buttons(case)
        return self._to_reporter(notice, number, unit, note)

    def _unstaffed(self, notice: Notice) -> str:
        """To the area's admins: the unit a case was for has nobody, and who has it now."""
        empty = escape(notice.extra["empty"])
        text = _(
            "⚠️ {empty} has no cadre and no linked group: case {number} went to {unit} instead."
        )
        if notice.unit == notice.extra["empty"]:
            text = _(
                "⚠️ {empty} has no cadre and no linked group: case {number} went to the admins."
            )
        fix = _("Grant a cadre there (/grant) or link its group (/linkgroup).")
        return text.format(empty=empty, number=notice.case.number, unit=escape(notice.unit)) + (
            "\n" + fix
        )

    def _to_reporter(
        self, notice: Notice, number: str, unit: str, note: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        case, kind = notice.case, notice.kind
        if kind is Notify.RECEIVED:
            reach, empty = notice.extra.get("reach", Reach.UNIT), notice.extra.get("empty", "")
            return received(case, unit, reach, empty), None
        if kind is Notify.ACCEPTED:
            return _(
                "Your case {number} was accepted by {unit}. It should be resolved by {due}."
            ).format(number=number, unit=unit, due=due_date(case.resolve_due)), None
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
        if kind in (Notify.TRANSFERRED, Notify.ESCALATED, Notify.REOPENED):
            text = MOVED[kind].format(number=number, unit=unit)
            if notice.extra.get("reach") == Reach.NOBODY:
                text += "\n" + _(
                    "Nobody is registered there yet to handle it: it is kept until someone is."
                )
            return text, None
        if notice.extra.get("unrated"):
            return _("Your case {number} is closed: it was resolved and not rated.").format(
                number=number
            ), None
        return _("Your case {number} is closed. Thank you for your rating.").format(
            number=number
        ), None
