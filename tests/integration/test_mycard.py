"""/mycard over the bot: a bound villager gets the household's 明白纸 as text then as PNG pages,
in their language; an unbound one (or one whose link was removed) is told how to bind."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import handlers.mycard
from bot.card_image import Card
from bot.i18n import create_i18n
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.models import Role
from db.session import Database
from db.users import UserRepo
from handlers.mycard import card_for
from knowledge.service import KnowledgeBase
from tests.harness import BotHarness, texts_of
from tests.integration.test_own_household import CADRE, GAPS_HOUSEHOLD, HOUSEHOLD, VILLAGER, bind

HOW_TO_BIND = "/bind"
FULL_NAMES = ("梁长顺", "梁長順", "宋文军", "宋文軍")


@pytest.fixture
async def households(database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        await UserRepo(session).grant(CADRE, Role.CADRE, "150821101")


@pytest.fixture
def cards(monkeypatch: pytest.MonkeyPatch) -> list[Card]:
    """Every card handed to the drawer, to read the strings it draws."""
    drawn: list[Card] = []
    render = handlers.mycard.render_card

    def record(card: Card) -> list[bytes]:
        drawn.append(card)
        return render(card)

    monkeypatch.setattr(handlers.mycard, "render_card", record)
    return drawn


def strings(card: Card) -> str:
    lines = [card.title, card.subtitle, card.footer]
    for section in card.sections:
        lines += [section.heading, *section.lines]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("lang", "label", "phone_line", "heading", "hotline"),
    [
        ("zh-hans", "永丰村 梁*顺 户", "包保干部 刘志强：13800000022", "帮扶措施", "监督举报电话"),
        ("zh-TW", "永豐村 梁*順 戶", "包保幹部 劉志強：13800000022", "幫扶措施", "監督舉報電話"),
        ("en", "Household 永丰村 梁*顺", "包保干部 刘志强: 13800000022", "Help measures",
         "Complaint hotline"),
    ],
)  # fmt: skip
async def test_a_bound_villager_gets_the_card_as_text_then_pictures(
    harness: BotHarness,
    households: None,
    cards: list[Card],
    lang: str,
    label: str,
    phone_line: str,
    heading: str,
    hotline: str,
) -> None:
    await bind(harness, VILLAGER, HOUSEHOLD)
    calls = await harness.send(VILLAGER, "/mycard", lang=lang)
    methods = [call.method for call in calls]
    assert methods[0] == "sendMessage"
    assert methods[-1] == "sendPhoto"
    first_photo = methods.index("sendPhoto")
    assert set(methods[:first_photo]) == {"sendMessage"}
    assert set(methods[first_photo:]) == {"sendPhoto"}
    text = "\n".join(call.text for call in calls[:first_photo])
    hotline += "：12317" if lang.startswith("zh") else ": 12317"
    for wanted in (label, phone_line, heading, hotline, "30000", "2028-03-09", "15250"):
        assert wanted in text
    assert calls[first_photo].text  # the first picture says what it is
    [card] = cards
    drawn = strings(card)
    for wanted in (label, phone_line, heading, hotline):
        assert wanted in drawn
    for name in FULL_NAMES:
        assert name not in text
        assert name not in drawn


async def test_the_card_shows_what_the_household_may_be_missing(
    harness: BotHarness, households: None, cards: list[Card]
) -> None:
    await bind(harness, VILLAGER, GAPS_HOUSEHOLD)
    calls = await harness.send(VILLAGER, "/mycard")
    text = texts_of(calls)
    assert "新丰村 宋*军 户" in text
    assert "可能还没享受：医疗救助、防贫保。" in text
    assert "杨三明：13800000024" in text
    # One tap asks the helper cadre about a gap, under the text (before the pictures).
    [asked] = [call for call in calls if call.buttons]
    assert asked.method == "sendMessage"
    [(medical, medical_data), (insurance, insurance_data)] = asked.buttons
    assert "医疗救助" in medical
    assert "防贫保" in insurance
    assert medical_data.startswith("hga:")
    assert insurance_data.startswith("hga:")
    [card] = cards
    [missing] = [s for s in card.sections if s.heading == "可能还没享受的待遇"]
    assert missing.lines[:2] == ("• 医疗救助", "• 防贫保")
    [fits] = [s for s in card.sections if s.heading == "你家适用的政策"]
    assert any("监测户" in line for line in fits.lines)
    assert not any(name in text + strings(card) for name in FULL_NAMES)


async def test_the_pictures_are_pngs_and_differ_by_language(
    database: Database, households: None
) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed()
    entries = (await knowledge.index()).entries
    i18n = create_i18n("zh_Hans")
    pixels = {}
    async with database.sessionmaker() as session:
        household = await HouseholdRepo(session).get(HOUSEHOLD)
        for locale in ("zh_Hans", "zh_Hant", "en"):
            text, pages = await card_for(
                session, household, locale, i18n=i18n, entries=entries, hotline="12317"
            )
            assert "梁*" in text
            assert 1 <= len(pages) <= 3
            images = [Image.open(io.BytesIO(png)) for png in pages]
            for image in images:
                assert image.format == "PNG"
                assert image.width == 720
                assert 400 < image.height <= 1280
            pixels[locale] = [image.tobytes() for image in images]
    assert pixels["zh_Hans"] != pixels["zh_Hant"]
    assert pixels["zh_Hans"] != pixels["en"]
    assert pixels["zh_Hant"] != pixels["en"]


async def test_an_unbound_villager_is_told_how_to_bind_and_gets_no_picture(
    harness: BotHarness, households: None
) -> None:
    calls = await harness.send(VILLAGER, "/mycard")
    assert [call.method for call in calls] == ["sendMessage"]
    assert HOW_TO_BIND in calls[0].text
    assert "绑定码" in calls[0].text


async def test_a_villager_whose_link_was_removed_is_told_how_to_bind(
    harness: BotHarness, households: None
) -> None:
    await bind(harness, VILLAGER, HOUSEHOLD)
    await harness.send(VILLAGER, "/unbind")
    await harness.press_prefix(VILLAGER, "ub:")
    calls = await harness.send(VILLAGER, "/mycard")
    assert [call.method for call in calls] == ["sendMessage"]
    assert HOW_TO_BIND in calls[0].text
    assert "梁*顺" not in calls[0].text


async def test_the_card_is_not_shown_in_a_group(harness: BotHarness, households: None) -> None:
    await bind(harness, VILLAGER, HOUSEHOLD)
    calls = await harness.send_in(-1001, VILLAGER, "/mycard")
    assert "sendPhoto" not in [call.method for call in calls]
    assert "梁*顺" not in texts_of(calls)
    assert "13800000022" not in texts_of(calls)
