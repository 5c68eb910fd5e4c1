"""A bound household's own cases. "Ask my helper" under the gaps of its policies answer files a
待遇咨询 for its village's township, once per open question; the change report
(handlers/household_change.py) uses the callback data and the replies defined here.

Callback data is never trusted: the household is always the caller's own bound one, and the
benefit must be one of its current gaps."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Bot, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.outbox import SendNow
from bot.report_limit import refuse_extra_report
from db.bindings import BindingRepo
from db.household_cases import BENEFIT_INQUIRY, lock_household, open_inquiry
from db.households import HouseholdRepo, masked_name
from db.models import Household, User
from db.regions import RegionRepo
from grievances.service import CaseService, Renderer, Report
from handlers.filters import PRIVATE_CALLBACK
from handlers.household_case_card import in_locale, record_text
from knowledge.eligibility import gaps
from knowledge.entries import Entry
from knowledge.households import BenefitKind, HouseholdProfile
from knowledge.own_household import Aspect
from knowledge.service import KnowledgeBase


class GapAsk(CallbackData, prefix="hga"):
    """Ask the helper cadre about a benefit the household may be missing."""

    household_id: int
    benefit: str  # the BenefitKind's name: short and ASCII


class ChangeStep(CallbackData, prefix="hcs"):
    """A step of the change report: start, skip (the note), send, cancel."""

    step: str


class ChangeKindPick(CallbackData, prefix="hck"):
    kind: str


class ChangeMemberPick(CallbackData, prefix="hcm"):
    member_id: int


class ChangeRelationPick(CallbackData, prefix="hcr"):
    """The new member's relation: its index among the change's relations."""

    index: int


def create_router() -> Router:
    router = Router(name="household_cases")
    router.callback_query.filter(PRIVATE_CALLBACK)
    router.callback_query.register(ask_helper, GapAsk.filter())
    return router


def bind_first() -> str:
    return _(
        "First link your account to your household: ask your village cadre or your helper "
        "cadre for your household's code, then send /bind CODE (or scan the QR code on your "
        "household's card)."
    )


async def own_household(account: User, session: AsyncSession) -> Household | None:
    """The household the account is linked to now, if any."""
    binding = await BindingRepo(session).active(account.telegram_id)
    return binding.household if binding is not None else None


async def plain_label(household: Household, regions: RegionRepo) -> str:
    """Village and masked head's name, unescaped, as a case's details keep it: 永丰村 梁*顺."""
    village = await regions.get(household.region_code)
    name = village.name if village else household.region_code
    return f"{name} {masked_name(household.head_name)}"


def answer_markup(
    aspect: Aspect,
    household_id: int,
    profile: HouseholdProfile,
    entries: Iterable[Entry],
    locale: str,
) -> InlineKeyboardMarkup | None:
    """The buttons under a "我家" answer: one per gap under the policies, and the change report
    under the overview."""
    keyboard = InlineKeyboardBuilder()
    if aspect is Aspect.POLICIES:
        for gap in gaps(profile, entries):
            keyboard.button(
                text=_("🙋 Ask my helper about {benefit}").format(
                    benefit=in_locale(gap.benefit, locale)
                ),
                callback_data=GapAsk(household_id=household_id, benefit=gap.benefit.name),
            )
    elif aspect is Aspect.OVERVIEW:
        keyboard.button(
            text=_("📝 Report a change in my family"), callback_data=ChangeStep(step="start")
        )
    keyboard.adjust(1)
    return keyboard.as_markup() if keyboard.export() else None


async def ask_helper(
    query: CallbackQuery,
    callback_data: GapAsk,
    bot: Bot,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
    render: Renderer,
    send_now: SendNow,
    settings: Settings,
    i18n: I18n,
    event_update: Update,
) -> None:
    chat_id = query.from_user.id
    household = await own_household(account, session)
    if household is None:
        await query.answer()
        await bot.send_message(chat_id, bind_first())
        return
    benefit = BenefitKind.__members__.get(callback_data.benefit)
    if household.id != callback_data.household_id or benefit is None:
        await query.answer(_("That choice is no longer available."), show_alert=True)
        return
    # Locked until the case is committed: two members tapping at once make one case.
    household = await lock_household(session, household.id) or household
    profile = await HouseholdRepo(session).profile(household)
    gap = next(
        (gap for gap in gaps(profile, (await knowledge.index()).entries) if gap.benefit is benefit),
        None,
    )
    locale = i18n.current_locale
    shown = record_text(benefit, locale)
    if gap is None:
        await query.answer(
            _("Your household's record no longer shows {benefit} as missing.").format(
                benefit=shown
            ),
            show_alert=True,
        )
        return
    existing = await open_inquiry(session, household.id, benefit.value)
    if existing is not None:
        await query.answer()
        await bot.send_message(
            chat_id,
            _(
                "You already asked about {benefit}: your case <b>{number}</b> is open. "
                "I will tell you about every step; /mycases shows it."
            ).format(benefit=shown, number=existing.number),
        )
        return
    if await refuse_extra_report(query, session, account, settings):
        return
    label = await plain_label(household, regions)
    with i18n.use_locale(settings.default_locale):  # for the cadres, in the unit's language
        description = _(
            "Household {household} (number {number}) asks about: {benefit}.\n"
            "Its record suggests it may qualify: {reason}"
        ).format(
            household=label, number=household.number, benefit=benefit.value, reason=gap.rule.reason
        )
    await CaseService(session, render, settings.default_locale).submit(
        Report(
            reporter=account,
            locale=locale,
            category=BENEFIT_INQUIRY,
            place_code=household.region_code,
            description=description,
            household_id=household.id,
            details={
                "benefit": benefit.value,
                "rule": gap.rule.id,
                "household": household.number,
                "label": label,
            },
        ),
        source_update_id=event_update.update_id,
    )
    # Committed: only now may the bot say "received".
    await query.answer()
    await send_now(bot, chat_id)
