"""Fill the zh_Hant catalog from zh_Hans with OpenCC (s2t), keeping hand-made zh_Hant strings.

Run after translating new zh_Hans strings: `make hant-messages`. Review the result: OpenCC converts
characters, not every idiom.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

from knowledge.normalize import to_traditional

LOCALES = Path(__file__).resolve().parent.parent / "locales"


def main() -> None:
    hans_path = LOCALES / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    hant_path = LOCALES / "zh_Hant" / "LC_MESSAGES" / "messages.po"
    with hans_path.open("rb") as file:
        hans = read_po(file)
    with hant_path.open("rb") as file:
        hant = read_po(file, locale="zh_Hant")
    filled = 0
    for message in hant:
        source = hans.get(message.id)
        if not message.id or source is None or not source.string:
            continue
        if not message.string or message.fuzzy:
            message.string = to_traditional(source.string)
            message.flags.discard("fuzzy")
            filled += 1
    with hant_path.open("wb") as file:
        write_po(file, hant, width=100, omit_header=False)
    print(f"filled {filled} zh_Hant strings from zh_Hans")


if __name__ == "__main__":
    main()
