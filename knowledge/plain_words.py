"""Official jargon an elderly villager cannot use, and whether an answer explains it.

An answer may use one of these terms only if it explains it where it first appears: the term
followed by an explanation in brackets ("建档立卡（政府登记在册的贫困户）") or by a phrase such as
"就是", "是指", "意思是", "也就是" ("四不摘就是…"). The verbatim quote of the source is exempt.
"""

from __future__ import annotations

import re

BANNED_TERMS = (
    "机制", "建档立卡", "精准", "出列", "两公示一比对一公告", "上提一级", "机账实", "分类分年",
    "垒大户", "七免一补", "七免十九减", "两不愁三保障", "两不愁", "三保障", "四不摘", "防贫保",
    "兜底", "户贷企用", "摘帽", "一户一策", "动态管理", "贫困发生率", "利益联结", "风险补偿",
    "以奖代补", "控辍保学", "回头看", "一盘棋", "一本账", "贴息",
)  # fmt: skip

# What may stand between the term and its explanation: closing quotes and a comma.
_EXPLAINED = re.compile(r"[”」』’\"]?[，,]?\s*(?:[（(]|就是|是指|指的是|意思是|也就是|即)")


def unexplained_terms(text: str) -> list[str]:
    """The banned terms of the text whose first appearance is not explained."""
    found = []
    for term in BANNED_TERMS:
        start = text.find(term)
        if start < 0 or _inside_longer_term(text, term, start):
            continue
        if not _EXPLAINED.match(text, start + len(term)):
            found.append(term)
    return found


def _inside_longer_term(text: str, term: str, start: int) -> bool:
    """两不愁 inside 两不愁三保障 is judged as part of the longer term."""
    return any(
        longer != term and term in longer and text.find(longer) != -1
        and text.find(longer) <= start < text.find(longer) + len(longer)
        for longer in BANNED_TERMS
    )  # fmt: skip
