"""Text normalisation shared by search and place-name lookup."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

# Everything that is not a letter, digit or CJK ideograph separates words.
_NOT_WORD = re.compile(r"[^\w\u4e00-\u9fff]+|_")


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return _converter("t2s").convert(text)


def to_traditional(text: str) -> str:
    """Traditional characters in the Taiwan standard forms readers know (吃, 為, 裡, 著 rather
    than OpenCC's default 喫, 爲, 裏, 着); characters only, words stay as the documents say them."""
    return _converter("s2tw").convert(text)


def normalize(text: str) -> str:
    """Fold width and case, convert to simplified characters, turn punctuation into spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_simplified(text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def compact(text: str) -> str:
    """Normalise and drop every separator: the form used to compare names."""
    return normalize(text).replace(" ", "")
