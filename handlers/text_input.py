"""Free text a user types before it is stored: control characters out, and a check that
something readable is left (a text of zero-width characters or spaces says nothing)."""

from __future__ import annotations

import unicodedata

KEPT_CONTROLS = "\n\t"  # line breaks and tabs are part of what people write


def clean_text(text: str) -> str:
    """The text without control characters (U+0000 above all: PostgreSQL refuses it in text)."""
    return "".join(
        char
        for char in text
        if char in KEPT_CONTROLS or unicodedata.category(char) not in ("Cc", "Cs")
    ).strip()


def visible_length(text: str) -> int:
    """How many characters a reader actually sees: no spaces, controls or invisible formats
    (zero-width space, joiners, direction marks, BOM)."""
    return sum(
        1
        for char in text
        if not char.isspace() and unicodedata.category(char) not in ("Cc", "Cf", "Cs")
    )
