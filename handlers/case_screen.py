"""A case as a cadre works on it: one message with its card, its history and the buttons that
apply now, edited in place after every step."""

from __future__ import annotations

from contextlib import suppress
from html import escape

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.models import OPEN_STATUSES, WAITING_STATUSES, Case, CaseEvent, RegionLevel, Role
from db.regions import RegionRepo
from db.users import UserRepo
from handlers.household_case_card import confirm_button
from handlers.keyboards import CaseAction, CaseOutcome
from handlers.notices import OUTCOMES, case_card, local_time

# Telegram's limit is 4096 characters as it counts them (an emoji counts twice): keep a margin.
SCREEN_LIMIT = 3900

EVENT_ICONS = {
    "submitted": "📝",
    "accepted": "✅",
    "replied": "💬",
    "info_requested": "❓",
    "info_added": "➕",
    "resolved": "🏁",
    "transferred": "↪️",
    "escalated": "⚠️",
    "reminded": "⏰",
    "rated": "⭐",
    "reopened": "🔁",
    "closed": "🔒",
    "change_confirmed": "🏠",
}
EVENT_NAMES = {
    "submitted": __("reported"),
    "accepted": __("accepted"),
    "replied": __("replied"),
    "info_requested": __("asked for information"),
    "info_added": __("information added"),
    "resolved": __("resolved"),
    "transferred": __("transferred"),
    "escalated": __("escalated"),
    "overdue": __("overdue at the top level"),
    "reminded": __("reminded"),
    "rated": __("rated"),
    "reopened": __("reopened"),
    "closed": __("closed"),
    "change_confirmed": __("change confirmed into the household's record"),
}
ACTOR_ROLES = {Role.CADRE: __("cadre"), Role.ADMIN: __("administrator")}


def case_keyboard(case: Case) -> InlineKeyboardMarkup | None:
    """The steps that apply to the case now: accept while it waits, reply and resolve once it
    is handled, ask and transfer while it is open; its photos whenever it has some."""
    actions: list[tuple[str, str]] = []
    if case.status in WAITING_STATUSES:
        actions.append(("accept", _("Accept")))
    elif case.status in OPEN_STATUSES:
        actions += [("reply", _("Reply to reporter")), ("resolve", _("Resolve"))]
    if case.status in OPEN_STATUSES:
        actions += [("info", _("Ask for information")), ("transfer", _("Transfer"))]
    if case.attachments:
        actions.append(("media", _("📎 Photos and location")))
    keyboard = InlineKeyboardBuilder()
    for action, label in actions:
        keyboard.button(text=label, callback_data=CaseAction(case_id=case.id, action=action))
    if (confirm := confirm_button(case)) is not None:  # a reported household change
        keyboard.add(confirm)
    keyboard.adjust(2)
    return keyboard.as_markup() if actions or confirm else None


def outcome_keyboard(case: Case) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    for outcome, label in OUTCOMES.items():
        keyboard.button(
            text=str(label), callback_data=CaseOutcome(case_id=case.id, outcome=outcome)
        )
    keyboard.button(text=_("Cancel"), callback_data=CaseAction(case_id=case.id, action="back"))
    keyboard.adjust(2)
    return keyboard.as_markup()


async def transfer_keyboard(case: Case, regions: RegionRepo) -> InlineKeyboardMarkup:
    """Up one level, or to another unit of the same level next to this one; or back."""
    unit = await regions.get(case.unit_code)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("⬆ To the level above"), callback_data=CaseAction(case_id=case.id, action="up")
    )
    siblings = await regions.children(unit.parent_code) if unit and unit.parent_code else []
    for sibling in siblings:
        if sibling.code != case.unit_code and sibling.level != RegionLevel.VILLAGE:
            keyboard.button(
                text=sibling.name,
                callback_data=CaseAction(case_id=case.id, action=f"to-{sibling.code}"),
            )
    keyboard.button(text=_("Cancel"), callback_data=CaseAction(case_id=case.id, action="back"))
    keyboard.adjust(1)
    return keyboard.as_markup()


def why_not(case: Case) -> str:
    """Why a step of a case no longer applies."""
    if case.status == "resolved":
        return _("Case {number} is resolved: the reporter is asked to rate it.").format(
            number=case.number
        )
    if case.status == "closed":
        return _("Case {number} is closed.").format(number=case.number)
    return _("This case cannot do that now.")


async def screen_text(
    case: Case, regions: RegionRepo, users: UserRepo, locale: str, limit: int | None = SCREEN_LIMIT
) -> str:
    """The card and the history; the oldest steps left out if the whole would not fit in one
    message of ``limit`` characters (None: the whole history, to be sent in pieces)."""
    card = case_card(case, await regions.full_name(case.place_code), locale)
    lines = await history_lines(case, regions, users)
    dropped = 0
    while True:
        head = [card, "", _("History:")]
        if dropped:
            head.append(_("… {count} earlier steps: /case {number} shows them all").format(
                count=dropped, number=case.number
            ))  # fmt: skip
        text = "\n".join(head + lines[dropped:])
        if limit is None or len(text) <= limit or dropped >= len(lines):
            return text
        dropped += 1


async def history_lines(case: Case, regions: RegionRepo, users: UserRepo) -> list[str]:
    """One line per event; cadres named by role and unit, the reporter never by id."""
    lines = []
    unit = (case.events[0].data or {}).get("unit") if case.events else None
    for event in case.events:
        who = await event_actor(case, event, users, regions, unit)
        note = f": {escape(event.note)}" if event.note else ""
        moved = (event.data or {}).get("to")
        where = f" → {escape(await unit_name(regions, moved))}" if moved else ""
        lines.append(
            f"{EVENT_ICONS.get(event.kind, '•')} {local_time(event.at)} "
            f"{EVENT_NAMES.get(event.kind, event.kind)}{where} ({who}){note}"
        )
        unit = moved or unit
    return lines


async def event_actor(
    case: Case, event: CaseEvent, users: UserRepo, regions: RegionRepo, unit: str | None
) -> str:
    """Who acted: a cadre by role and their area (else the unit that had the case then); the
    reporter never by id, whatever role they have since."""
    if event.actor_id is None:
        return _("system")
    if event.actor_id == case.reporter_id:
        return _("reporter")
    role = ACTOR_ROLES.get(event.actor_role, _("cadre"))
    user = await users.get(event.actor_id)
    area = user.area_code if user and user.area_code else unit
    if area is None:
        return str(role)
    return _("{role} of {unit}").format(role=role, unit=escape(await unit_name(regions, area)))


async def unit_name(regions: RegionRepo, code: str) -> str:
    region = await regions.get(code)
    return region.name if region else code


async def show_in_place(
    message: Message, case: Case, regions: RegionRepo, users: UserRepo, locale: str
) -> None:
    """Edit the case's message into its current screen (unchanged or gone: nothing to do)."""
    text = await screen_text(case, regions, users, locale)
    with suppress(TelegramBadRequest):
        await message.edit_text(text, reply_markup=case_keyboard(case))
