"""What a cadre sees of a household case, in its card and notifications: the household (village,
masked name, number), the benefit asked about or the change reported, and the button that
confirms a change into the registry."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from db.household_cases import (
    BENEFIT_INQUIRY,
    HOUSEHOLD_CHANGE,
    ChangeKind,
    awaiting_confirmation,
)
from db.models import Case
from knowledge.normalize import to_traditional

CHANGE_NAMES = {
    ChangeKind.BIRTH: __("New baby"),
    ChangeKind.DEATH: __("Death in the family"),
    ChangeKind.MARRIED_IN: __("Married into the family"),
    ChangeKind.MARRIED_OUT: __("Married out of the family"),
    ChangeKind.ILLNESS: __("Serious illness"),
    ChangeKind.JOBLESS: __("Lost work / came back home"),
    ChangeKind.DISASTER: __("Hit by a disaster"),
    ChangeKind.INCOME_DROP: __("Income fell sharply"),
}


class ChangeConfirm(CallbackData, prefix="hcc"):
    """A cadre confirms the change reported in this case: the registry changes."""

    case_id: int


def in_locale(text: str, locale: str) -> str:
    """Record data (Chinese) as the reader sees it: traditional for zh_Hant (for a button)."""
    return to_traditional(text) if locale == "zh_Hant" else text


def record_text(text: str, locale: str) -> str:
    """Record data for an HTML message: in the reader's characters, escaped."""
    return escape(in_locale(text, locale))


def member_label(member: dict[str, Any], locale: str) -> str:
    """A member as cases name them: relation and age band (户主 · 60+), never a name."""
    return in_locale(f"{member.get('relation', '?')} · {member.get('age_band', '?')}", locale)


def change_name(code: str | None) -> str:
    name = CHANGE_NAMES.get(ChangeKind(code)) if code in set(ChangeKind) else None
    return str(name) if name else escape(str(code))


def household_case_lines(case: Case, locale: str) -> list[str]:
    """The lines a household case adds to the cadre's card (none for other cases)."""
    details = case.details or {}
    if case.category not in (BENEFIT_INQUIRY, HOUSEHOLD_CHANGE) or "household" not in details:
        return []
    lines = [
        "🏠 "
        + _("Household: {household}, number {number}").format(
            household=record_text(details.get("label", ""), locale),
            number=escape(details["household"]),
        )
    ]
    if case.category == BENEFIT_INQUIRY:
        benefit = record_text(details.get("benefit", "?"), locale)
        return [*lines, _("Asks about: {benefit}").format(benefit=benefit)]
    lines.append(_("Change: {change}").format(change=change_name(details.get("change"))))
    if details.get("member"):
        member = escape(member_label(details["member"], locale))
        lines.append(_("Who: {member}").format(member=member))
    if details.get("confirmed_by"):
        lines.append("✅ " + _("Confirmed into the household's record."))
    elif awaiting_confirmation(case):
        lines.append(_("The record changes only when a cadre presses “Confirm the change”."))
    return lines


def confirm_button(case: Case) -> InlineKeyboardButton | None:
    """Under a reported change that is waiting for a cadre's confirmation."""
    if not awaiting_confirmation(case):
        return None
    return InlineKeyboardButton(
        text=_("✅ Confirm the change"), callback_data=ChangeConfirm(case_id=case.id).pack()
    )
