"""The card picture: valid PNG pages Telegram keeps legible, text wrapped as a reader expects,
long cards cut to a few pages, any character drawn without an error, and a font that has the
characters the bot shows."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import Image

from bot.card_image import (
    BODY,
    BULLET,
    FONT_FILE,
    MARGIN,
    MAX_HEIGHT,
    MAX_PAGES,
    WIDTH,
    Card,
    Section,
    font,
    layout,
    render_card,
    wrap,
)
from knowledge.normalize import to_traditional

ROOT = Path(__file__).resolve().parents[2]
LONG = "家里有在校学生，孩子上学有保障，不能辍学，可以享受学生资助和教育专项救助"


def card(*sections: Section) -> Card:
    return Card(
        "户户清明白纸",
        "永丰村 梁*顺 户",
        sections,
        "监督举报电话：12317",
        "更多内容见上面的文字消息。",
    )


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image


def assert_pieces_of(text: str, lines: list[str]) -> None:
    """The lines are the text in order, cut only where it had a space or no space at all."""
    position = 0
    for line in lines:
        found = text.find(line, position)
        assert found >= 0
        assert not text[position:found].strip()
        position = found + len(line)
    assert not text[position:].strip()


def test_pages_are_valid_pngs_of_a_size_telegram_keeps_legible() -> None:
    sections = [Section(f"帮扶措施{n}", tuple(BULLET + LONG for _ in range(4))) for n in range(4)]
    pages = render_card(card(*sections))
    assert 1 < len(pages) <= MAX_PAGES
    for png in pages:
        image = decode(png)
        width, height = image.size
        assert width == WIDTH
        assert WIDTH // 2 < height <= MAX_HEIGHT  # not shrunk by Telegram's 1,280 px
        assert width + height <= 10000
        assert height / width <= 20
        assert len(png) < 1_000_000
        assert image.getextrema() == (0, 255)  # black on white


def test_a_short_card_is_one_page_and_body_text_is_large() -> None:
    [png] = render_card(card(Section("致贫原因", ("因病",))))
    assert decode(png).size[1] < MAX_HEIGHT // 2
    [rows] = layout(card(Section("致贫原因", ("因病",))))
    assert [(row.text, row.heading) for row in rows] == [("致贫原因", True), ("因病", False)]
    assert rows[1].size == BODY >= 30


def test_lines_fit_the_width_and_punctuation_never_starts_a_line() -> None:
    width = WIDTH - 2 * MARGIN
    for text in (LONG * 3, "Ask your helper cadre about them. " * 6, "一" * 19 + "，" + "二" * 30):
        lines = wrap(text, BODY, width)
        assert_pieces_of(text, lines)
        for line in lines:
            assert font(BODY).getlength(line) <= width
            assert line[0] not in "，。、：；）,.:;)"
    for words in (
        "2 people，land 3.5 mu，safe housing: yes，identified 2014，left poverty 2019",
        "Ask your helper cadre about them, they know the rules of the county office",
    ):
        for narrower in range(200, width + 1):  # words are never glued together
            assert_pieces_of(words, wrap(words, BODY, narrower))
    # A lone last character comes down with the one before it.
    hang = round(font(BODY).getlength(BULLET))
    lines = wrap(BULLET + "家里有在校学生，孩子上学有保障，不能辍学", BODY, width, hang)
    assert lines == [BULLET + "家里有在校学生，孩子上学有保障，不能", "辍学"]
    # A word longer than a line is cut rather than overflowing.
    assert all(font(BODY).getlength(line) <= width for line in wrap("1" * 80, BODY, width))


def test_bulleted_lines_hang_under_their_bullet() -> None:
    [rows] = layout(card(Section("政策", (BULLET + LONG,))))
    first, second = rows[1], rows[2]
    assert first.text.startswith(BULLET)
    assert first.indent == 0
    assert second.indent == round(font(BODY).getlength(BULLET))


def test_a_short_section_moves_whole_and_a_long_one_repeats_its_heading() -> None:
    filler = Section("家底", tuple(LONG for _ in range(6)))
    short = Section("帮扶责任", tuple(f"• 包保干部 刘志强：1380000002{n}" for n in range(3)))
    pages = layout(card(filler, short))
    headings = [[row.text for row in rows if row.heading] for rows in pages]
    assert "帮扶责任" in headings[-1]
    assert sum(h.count("帮扶责任") for h in headings) == 1
    helpers = [row for rows in pages for row in rows if "刘志强" in row.text]
    assert len(helpers) == 3

    long = Section("你家适用的政策", tuple(BULLET + LONG for _ in range(12)))
    pages = layout(card(filler, long))
    assert len(pages) == 2
    assert [rows[0].text for rows in pages] == ["家底", "你家适用的政策"]
    assert pages[1][0].heading


def test_a_card_too_long_for_the_pages_ends_with_where_the_rest_is() -> None:
    many = Section("你家适用的政策", tuple(BULLET + LONG for _ in range(60)))
    pages = layout(card(many))
    assert len(pages) == MAX_PAGES
    assert pages[-1][-1].text == "更多内容见上面的文字消息。"
    assert len(render_card(card(many))) == MAX_PAGES


def test_characters_the_font_lacks_are_drawn_not_raised() -> None:
    odd = "𠀀𪚥😀\u200d🇨🇳 ½ ∑ \ue000 〇"
    pages = render_card(card(Section(odd, (odd, BULLET + odd * 5))))
    assert decode(pages[0]).size[0] == WIDTH


def test_the_font_is_small_and_has_every_character_the_bot_shows() -> None:
    assert FONT_FILE.stat().st_size <= 3_000_000
    assert (FONT_FILE.parent / "OFL.txt").read_text(encoding="utf-8").count("Open Font License")
    cmap = TTFont(FONT_FILE, lazy=True).getBestCmap()
    sources = [
        *ROOT.glob("locales/*/LC_MESSAGES/messages.po"),
        *ROOT.glob("db/data/sample_*"),
        ROOT / "knowledge" / "eligibility.yaml",
    ]
    shown = {
        char
        for path in sources
        for text in [path.read_text(encoding="utf-8")]
        for char in text + to_traditional(text)  # record data is shown traditional in zh_Hant
        if (char.isascii() and char.isprintable())
        or unicodedata.name(char, "").startswith(("CJK UNIFIED", "CJK SYMBOLS", "FULLWIDTH"))
    }
    missing = sorted(char for char in shown if ord(char) not in cmap)
    assert not missing, f"run tools/subset_font.py again: the font lacks {''.join(missing)}"
