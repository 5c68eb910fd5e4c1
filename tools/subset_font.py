"""Make the card font (bot/fonts/): Noto Sans CJK SC cut down to the characters a card can show.

The machine that runs the bot may have no CJK font, and PyPI has none, so a subset is kept in the
repository (OFL-1.1, licence next to it). To make it again, from Debian's package:

    cd /tmp && apt-get download fonts-noto-cjk      # 1:20220127+repack1-1 (Noto CJK 2.004)
    dpkg-deb -x fonts-noto-cjk_*.deb noto
    cd /work/main && .venv/bin/python -m tools.subset_font \\
        /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

The characters: ASCII and Latin-1, general and CJK punctuation, full-width forms, every
character of GB2312 (its 6,763 hanzi and its symbols), their traditional forms (OpenCC, as the
bot converts text for zh_Hant readers), and every character of the catalogs
(locales/*/LC_MESSAGES/messages.po), the knowledge base (knowledge/), and the sample data
(db/data/). Hinting, vertical metrics and OpenType layout are dropped: the card is drawn with
Pillow's basic layout at 30 px and more. fontTools is needed only here (matplotlib brings it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from knowledge.normalize import to_traditional

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bot" / "fonts" / "NotoSansCJKsc-Card.otf"
FAMILY = "Noto Sans CJK SC"
TEXT_SOURCES = (
    *sorted((ROOT / "locales").glob("*/LC_MESSAGES/messages.po")),
    *sorted((ROOT / "knowledge").rglob("*.yaml")),
    *sorted((ROOT / "knowledge").rglob("*.txt")),
    *sorted((ROOT / "db" / "data").glob("*.csv")),
    *sorted((ROOT / "db" / "data").glob("*.yaml")),
)
RANGES = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0xFF),  # Latin-1: ·, ×, ¥, °
    (0x2010, 0x2027),  # dashes, quotes, •, …
    (0x2030, 0x203B),  # ‰, ′, ※
    (0x3000, 0x303F),  # CJK punctuation: 、。「」【】〔〕
    (0xFF01, 0xFF5E),  # full-width forms: ，：；（）
    (0xFFE0, 0xFFE6),  # ￥
)


def gb2312() -> str:
    """Every character GB2312 encodes (rows 0xA1–0xF7, cells 0xA1–0xFE)."""
    found = []
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                found.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(found)


def characters() -> set[str]:
    text = gb2312() + "".join(path.read_text(encoding="utf-8") for path in TEXT_SOURCES)
    text += to_traditional(text)
    text += "".join(chr(code) for start, end in RANGES for code in range(start, end + 1))
    return {char for char in text if char.isprintable()}


def _open(source: Path) -> TTFont:
    """The SC font of a collection (.ttc), or the font file itself."""
    if source.suffix.lower() != ".ttc":
        return TTFont(source)
    for font in TTCollection(source).fonts:
        if font["name"].getDebugName(1) == FAMILY:
            return font
    raise SystemExit(f"{source}: no {FAMILY} in this collection")


def make(source: Path, output: Path = OUTPUT) -> tuple[int, int]:
    """Write the subset; returns (characters kept, bytes written)."""
    font = _open(source)
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.notdef_outline = True  # a character the font lacks is drawn as a box
    subsetter = subset.Subsetter(options)
    wanted = characters()
    subsetter.populate(unicodes=[ord(char) for char in wanted])
    subsetter.subset(font)
    kept = len(set(font.getBestCmap()))
    font.recalcTimestamp = False  # the same input gives the same file
    output.parent.mkdir(parents=True, exist_ok=True)
    font.save(output)
    return kept, output.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc (or an SC .otf)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    kept, size = make(args.source, args.output)
    print(f"{args.output}: {kept} characters, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
