"""Is a message about the user's own household ("我家的帮扶干部是谁"), and about which part of it?

A message is about the own household when it names it (我家, 俺家, 咱家, 我们家, 俺们家, 我屋头,
家里, "my household" …; traditional characters too) and asks something about it. The aspect comes
from keywords; an overview needs words of its own (情况, 啥户, 脱贫了没 …), so that "我家房子漏雨了
咋办" stays a policy question for the knowledge base.

A bound user's question is answered from the household's record. An unbound user is told how to
bind only when the question needs the record (``needs_record``: "我家贷款啥时候到期"); "俺家娃上学
有啥补贴不" names a general policy and goes to the knowledge base as before.
"""

from __future__ import annotations

import re
from enum import StrEnum

from knowledge.normalize import normalize


class Aspect(StrEnum):
    HELPERS = "helpers"
    LOAN = "loan"
    POLICIES = "policies"
    MEASURES = "measures"
    OVERVIEW = "overview"


# 家里 also says "at home" ("家里有人得大病咋报销"): it counts only with an aspect's own words.
_OWN = ("我们屋头", "我屋头", "俺们家", "咱们家", "我们家", "我家", "俺家", "咱家", "自家")
_OWN_WEAK = ("家里", "屋里头")
_OWN_EN = re.compile(r"\b(my|our) (household|family|home)\b")

# Checked in this order: the first aspect with a keyword wins.
_KEYWORDS: tuple[tuple[Aspect, tuple[str, ...]], ...] = (
    (
        Aspect.HELPERS,
        (
            "帮扶干部", "帮付干部", "包保干部", "帮扶人", "第一书记", "驻村", "谁帮", "帮扶责任",
            "联系人", "电话",
        ),
    ),
    (Aspect.LOAN, ("贷款", "小额信贷", "信贷", "代款", "贷", "到期", "还款", "续贷")),
    (Aspect.MEASURES, ("帮扶措施", "帮扶项目", "措施", "项目")),
    (
        Aspect.POLICIES,
        ("享受", "还能", "政策", "待遇", "补助", "补贴", "缺什么", "缺啥", "漏了", "漏掉", "没领"),
    ),
    (
        Aspect.OVERVIEW,
        (
            "情况", "啥户", "什么户", "哪种户", "脱贫了", "脱贫没", "脱没脱贫", "贫困户吗",
            "是不是贫困户", "算不算", "档案", "信息", "底子", "明白纸", "收入",
        ),
    ),
)  # fmt: skip
_KEYWORDS_EN: tuple[tuple[Aspect, re.Pattern[str]], ...] = (
    (Aspect.HELPERS, re.compile(r"\b(helpers?|cadres?|contacts?|phone|who helps)\b")),
    (Aspect.LOAN, re.compile(r"\b(loans?|credit|due|repay\w*)\b")),
    (Aspect.MEASURES, re.compile(r"\b(measures?|projects?)\b")),
    (Aspect.POLICIES, re.compile(r"\b(polic(y|ies)|entitled|benefits?|eligible|missing)\b")),
    (Aspect.OVERVIEW, re.compile(r"\b(status|situation|overview|record|poverty|income)\b")),
)

_QUESTION_WORDS = (
    "啥", "什么", "甚", "谁", "哪", "吗", "嘛", "么", "多少", "几", "咋", "怎", "如何", "能不能",
    "是不是", "有没有", "没有", "呢", "多久", "好久", "哪天", "时候", "撒",
)  # fmt: skip
_QUESTION_ENDINGS = ("不", "没", "没得", "吧")
_A_NOT_A = ("算不算", "够不够", "行不行", "给不给", "管不管", "享不享受", "有没得")
_QUESTION_EN = re.compile(r"^(what|who|when|which|how|is|are|am|do|does|did|can|could|will)\b")

# A bare phrase naming the household and an aspect asks for it without a question word:
# "我們家的幫扶措施", "俺家贷款", "my household loan" (but not "我家的帮扶干部从来不来").
_PHRASE_LEFTOVER = 2  # characters besides the household, 的 and the aspect's word
_SHORT_PHRASE_EN = 5  # words

# Words that only the household's record answers (for unbound users).
_RECORD_ONLY: dict[Aspect, tuple[str, ...]] = {
    Aspect.LOAN: ("到期", "哪天", "啥时候还", "什么时候还", "还剩", "还有多久", "欠", "due"),
    Aspect.POLICIES: (
        "享受", "还能", "缺什么", "缺啥", "漏了", "漏掉", "没领", "哪些政策", "啥政策",
        "什么政策", "啥待遇", "什么待遇", "哪些待遇", "entitled", "eligible", "missing", "policies",
        "benefits",
    ),
}  # fmt: skip


def asks_about_own_household(text: str) -> Aspect | None:
    """The aspect of the own household the message asks about; None when it does not."""
    raw = text.strip()
    folded = normalize(raw)
    compact = folded.replace(" ", "")
    if not compact:
        return None
    asked = _is_question(raw, folded, compact)
    if _OWN_EN.search(folded):
        if not asked and len(folded.split()) > _SHORT_PHRASE_EN:
            return None
        return next((aspect for aspect, words in _KEYWORDS_EN if words.search(folded)), None)
    strong = any(word in compact for word in _OWN)
    if not strong and not any(word in compact for word in _OWN_WEAK):
        return None
    for aspect, words in _KEYWORDS:
        word = next((word for word in words if word in compact), None)
        if word is not None:
            return aspect if asked or (strong and _bare_phrase(compact, word)) else None
    return None


def _bare_phrase(compact: str, aspect_word: str) -> bool:
    """Whether the message is little more than the household and the aspect: 我家的帮扶措施."""
    rest = compact.replace(aspect_word, "", 1)
    for own in _OWN:
        rest = rest.replace(own, "", 1)
    return len(rest.replace("的", "")) <= _PHRASE_LEFTOVER


def needs_record(text: str, aspect: Aspect) -> bool:
    """Whether only the household's record answers it (not a general rule the KB knows)."""
    if aspect in (Aspect.HELPERS, Aspect.MEASURES, Aspect.OVERVIEW):
        return True
    compact = normalize(text).replace(" ", "")
    return any(word in compact for word in _RECORD_ONLY.get(aspect, ()))


def _is_question(raw: str, folded: str, compact: str) -> bool:
    if "?" in raw or "？" in raw or _QUESTION_EN.match(folded):
        return True
    return (
        any(word in compact for word in _QUESTION_WORDS)
        or compact.endswith(_QUESTION_ENDINGS)
        or any(word in compact for word in _A_NOT_A)
    )
