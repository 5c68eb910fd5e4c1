"""The village picker: one page of a region's children as buttons, and the state of choosing."""

from __future__ import annotations

from html import escape as quote

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.context import get_i18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.models import Region, RegionLevel
from db.regions import Lookup, RegionRepo
from handlers.keyboards import RegionNav, RegionPick
from knowledge.normalize import to_traditional

PAGE_SIZE = 8
MAX_PLACE_BUTTONS = 20

CHOOSE_PROMPT = {
    RegionLevel.PROVINCE: __("Choose your province:"),
    RegionLevel.CITY: __("Choose your city:"),
    RegionLevel.COUNTY: __("Choose your county:"),
    RegionLevel.TOWNSHIP: __("Choose your township:"),
    RegionLevel.VILLAGE: __("Choose your village:"),
}


def local_name(name: str, locale: str | None = None) -> str:
    """A place name in the reader's characters: traditional (Taiwan forms) for zh_Hant readers.
    Without ``locale``, the locale of the update being handled."""
    locale = locale or get_i18n().current_locale
    return to_traditional(name) if locale == "zh_Hant" else name


class VillageChoice(StatesGroup):
    choosing = State()


async def region_picker(
    regions: RegionRepo, parent: str | None, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons that list one page of a region's children.

    A level with a single choice (one province, say) is skipped: nobody needs to press it.
    """
    children = await regions.children(parent)
    while len(children) == 1 and children[0].level != RegionLevel.VILLAGE:
        parent = children[0].code
        children = await regions.children(parent)
    if not children:
        if parent is None:
            return _(
                "No villages are registered yet. An administrator can add them with "
                "<code>huhuqing regions import FILE</code> or <code>huhuqing demo</code>."
            ), None
        return _("No villages are registered here yet."), _back_only(
            await _back_target(regions, parent)
        )
    level = RegionLevel(children[0].level)
    shown = children[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    keyboard = InlineKeyboardBuilder()
    for region in shown:
        data = (
            RegionPick(code=region.code)
            if region.level == RegionLevel.VILLAGE
            else RegionNav(code=region.code)
        )
        keyboard.button(text=local_name(region.name), callback_data=data)
    keyboard.adjust(2)
    navigation = []
    back = await _back_target(regions, parent)
    if back is not None:
        navigation.append(
            InlineKeyboardButton(text=_("◀ Back"), callback_data=RegionNav(code=back).pack())
        )
    if (page + 1) * PAGE_SIZE < len(children):
        navigation.append(
            InlineKeyboardButton(
                text=_("More ▶"), callback_data=RegionNav(code=parent or "", page=page + 1).pack()
            )
        )
    if navigation:
        keyboard.row(*navigation)
    heading = str(CHOOSE_PROMPT[level])
    if parent is not None:
        heading = f"{quote(local_name(await regions.full_name(parent)))}\n{heading}"
    return heading, keyboard.as_markup()


async def _back_target(regions: RegionRepo, parent: str | None) -> str | None:
    """Where "Back" leads: the nearest ancestor list that differs from this one, or None."""
    if parent is None:
        return None
    ancestors = [region.code for region in await regions.path(parent)][:-1]
    for code in [*reversed(ancestors), None]:
        siblings = await regions.children(code)
        if len(siblings) > 1:
            return code or ""
    return None


def _back_only(code: str | None) -> InlineKeyboardMarkup | None:
    if code is None:
        return None
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("◀ Back"), callback_data=RegionNav(code=code))
    return keyboard.as_markup()


def place_choices(lookup: Lookup) -> list[Region]:
    """The matching places given a button: Telegram refuses a keyboard of over 100 buttons, and
    a common name (新村, 红星村) is shared by thousands of villages across the country."""
    return lookup.regions[:MAX_PLACE_BUTTONS]


def which_place(lookup: Lookup, typed: str) -> str:
    """The question above the buttons of several matching places, or of a guessed one."""
    if lookup.exact:
        text = _("Several places match “{name}”. Which one is yours?").format(name=quote(typed))
    else:
        text = _("Did you mean one of these?")
    if len(lookup.regions) > MAX_PLACE_BUTTONS:
        text += "\n" + _("(The first {shown} of {count} places with this name are shown.)").format(
            shown=MAX_PLACE_BUTTONS, count=len(lookup.regions)
        )
    return text
