"""Reporting a change in the family (/change, the button under the household's overview, or
words such as "我家添了个孩子"): what changed → which member (去世, 嫁出, 大病) or the newcomer's
relation (新生儿, 嫁入) → an optional note → check → a 家庭情况变化 case for the village's
township, with the household attached. Nothing in the registry changes then.

A cadre whose area holds the case presses "Confirm the change" (confirm_change below): the
registry changes, as a new version of the household, in one transaction with the case's event."""

from __future__ import annotations

from contextlib import suppress
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.outbox import SendNow
from bot.report_limit import refuse_extra_report
from db.cases import CaseRepo
from db.household_cases import (
    ABOUT_MEMBER,
    HOUSEHOLD_CHANGE,
    NEW_MEMBER,
    ChangeError,
    ChangeKind,
    member_snapshot,
)
from db.household_template import id_like
from db.models import Household, HouseholdMember, User
from db.regions import RegionRepo
from grievances.household_changes import reported_change
from grievances.service import Actor, CaseError, CaseService, Renderer, Report
from handlers.access import area_path
from handlers.filters import PLAIN_TEXT, PRIVATE, PRIVATE_CALLBACK
from handlers.household_case_card import (
    CHANGE_NAMES,
    ChangeConfirm,
    change_name,
    member_label,
)
from handlers.household_cases import (
    ChangeKindPick,
    ChangeMemberPick,
    ChangeRelationPick,
    ChangeStep,
    bind_first,
    own_household,
    plain_label,
)
from handlers.notices import cadre_buttons
from knowledge.households import MemberFlag
from knowledge.intent import looks_like_grievance
from knowledge.normalize import to_simplified

MAX_NOTE = 200
RELATION_NAMES = {
    "子女": __("Our own child (子女)"),
    "孙子女": __("A grandchild (孙子女)"),
    "儿媳": __("Daughter-in-law (儿媳)"),
    "女婿": __("Son-in-law (女婿)"),
    "配偶": __("Husband or wife (配偶)"),
}
NEWCOMER_QUESTIONS = {
    ChangeKind.BIRTH: __("Whose baby is it?"),
    ChangeKind.MARRIED_IN: __("Who has joined the family?"),
}


class ChangeFlow(StatesGroup):
    kind = State()
    member = State()
    relation = State()
    note = State()
    review = State()


def create_router() -> Router:
    router = Router(name="household_change")
    # Cadres confirm where the case reached them: privately or in their unit's group.
    router.callback_query.register(confirm_change, ChangeConfirm.filter())
    villagers = Router(name="household_change_report")
    villagers.message.filter(PRIVATE)
    villagers.callback_query.filter(PRIVATE_CALLBACK)
    villagers.message.register(start_change, Command("change"))
    villagers.callback_query.register(start_from_button, ChangeStep.filter(F.step == "start"))
    villagers.callback_query.register(cancel_change, ChangeStep.filter(F.step == "cancel"))
    villagers.callback_query.register(
        pick_kind, StateFilter(ChangeFlow.kind), ChangeKindPick.filter()
    )
    # A change offered earlier ("我家添了个孩子"), tapped when no report is under way (later,
    # or after a restart that lost the conversation): the report begins there.
    villagers.callback_query.register(pick_kind_afresh, StateFilter(None), ChangeKindPick.filter())
    villagers.message.register(typed_kind, StateFilter(ChangeFlow.kind), PLAIN_TEXT)
    villagers.callback_query.register(
        pick_member, StateFilter(ChangeFlow.member), ChangeMemberPick.filter()
    )
    villagers.callback_query.register(
        pick_relation, StateFilter(ChangeFlow.relation), ChangeRelationPick.filter()
    )
    villagers.message.register(skip_note, StateFilter(ChangeFlow.note), Command("skip"))
    villagers.callback_query.register(
        skip_note_button, StateFilter(ChangeFlow.note), ChangeStep.filter(F.step == "skip")
    )
    villagers.message.register(take_note, StateFilter(ChangeFlow.note), PLAIN_TEXT)
    # A photo or sticker is no note; commands (/cancel, /help …) go on to their handlers.
    villagers.message.register(not_a_note, StateFilter(ChangeFlow.note), ~F.text)
    villagers.callback_query.register(
        submit, StateFilter(ChangeFlow.review), ChangeStep.filter(F.step == "send")
    )
    # Text where a button is expected: say so, rather than leave the report hanging.
    villagers.message.register(
        use_the_buttons,
        StateFilter(ChangeFlow.member, ChangeFlow.relation, ChangeFlow.review),
        PLAIN_TEXT,
    )
    # A button of a report that is over (or forged): say so, change nothing.
    for data in (ChangeStep, ChangeKindPick, ChangeMemberPick, ChangeRelationPick):
        villagers.callback_query.register(stale_button, data.filter())
    villagers.message.register(change_in_words, PLAIN_TEXT)
    router.include_router(villagers)
    return router


# The villager's report


async def start_change(
    message: Message, state: FSMContext, account: User, session: AsyncSession
) -> None:
    household = await own_household(account, session)
    if household is None:
        await message.answer(bind_first())
        return
    await _begin(state, household)
    await message.answer(**_kind_prompt())


async def start_from_button(
    query: CallbackQuery, bot: Bot, state: FSMContext, account: User, session: AsyncSession
) -> None:
    await query.answer()
    household = await own_household(account, session)
    if household is None:
        await bot.send_message(query.from_user.id, bind_first())
        return
    await _begin(state, household)
    await bot.send_message(query.from_user.id, **_kind_prompt())


async def change_in_words(
    message: Message, state: FSMContext, account: User, session: AsyncSession
) -> None:
    """ "我家添了个孩子": offer the report of that change (a bound user's statement only)."""
    text = message.text or ""
    kind = reported_change(to_simplified(text))
    if kind is None or looks_like_grievance(text):
        raise SkipHandler
    household = await own_household(account, session)
    if household is None:
        raise SkipHandler  # the knowledge base (or the "我家" answers) take it as before
    await _begin(state, household)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(
        text=_("📝 Yes, report it: {change}").format(change=CHANGE_NAMES[kind]),
        callback_data=ChangeKindPick(kind=kind),
    )
    keyboard.button(text=_("Another change"), callback_data=ChangeStep(step="start"))
    _cancel_row(keyboard).adjust(1)
    await message.answer(
        _(
            "Has your family changed? I can tell your township, so that your household's "
            "record is checked and brought up to date."
        ),
        reply_markup=keyboard.as_markup(),
    )


async def _begin(state: FSMContext, household: Household) -> None:
    await state.set_state(ChangeFlow.kind)
    await state.update_data(change={"household_id": household.id})


def _cancel_row(keyboard: InlineKeyboardBuilder) -> InlineKeyboardBuilder:
    keyboard.button(text=_("Cancel"), callback_data=ChangeStep(step="cancel"))
    return keyboard


def _kind_prompt() -> dict[str, Any]:
    keyboard = InlineKeyboardBuilder()
    for kind, name in CHANGE_NAMES.items():
        keyboard.button(text=str(name), callback_data=ChangeKindPick(kind=kind))
    _cancel_row(keyboard).adjust(2)
    return {
        "text": _("What has changed in your family?") + "\n" + _("/cancel stops at any step."),
        "reply_markup": keyboard.as_markup(),
    }


async def cancel_change(query: CallbackQuery, bot: Bot, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await bot.send_message(query.from_user.id, _("Cancelled. Nothing was sent."))


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("That choice is no longer available."), show_alert=True)


async def _change(state: FSMContext) -> dict[str, Any]:
    return dict((await state.get_data()).get("change", {}))


async def _update(state: FSMContext, **changes: Any) -> dict[str, Any]:
    change = {**await _change(state), **changes}
    await state.update_data(change=change)
    return change


async def _household(
    bot: Bot, chat_id: int, state: FSMContext, account: User, session: AsyncSession
) -> Household | None:
    """The household the report began for, if the account is still linked to it; else the
    report ends here and the user is told why."""
    household = await own_household(account, session)
    if household is not None and household.id == (await _change(state)).get("household_id"):
        return household
    await state.clear()
    await bot.send_message(
        chat_id, bind_first() if household is None else _("That choice is no longer available.")
    )
    return None


def _members_for(household: Household, kind: ChangeKind) -> list[HouseholdMember]:
    """Whom the change may be about: a serious illness only of those not yet recorded with one."""
    if kind is ChangeKind.ILLNESS:
        return [m for m in household.members if MemberFlag.SERIOUS_ILLNESS not in m.flags]
    return list(household.members)


async def pick_kind(
    query: CallbackQuery,
    callback_data: ChangeKindPick,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if callback_data.kind not in set(ChangeKind):
        await stale_button(query)
        return
    await query.answer()
    chat_id = query.from_user.id
    household = await _household(bot, chat_id, state, account, session)
    if household is None:
        return
    await _choose_kind(bot, chat_id, state, household, ChangeKind(callback_data.kind), i18n)


async def pick_kind_afresh(
    query: CallbackQuery,
    callback_data: ChangeKindPick,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    if callback_data.kind not in set(ChangeKind):
        await stale_button(query)
        return
    await query.answer()
    household = await own_household(account, session)
    if household is None:
        await bot.send_message(query.from_user.id, bind_first())
        return
    await _begin(state, household)
    await _choose_kind(
        bot, query.from_user.id, state, household, ChangeKind(callback_data.kind), i18n
    )


async def typed_kind(
    message: Message,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    """A change typed instead of tapped ("新生儿", "嫁入"): taken as the tap. Other text goes on
    as before (the choice may have been only offered, under "我家添了个孩子")."""
    kind = _named_kind(message.text or "", i18n)
    if kind is None:
        raise SkipHandler
    household = await _household(bot, message.chat.id, state, account, session)
    if household is not None:
        await _choose_kind(bot, message.chat.id, state, household, kind, i18n)


def _named_kind(text: str, i18n: I18n) -> ChangeKind | None:
    """The change whose button label (or a part of it, 失业 of 失业/返乡) the text is."""
    typed = to_simplified(text).strip().strip("。.!！ ").casefold()
    for locale in {i18n.current_locale, "zh_Hans"}:
        with i18n.use_locale(locale):
            for kind, name in CHANGE_NAMES.items():
                label = to_simplified(str(name)).casefold()
                if typed and typed in (label, *(part.strip() for part in label.split("/"))):
                    return kind
    return None


async def use_the_buttons(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or send /cancel to stop."))


async def _choose_kind(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    household: Household,
    kind: ChangeKind,
    i18n: I18n,
) -> None:
    await _update(state, kind=kind.value)
    keyboard = InlineKeyboardBuilder()
    if kind in ABOUT_MEMBER:
        members = _members_for(household, kind)
        if not members:
            await state.clear()
            await bot.send_message(
                chat_id,
                _("No one in your household's record fits this. Ask your helper cadre."),
            )
            return
        for member in members:
            keyboard.button(
                text=member_label(member_snapshot(member), i18n.current_locale),
                callback_data=ChangeMemberPick(member_id=member.id),
            )
        await state.set_state(ChangeFlow.member)
        text = _("Who is it?")
    elif kind in NEW_MEMBER:
        relations, _band = NEW_MEMBER[kind]
        for index, relation in enumerate(relations):
            keyboard.button(
                text=str(RELATION_NAMES[relation]),
                callback_data=ChangeRelationPick(index=index),
            )
        await state.set_state(ChangeFlow.relation)
        text = str(NEWCOMER_QUESTIONS[kind])
    else:
        await _ask_note(bot, chat_id, state)
        return
    _cancel_row(keyboard).adjust(1)
    await bot.send_message(chat_id, text, reply_markup=keyboard.as_markup())


async def pick_member(
    query: CallbackQuery,
    callback_data: ChangeMemberPick,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
) -> None:
    household = await _household(bot, query.from_user.id, state, account, session)
    if household is None:
        await query.answer()
        return
    kind = ChangeKind((await _change(state))["kind"])
    member = next(
        (m for m in _members_for(household, kind) if m.id == callback_data.member_id), None
    )
    if member is None:  # forged, or another household's member
        await stale_button(query)
        return
    await query.answer()
    await _update(state, member_id=member.id, member=member_snapshot(member))
    await _ask_note(bot, query.from_user.id, state)


async def pick_relation(
    query: CallbackQuery,
    callback_data: ChangeRelationPick,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
) -> None:
    if await _household(bot, query.from_user.id, state, account, session) is None:
        await query.answer()
        return
    relations, age_band = NEW_MEMBER[ChangeKind((await _change(state))["kind"])]
    if not 0 <= callback_data.index < len(relations):
        await stale_button(query)
        return
    await query.answer()
    relation = relations[callback_data.index]
    await _update(state, relation=relation, member={"relation": relation, "age_band": age_band})
    await _ask_note(bot, query.from_user.id, state)


async def _ask_note(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(ChangeFlow.note)
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("Skip"), callback_data=ChangeStep(step="skip"))
    _cancel_row(keyboard).adjust(2)
    await bot.send_message(
        chat_id,
        _(
            "Add a short note for the cadre if you like, for example when it happened. "
            "Otherwise press Skip or send /skip."
        ),
        reply_markup=keyboard.as_markup(),
    )


async def take_note(message: Message, bot: Bot, state: FSMContext, i18n: I18n) -> None:
    note = (message.text or "").strip()
    if len(note) > MAX_NOTE:
        await message.answer(
            _("That is too long: please keep it under {limit} characters.").format(limit=MAX_NOTE)
        )
        return
    if id_like(note):
        await message.answer(
            _("Please send no ID-card or bank card numbers. Type the note again without them.")
        )
        return
    await _update(state, note=note or None)
    await _review(bot, message.chat.id, state, i18n.current_locale)


async def not_a_note(message: Message) -> None:
    await message.answer(_("Please type the note as text, or send /skip."))


async def skip_note(message: Message, bot: Bot, state: FSMContext, i18n: I18n) -> None:
    await _update(state, note=None)
    await _review(bot, message.chat.id, state, i18n.current_locale)


async def skip_note_button(query: CallbackQuery, bot: Bot, state: FSMContext, i18n: I18n) -> None:
    await query.answer()
    await _update(state, note=None)
    await _review(bot, query.from_user.id, state, i18n.current_locale)


async def _review(bot: Bot, chat_id: int, state: FSMContext, locale: str) -> None:
    change = await _change(state)
    await state.set_state(ChangeFlow.review)
    lines = [
        _("Please check your report:"),
        _("Change: {change}").format(change=change_name(change.get("kind"))),
    ]
    if change.get("member"):
        member = escape(member_label(change["member"], locale))
        lines.append(_("Who: {member}").format(member=member))
    if change.get("note"):
        lines.append(_("Note: {note}").format(note=escape(change["note"])))
    lines += ["", _("Nothing in your household's record changes until a cadre has checked it.")]
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text=_("✅ Submit"), callback_data=ChangeStep(step="send"))
    _cancel_row(keyboard).adjust(2)
    await bot.send_message(chat_id, "\n".join(lines), reply_markup=keyboard.as_markup())


async def submit(
    query: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    render: Renderer,
    send_now: SendNow,
    settings: Settings,
    i18n: I18n,
    event_update: Update,
) -> None:
    if await refuse_extra_report(query, session, account, settings):
        return
    await query.answer()
    chat_id = query.from_user.id
    household = await _household(bot, chat_id, state, account, session)
    if household is None:
        return
    change = await _change(state)
    kind = ChangeKind(change["kind"])
    if kind in ABOUT_MEMBER and not any(
        m.id == change.get("member_id") and member_snapshot(m) == change.get("member")
        for m in household.members
    ):
        await state.clear()
        await bot.send_message(chat_id, _("That choice is no longer available."))
        return
    label = await plain_label(household, regions)
    details = {
        "change": kind.value,
        "member_id": change.get("member_id"),
        "member": change.get("member"),
        "relation": change.get("relation"),
        "note": change.get("note"),
        "household": household.number,
        "label": label,
    }
    await CaseService(session, render, settings.default_locale).submit(
        Report(
            reporter=account,
            locale=i18n.current_locale,
            category=HOUSEHOLD_CHANGE,
            place_code=household.region_code,
            description=_describe(details, i18n, settings.default_locale),
            household_id=household.id,
            details=details,
        ),
        source_update_id=event_update.update_id,
    )
    # Committed: only now may the bot say "received".
    await state.clear()
    await send_now(bot, chat_id)


def _describe(details: dict[str, Any], i18n: I18n, locale: str) -> str:
    """The case's description, in the unit's language: what the cadre reads first."""
    with i18n.use_locale(locale):
        lines = [
            _("Household {household} (number {number}) reports a change: {change}.").format(
                household=details["label"],
                number=details["household"],
                change=change_name(details["change"]),
            )
        ]
        if details.get("member"):
            lines.append(_("Who: {member}").format(member=member_label(details["member"], locale)))
        if details.get("note"):
            lines.append(_("Note: {note}").format(note=details["note"]))
    return "\n".join(lines)


# The cadre's confirmation


async def confirm_change(
    query: CallbackQuery,
    callback_data: ChangeConfirm,
    account: User,
    regions: RegionRepo,
    session: AsyncSession,
    render: Renderer,
    settings: Settings,
) -> None:
    area = await area_path(account, regions)
    case = (
        await CaseRepo(session).in_area(area, callback_data.case_id) if area is not None else None
    )
    if case is None:  # outside the area looks exactly like a case that does not exist
        await query.answer(_("Case not found."), show_alert=True)
        return
    if case.category != HOUSEHOLD_CHANGE:
        await stale_button(query)
        return
    if (case.details or {}).get("confirmed_by"):
        await query.answer(_("This change is already in the household's record."), show_alert=True)
        return
    try:
        applied = await CaseService(session, render, settings.default_locale).confirm_change(
            case, Actor.of(account)
        )
    except ChangeError:
        await query.answer(
            _(
                "The household's record no longer matches this report (its members have "
                "changed). Check the household, then resolve the case."
            ),
            show_alert=True,
        )
        return
    except CaseError:
        await query.answer(_("This case cannot do that now."), show_alert=True)
        return
    done = (
        _("Recorded in household {household}'s record. Resolve case {number} when you are done.")
        if applied.version is not None
        else _(
            "Confirmed and noted in case {number}; the record has no field for this change. "
            "Resolve the case when you are done."
        )
    )
    await query.answer(
        done.format(household=applied.household.number, number=case.number), show_alert=True
    )
    if isinstance(query.message, Message):  # the button has done its work
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=cadre_buttons(case))
