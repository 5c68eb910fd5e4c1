"""Every user-facing string is translated, and Telegram language codes map to our locales."""

from __future__ import annotations

import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, locale_for_language_code
from tools.catalog import SOURCES

ROOT = Path(__file__).resolve().parents[2]


def catalog(locale: str):
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=locale)


def source_msgids(tmp_path: Path) -> set[str]:
    """Extract the msgids from the code now, as `make extract-messages` does."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "__", "-k", "lazy_gettext", "-o", str(pot), *SOURCES],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as file:
        return {message.id for message in read_po(file) if message.id}


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant", "en"])
def test_catalog_holds_every_string_of_the_code(locale: str, tmp_path: Path) -> None:
    ids = {message.id for message in catalog(locale) if message.id}
    missing = source_msgids(tmp_path) - ids
    assert not missing, f"run `make update-messages`, then translate: {sorted(missing)[:5]}"


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_chinese_catalogs_leave_nothing_untranslated(locale: str) -> None:
    untranslated = [
        message.id for message in catalog(locale)
        if message.id and (not message.string or message.fuzzy)
    ]  # fmt: skip
    assert untranslated == []


def placeholders(text: str) -> set[str]:
    """The `{name}` fields that str.format fills in; a stray brace raises ValueError."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_every_placeholder_survives_translation(locale: str) -> None:
    """Each `{name}` of every msgid is in its translation, and the translation adds none."""
    messages = [message for message in catalog(locale) if message.id and message.string]
    with_fields = [message for message in messages if placeholders(str(message.id))]
    assert len(with_fields) > 200  # the bot, the console and the review messages
    broken = [
        (message.id, message.string)
        for message in messages
        if placeholders(str(message.id)) != placeholders(str(message.string))
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh", "zh_Hans"), ("zh-CN", "zh_Hans"), ("zh-hans", "zh_Hans"), ("zh-SG", "zh_Hans"),
        ("zh-TW", "zh_Hant"), ("zh-hk", "zh_Hant"), ("zh-MO", "zh_Hant"), ("zh-hant", "zh_Hant"),
        ("en", "en"), ("en-GB", "en"), ("ru", "zh_Hans"), (None, "zh_Hans"), ("", "zh_Hans"),
    ],
)  # fmt: skip
def test_telegram_language_codes(code: str | None, expected: str) -> None:
    assert locale_for_language_code(code, default="zh_Hans") == expected
