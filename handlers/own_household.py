""" "我家" questions answered from the bound household's record: its helpers, loan, policies and
gaps, measures, or its six clears in short. Other questions (and an unbound user's question that
names only a general policy) go on to the knowledge base (handlers/ask.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from html import escape

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import split_text
from db.bindings import BindingRepo
from db.household_template import Helper, HouseholdData, Measure
from db.households import HouseholdRepo, data_of
from db.models import Household, MeasureStatus, User
from db.regions import RegionRepo
from handlers.ask import MAX_QUESTION, localized
from handlers.filters import PLAIN_TEXT, PRIVATE
from handlers.household_cases import answer_markup
from handlers.household_visits import local_today
from handlers.households import household_label
from knowledge.eligibility import applicable, gaps, in_region
from knowledge.entries import Entry
from knowledge.households import BenefitKind, HouseholdProfile, Status
from knowledge.intent import looks_like_grievance
from knowledge.own_household import Aspect, asks_about_own_household, needs_record
from knowledge.service import KnowledgeBase

# The entries on a loan's term, renewal and delay; each is shown only in its region.
LOAN_ENTRIES = ("microcredit.renewal", "microcredit.term", "microcredit.epidemic_delay")


def create_router() -> Router:
    router = Router(name="own_household")
    router.message.filter(PRIVATE)
    router.message.register(answer_own_household, PLAIN_TEXT)
    return router


async def answer_own_household(
    message: Message,
    account: User,
    session: AsyncSession,
    regions: RegionRepo,
    knowledge: KnowledgeBase,
    i18n: I18n,
) -> None:
    question = (message.text or "")[:MAX_QUESTION]
    aspect = asks_about_own_household(question)
    if aspect is None or looks_like_grievance(question):
        raise SkipHandler  # not about the household, or a complaint: the report flow offers itself
    binding = await BindingRepo(session).active(account.telegram_id)
    if binding is None:
        if not needs_record(question, aspect):
            raise SkipHandler  # a general policy question: the knowledge base answers it
        await message.reply(how_to_bind())
        return
    household = binding.household
    profile = await HouseholdRepo(session).profile(household)
    entries = (await knowledge.index()).entries
    locale = i18n.current_locale
    text = await render(aspect, household, profile, entries, regions, locale)
    pieces = split_text(text)
    markup = answer_markup(aspect, household.id, profile, entries, locale)  # under the last piece
    for number, piece in enumerate(pieces, start=1):
        await message.reply(piece, reply_markup=markup if number == len(pieces) else None)


def how_to_bind() -> str:
    """What an unbound user is told when the answer needs their household's record."""
    return _(
        "I can answer this from your household's record once your account is linked to "
        "it. Ask your village cadre or your helper cadre for your household's binding "
        "code, then send /bind CODE (or scan the QR code on your household's card)."
    )


async def render(
    aspect: Aspect,
    household: Household,
    profile: HouseholdProfile,
    entries: Iterable[Entry],
    regions: RegionRepo,
    locale: str,
    today: date | None = None,
) -> str:
    data = data_of(household)
    head = _("Household {household}").format(household=await household_label(household, regions))
    if aspect is Aspect.HELPERS:
        body = render_helpers(data, locale)
    elif aspect is Aspect.LOAN:
        # The day in China, as the loan's dates are: a server on UTC is a day behind at night.
        body = render_loan(data, profile, entries, locale, today or local_today())
    elif aspect is Aspect.POLICIES:
        body = render_policies(data, profile, entries, locale)
    elif aspect is Aspect.MEASURES:
        body = render_measures(data, locale)
    else:
        body = render_overview(data, locale)
    return f"<b>{localized(head, locale)}</b>\n" + body


def _t(text: object, locale: str) -> str:
    """Record data (Chinese) as the reader sees it: traditional for zh_Hant, escaped."""
    return escape(localized(str(text), locale))


def separators(locale: str) -> tuple[str, str, str]:
    """The colon, comma and semicolon the bot puts between labels and items: ASCII in English."""
    return (": ", ", ", "; ") if locale == "en" else ("：", "，", "；")


def enumeration(locale: str) -> str:
    """Between the items of a list (医疗救助、防贫保): a comma in English."""
    return ", " if locale == "en" else "、"


def _phone(phone: str | None) -> str:
    """Plain digits: clients turn them into a tap-to-call link (an HTML tel: link is not)."""
    if not phone:
        return _("no phone recorded")
    return ("+" if phone.strip().startswith("+") else "") + "".join(filter(str.isdigit, phone))


def _helper_line(helper: Helper, locale: str) -> str:
    colon = separators(locale)[0]
    return f"• {_t(helper.role, locale)} {_t(helper.name, locale)}{colon}{_phone(helper.phone)}"


def render_helpers(data: HouseholdData, locale: str) -> str:
    if not data.helpers:
        return _("No helper cadre is recorded for your household. Ask your village committee.")
    lines = [_("Your helper cadres (tap a number to call):")]
    lines += [_helper_line(helper, locale) for helper in data.helpers]
    return "\n".join(lines)


def _source(entry: Entry, locale: str) -> str:
    return "📄 " + _("Source: {source}, issued {date}").format(
        source=_t(entry.source_line(), locale), date=entry.effective
    )


def render_loan(
    data: HouseholdData,
    profile: HouseholdProfile,
    entries: Iterable[Entry],
    locale: str,
    today: date,
) -> str:
    loans = [b for b in data.benefits if b.kind == BenefitKind.MICROCREDIT]
    lines = []
    if not loans:
        lines.append(_("No small loan is recorded for your household."))
    for loan in loans:
        lines.append(
            _("Small loan: {amount} yuan, from {start}, due {due}.").format(
                amount=loan.amount if loan.amount is not None else "?",
                start=loan.start or "?",
                due=loan.due or "?",
            )
        )
        if loan.due is not None:
            days = (loan.due - today).days
            lines.append(
                _("{days} days left.").format(days=days)
                if days >= 0
                else _("It was due {days} days ago.").format(days=-days)
            )
    by_id = {entry.id: entry for entry in entries}
    rules = [
        by_id[entry_id]
        for entry_id in LOAN_ENTRIES
        if entry_id in by_id and in_region(by_id[entry_id], profile.region_names)
    ]
    if rules:
        lines.append("")
        lines.append(_("The rules on the term, renewal and delay that apply to you:"))
        if locale == "en":
            lines.append(_("From the Chinese policy documents (answer in Chinese):"))
        for entry in rules:
            lines.append(f"\n<b>{_t(entry.questions[0], locale)}</b>")
            lines.append(_t(entry.answer, locale))
            lines.append(_source(entry, locale))
    return "\n".join(lines)


def render_policies(
    data: HouseholdData,
    profile: HouseholdProfile,
    entries: Iterable[Entry],
    locale: str,
    *,
    for_cadre: bool = False,
) -> str:
    """The policies that fit and the gaps, told to the household; ``for_cadre``: told to a
    cadre about "this household" (the cadre is the one to ask)."""
    entries = list(entries)
    found = applicable(profile, entries)
    if not found:
        if for_cadre:
            return _("No policy rule I know of matches this household's record.")
        return _("No policy rule I know of matches your household's record. Ask your helper cadre.")
    lines = [
        _("Policies that fit this household, and why:")
        if for_cadre
        else _("Policies that fit your household, and why:")
    ]
    for number, match in enumerate(found, start=1):
        lines.append(f"\n{number}. {_t(match.reason, locale)}")
        for entry in match.entries:
            lines.append(f"   • {_t(entry.questions[0], locale)}")
            lines.append(f"     {_source(entry, locale)}")
    missing = gaps(profile, entries)
    lines.append("")
    if not missing:
        lines.append(
            _("I see nothing this household may be missing in its record.")
            if for_cadre
            else _("I see nothing your household may be missing in its record.")
        )
        return "\n".join(lines)
    benefits = enumeration(locale).join(_t(gap.benefit, locale) for gap in missing)
    if for_cadre:
        lines.append(_("It may not have these yet: {benefits}.").format(benefits=benefits))
        return "\n".join(lines)
    lines.append(_("You may not have these yet: {benefits}.").format(benefits=benefits))
    lines.append(_("Ask your helper cadre about them:"))
    lines += [_helper_line(helper, locale) for helper in data.helpers[:1]]
    return "\n".join(lines)


def _measure_line(measure: Measure, locale: str) -> str:
    colon, comma, _semicolon = separators(locale)
    details = [str(x) for x in (measure.project, measure.year) if x]
    if measure.amount:
        details.append(_("{amount} yuan").format(amount=measure.amount))
    text = _t(measure.kind, locale)
    if details:
        inside = _t(comma.join(details), locale)
        text += f" ({inside})" if locale == "en" else f"（{inside}）"
    return f"• {text}{colon}{_t(measure.status, locale)}"


def render_measures(data: HouseholdData, locale: str, *, for_cadre: bool = False) -> str:
    """The household's measures, told to it; ``for_cadre``: about "this household"."""
    if not data.measures:
        if for_cadre:
            return _("No help measure is recorded for this household.")
        return _("No help measure is recorded for your household.")
    heading = (
        _("This household's help measures:") if for_cadre else _("Your household's help measures:")
    )
    return "\n".join([heading, *(_measure_line(measure, locale) for measure in data.measures)])


def _yes_no(value: bool | None) -> str:
    if value is None:
        return _("not recorded")
    return _("yes") if value else _("no")


def render_overview(data: HouseholdData, locale: str) -> str:
    colon = separators(locale)[0]
    return "\n".join(
        f"<b>{label}</b>{colon}{_t(value, locale)}" for label, value in overview_rows(data, locale)
    )


def overview_rows(data: HouseholdData, locale: str = "zh_Hans") -> list[tuple[str, str]]:
    """The six clears in short: (translated label, record data in simplified Chinese), joined
    with the reader's punctuation."""
    colon, comma, semicolon = separators(locale)
    basics = [
        _("{count} people").format(count=len(data.members)),
        _("land {mu} mu").format(mu=data.land_mu if data.land_mu is not None else "?"),
    ]
    if data.livestock:
        basics.append(data.livestock)
    basics += [
        _("safe housing: {answer}").format(answer=_yes_no(data.housing_safe)),
        _("safe water: {answer}").format(answer=_yes_no(data.safe_water)),
        _("medical insurance: {answer}").format(answer=_yes_no(data.medical_insurance)),
    ]
    if data.work:
        basics.append(data.work)
    causes = [c for c in (data.main_cause, *data.other_causes) if c]
    measures = [f"{m.kind}（{m.status}）" for m in data.measures]
    in_progress = sum(m.status != MeasureStatus.DONE for m in data.measures)
    income = (
        _("{year}: {amount} yuan per person").format(
            year=data.incomes[-1][0], amount=data.incomes[-1][1]
        )
        if data.incomes
        else _("not recorded")
    )
    helpers = [f"{h.role} {h.name}{colon}{_phone(h.phone)}" for h in data.helpers]
    status = str(data.status)
    if data.status is Status.OUT and data.status_year:
        status += f"（{data.status_year}）"
    if data.monitor_kind:
        status += f"（{data.monitor_kind}）"
    timeline = [status]
    if data.follow_up:
        timeline.append(str(data.follow_up))
    if data.identified_year:
        timeline.append(_("identified {year}").format(year=data.identified_year))
    if data.actual_exit_year:
        timeline.append(_("left poverty {year}").format(year=data.actual_exit_year))
    elif data.planned_exit_year and data.status is not Status.OUT:
        # A plan, not a fact: a household still poor never reads "left poverty".
        timeline.append(_("planned to leave poverty {year}").format(year=data.planned_exit_year))
    none = _("not recorded")
    items = enumeration(locale)
    return [
        (_("Basics"), comma.join(basics)),
        (_("Causes of poverty"), items.join(causes) or none),
        (
            _("Help measures"),
            items.join(measures)
            + (
                (" " if locale == "en" else "")
                + _("({count} not finished)").format(count=in_progress)
                if in_progress
                else ""
            )
            or none,
        ),
        (_("Income"), income),
        (_("Helpers"), semicolon.join(helpers) or none),
        (_("Timeline"), comma.join(timeline)),
    ]
