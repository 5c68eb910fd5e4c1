"""Fill the zh_Hant catalog from zh_Hans with OpenCC, keeping hand-made zh_Hant strings.

Run after translating new zh_Hans strings: `make hant-messages`. Review the result: OpenCC converts
characters, not every idiom. `--refresh` also converts again every string that is a machine
conversion by an older configuration (OpenCC's default s2t: 爲, 裏, 羣), and brings hand-made
strings to the Taiwan standard forms (t2tw), without touching their wording.
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Callable
from pathlib import Path

import opencc
from babel.messages.catalog import Message
from babel.messages.pofile import read_po, write_po

from knowledge.normalize import to_traditional
from tools.catalog import LOCK

LOCALES = Path(__file__).resolve().parent.parent / "locales"
HANS = LOCALES / "zh_Hans" / "LC_MESSAGES" / "messages.po"
HANT = LOCALES / "zh_Hant" / "LC_MESSAGES" / "messages.po"
# Configurations a machine-filled string may have been made with before the current one.
OLDER_CONVERSIONS = ("s2t",)

Translation = str | tuple[str, ...]  # a tuple for a message with plural forms


def _each(convert: Callable[[str], str], value: Translation) -> Translation:
    return convert(value) if isinstance(value, str) else tuple(convert(form) for form in value)


def converted(message: Message, source: Translation | None, refresh: bool) -> Translation | None:
    """The string ``message`` should now hold, or None to keep it."""
    if not source or not any(source):
        return None
    if not message.string or not any(message.string) or message.fuzzy:
        return _each(to_traditional, source)
    if not refresh:
        return None
    for config in OLDER_CONVERSIONS:
        if _each(opencc.OpenCC(config).convert, source) == message.string:
            return _each(to_traditional, source)
    return _each(opencc.OpenCC("t2tw").convert, message.string)


def main(arguments: list[str]) -> None:
    refresh = "--refresh" in arguments
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with HANS.open("rb") as file:
            hans = read_po(file)
        with HANT.open("rb") as file:
            hant = read_po(file, locale="zh_Hant")
        filled = 0
        for message in hant:
            source = hans.get(message.id) if message.id else None
            wanted = converted(message, source.string if source else None, refresh)
            if wanted is not None and (wanted != message.string or message.fuzzy):
                message.string = wanted
                message.flags.discard("fuzzy")
                filled += 1
        with HANT.open("wb") as file:
            write_po(file, hant, width=100, omit_header=False)
    print(f"filled {filled} zh_Hant strings from zh_Hans")


if __name__ == "__main__":
    main(sys.argv[1:])
