"""Turn a villager's message into search tokens: characters and character bigrams.

Chinese has no spaces and villagers' typing is noisy, so words are not segmented: single
characters plus adjacent-character bigrams beat a word segmenter here (DESIGN.md, measured).
"""

from __future__ import annotations

import itertools
import re

from knowledge.normalize import normalize

# Spoken and dialect words → the word the policy texts use. Longest first when applied.
COLLOQUIAL = {
    "咋办": "怎么办",
    "咋整": "怎么办",
    "咋弄": "怎么办",
    "咋样": "怎么样",
    "咋": "怎么",
    "啥": "什么",
    "甚么": "什么",
    "俺们": "我们",
    "俺": "我",
    "娃娃": "孩子",
    "娃": "孩子",
    "伢": "孩子",
    "崽": "孩子",
    "木有": "没有",
    "没得": "没有",
    "莫得": "没有",
    "不得行": "不行",
    "瞧病": "看病",
    "借钱": "贷款",
}
# Words that carry no meaning for the search.
FILLERS = ("请问一下", "请问", "我想问一下", "我想问", "想问一下", "问一下", "你好", "您好",
           "麻烦", "谢谢", "一下")  # fmt: skip
_PARTICLES = re.compile(r"[吗嘛呢吧啊呀哦哇么]+(?= |$)")
_UNIT = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[\u4e00-\u9fff]")
_REPLACE = re.compile("|".join(sorted(map(re.escape, COLLOQUIAL), key=len, reverse=True)))


def clean(text: str) -> str:
    """Normalised text with colloquial words mapped and filler words dropped."""
    text = _REPLACE.sub(lambda match: COLLOQUIAL[match.group()], normalize(text))
    for filler in FILLERS:
        text = text.replace(filler, " ")
    return _PARTICLES.sub("", text).strip()


def tokenize(text: str) -> list[str]:
    """Unigrams and bigrams of the text's units (a CJK character, an ASCII word, a number)."""
    tokens: list[str] = []
    for segment in clean(text).split():
        units = _UNIT.findall(segment)
        tokens.extend(units)
        tokens.extend(a + b for a, b in itertools.pairwise(units))
    return tokens
