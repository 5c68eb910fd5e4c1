"""The compiled message catalogs, read with the standard library: for what runs without aiogram
(the command line's texts, notices queued from the web console or the command line)."""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


@cache
def translation(locale: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[locale], fallback=True)
