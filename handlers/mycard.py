"""/mycard: the bound household's 明白纸 — its six clears, what it receives, the policies that fit
it and what it may be missing, its helpers' phones and the hotline — as text, then as PNG pages
in the reader's language. An unbound user is told how to bind."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.card_image import BULLET, Card, Section, render_card
from bot.config import Settings
from bot.outbox import split_text
from db.bindings import BindingRepo
from db.household_template import HouseholdData
from db.households import HouseholdRepo, data_of
from db.models import Household, User
from db.regions import RegionRepo
from handlers.ask import localized
from handlers.filters import PRIVATE
from handlers.household_cases import answer_markup
from handlers.households import household_label
from handlers.own_household import (
    how_to_bind,
    overview_rows,
    render_helpers,
    render_measures,
    render_overview,
    render_policies,
    separators,
)
from knowledge.eligibility import applicable, gaps
from knowledge.entries import Entry
from knowledge.households import Benefit, BenefitKind, HouseholdProfile
from knowledge.own_household import Aspect
from knowledge.service import KnowledgeBase

_TAG = re.compile(r"<[^>]+>")


def create_router() -> Router:
    router = Router(name="mycard")
    router.message.register(show_card, Command("mycard"), PRIVATE)
    return router


@dataclass(frozen=True)
class CardContent:
    text: str  # one HTML message, split by the sender if too long
    picture: Card
    profile: HouseholdProfile


async def show_card(
    message: Message,
    account: User,
    session: AsyncSession,
    knowledge: KnowledgeBase,
    settings: Settings,
    i18n: I18n,
) -> None:
    binding = await BindingRepo(session).active(account.telegram_id)
    if binding is None:
        await message.answer(how_to_bind())
        return
    household, locale = binding.household, i18n.current_locale
    entries = (await knowledge.index()).entries
    content = await card_content(
        session, household, locale, i18n=i18n, entries=entries, hotline=settings.hotline
    )
    await session.commit()  # no connection held while drawing and sending
    pieces = split_text(content.text)
    markup = answer_markup(Aspect.POLICIES, household.id, content.profile, entries, locale)
    for number, piece in enumerate(pieces, start=1):
        await message.answer(piece, reply_markup=markup if number == len(pieces) else None)
    # The text is on the phone while the pictures are drawn.
    pages = await asyncio.to_thread(render_card, content.picture)
    for number, page in enumerate(pages, start=1):
        caption = _("Your household's card. Save the picture to keep it.") if number == 1 else None
        await message.answer_photo(
            BufferedInputFile(page, filename=f"mycard-{number}.png"), caption=caption
        )


async def card_for(
    session: AsyncSession,
    household: Household,
    locale: str,
    *,
    i18n: I18n,
    entries: Iterable[Entry],
    hotline: str,
) -> tuple[str, list[bytes]]:
    """The household's card in ``locale``: the text message (HTML) and the PNG pages, as
    /mycard sends them, without Telegram (the benchmark calls it)."""
    content = await card_content(
        session, household, locale, i18n=i18n, entries=entries, hotline=hotline
    )
    return content.text, await asyncio.to_thread(render_card, content.picture)


async def card_content(
    session: AsyncSession,
    household: Household,
    locale: str,
    *,
    i18n: I18n,
    entries: Iterable[Entry],
    hotline: str,
) -> CardContent:
    """What the card says in ``locale``, read from the database, not yet drawn."""
    entries = list(entries)
    profile = await HouseholdRepo(session).profile(household)
    label = await household_label(household, RegionRepo(session))
    with i18n.context(), i18n.use_locale(locale):
        data = data_of(household)
        return CardContent(
            text=card_text(data, profile, entries, label, locale, hotline),
            picture=card_picture(data, profile, entries, html.unescape(label), locale, hotline),
            profile=profile,
        )


def card_text(
    data: HouseholdData,
    profile: HouseholdProfile,
    entries: list[Entry],
    label: str,
    locale: str,
    hotline: str,
) -> str:
    """The card as one HTML message (split by the caller if too long)."""
    semicolon = separators(locale)[2]
    rows = [render_overview(data, locale)]
    if len(data.incomes) > 1:
        rows.append(_row(_("Income by year"), semicolon.join(_incomes(data)), locale))
    rows.append(
        _row(
            _("Benefits received"),
            semicolon.join(map(_benefit, data.benefits)) or _("not recorded"),
            locale,
        )
    )
    return "\n".join(
        [
            f"<b>{_('Household card')}</b>",
            f"<b>{localized(_('Household {household}').format(household=label), locale)}</b>",
            *rows,
            "",
            render_policies(data, profile, entries, locale),
            "",
            _hotline(hotline),
        ]
    )


def card_picture(
    data: HouseholdData,
    profile: HouseholdProfile,
    entries: list[Entry],
    label: str,
    locale: str,
    hotline: str,
) -> Card:
    """The card's essentials for the picture; the policies' sources stay in the text."""
    overview = dict(overview_rows(data, locale))
    missing = gaps(profile, entries)
    sections = [
        Section(_("Basics"), (overview[_("Basics")],)),
        Section(_("Timeline"), (overview[_("Timeline")],)),
        Section(_("Causes of poverty"), (overview[_("Causes of poverty")],)),
        Section(
            _("Help measures"), _plain_lines(render_measures(data, locale), bool(data.measures))
        ),
        Section(_("Income by year"), tuple(_incomes(data)) or (_("not recorded"),)),
        Section(
            _("Benefits received"),
            tuple(BULLET + _benefit(b) for b in data.benefits) or (_("not recorded"),),
        ),
        Section(
            _("You may not have these yet"),
            (*(BULLET + gap.benefit for gap in missing), _("Ask your helper cadre about them."))
            if missing
            else (_("I see nothing your household may be missing in its record."),),
        ),
        Section(_("Helpers"), _plain_lines(render_helpers(data, locale), bool(data.helpers))),
        Section(
            _("Policies that fit"),
            tuple(BULLET + match.reason for match in applicable(profile, entries))
            or (
                _(
                    "No policy rule I know of matches your household's record. Ask your helper "
                    "cadre."
                ),
            ),
        ),
    ]
    return Card(
        title=_("Household card"),
        subtitle=localized(_("Household {household}").format(household=label), locale),
        sections=tuple(
            Section(s.heading, tuple(localized(line, locale) for line in s.lines)) for s in sections
        ),
        footer=_hotline(hotline),
        more=_("More in the text message above."),
    )


def _row(label: str, value: str, locale: str) -> str:
    return f"<b>{label}</b>{separators(locale)[0]}{html.escape(localized(value, locale))}"


def _plain_lines(rendered: str, listed: bool) -> tuple[str, ...]:
    """A renderer's HTML as plain lines, without its heading line when it lists items."""
    lines = html.unescape(_TAG.sub("", rendered)).splitlines()
    return tuple(lines[1:] if listed else lines)


def _incomes(data: HouseholdData) -> list[str]:
    return [
        _("{year}: {amount} yuan per person").format(year=year, amount=amount)
        for year, amount in data.incomes
    ]


def _benefit(benefit: Benefit) -> str:
    text = str(benefit.kind)
    if benefit.amount is not None:
        text = _("{kind}: {amount} yuan").format(kind=text, amount=benefit.amount)
    if benefit.kind == BenefitKind.MICROCREDIT and benefit.due is not None:
        text += _(", due {date}").format(date=benefit.due)
    return text


def _hotline(hotline: str) -> str:
    return _("Complaint hotline: {phone}").format(phone=hotline)
