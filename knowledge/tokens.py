"""Turn a villager's message into search tokens: characters and character bigrams.

Chinese has no spaces and villagers' typing is noisy, so words are not segmented: single
characters plus adjacent-character bigrams beat a word segmenter here (DESIGN.md, measured).
Dialect words, typos and synonyms are first mapped to the policy texts' words (lexicon.yaml).
"""

from __future__ import annotations

import itertools
import re
from functools import cache

from knowledge.lexicon import lexicon, replacer
from knowledge.normalize import normalize

# Sentence-final particles carry no meaning; 么 only when it does not end 什么, 怎么, 这么, 多么.
_PARTICLES = re.compile(r"(?:[吗嘛呢吧啊呀哦哇嘞哩咧啦噻]|(?<![什怎这那多要])么)+(?= |$)")
# "管不管", "有没有", "是不是": the question form of a verb means the verb.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
_UNIT = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[\u4e00-\u9fff]")


@cache
def _replacer() -> re.Pattern[str]:
    return replacer(lexicon().replacements)


def clean(text: str) -> str:
    """Normalised text with colloquial words mapped and filler words dropped."""
    replacements = lexicon().replacements
    text = _replacer().sub(lambda match: replacements[match.group()], normalize(text))
    for filler in lexicon().fillers:
        text = text.replace(filler, " ")
    text = _A_NOT_A.sub(r"\1", text)
    return _PARTICLES.sub("", text).strip()


def tokenize(text: str) -> list[str]:
    """Unigrams and bigrams of the text's units (a CJK character, an ASCII word, a number)."""
    tokens: list[str] = []
    for segment in clean(text).split():
        units = _UNIT.findall(segment)
        tokens.extend(units)
        tokens.extend(a + b for a, b in itertools.pairwise(units))
    return tokens
