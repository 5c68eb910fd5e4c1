""" "我家" questions: which are about the user's own household, and which aspect they ask about."""

from __future__ import annotations

import pytest

from knowledge.own_household import Aspect, asks_about_own_household, needs_record

OWN = [
    # helpers
    ("我家的帮扶干部是谁", Aspect.HELPERS),
    ("俺家包保干部叫啥", Aspect.HELPERS),
    ("咱家的第一书记电话多少", Aspect.HELPERS),
    ("我们家谁帮扶", Aspect.HELPERS),
    ("我屋头的帮扶干部是哪个哦", Aspect.HELPERS),
    ("家里的包保干部电话多少", Aspect.HELPERS),
    ("我們家的幫扶幹部是誰", Aspect.HELPERS),
    ("Who are my household's helpers?", Aspect.HELPERS),
    ("what is the phone of our family's cadre", Aspect.HELPERS),
    # loan
    ("俺家贷款啥时候到期", Aspect.LOAN),
    ("我家小额信贷哪天要还", Aspect.LOAN),
    ("俺们家的代款还有多久到期", Aspect.LOAN),
    ("咱家贷款能续贷不", Aspect.LOAN),
    ("俺家貸款啥時候到期", Aspect.LOAN),
    ("When is my family's loan due?", Aspect.LOAN),
    # policies
    ("我家还能享受啥", Aspect.POLICIES),
    ("俺家能享受哪些政策", Aspect.POLICIES),
    ("咱家还缺啥待遇", Aspect.POLICIES),
    ("我们家是不是漏了啥补助", Aspect.POLICIES),
    ("我家還能享受什麼政策", Aspect.POLICIES),
    ("Which policies is my household entitled to?", Aspect.POLICIES),
    # measures
    ("俺们家有啥帮扶措施", Aspect.MEASURES),
    ("我屋头有啥子项目哦", Aspect.MEASURES),
    ("我家的帮扶项目搞得咋样了", Aspect.MEASURES),
    ("What measures does my household have?", Aspect.MEASURES),
    # overview
    ("我家情况咋样", Aspect.OVERVIEW),
    ("我家是啥户", Aspect.OVERVIEW),
    ("咱家脱贫了没", Aspect.OVERVIEW),
    ("俺家算不算贫困户", Aspect.OVERVIEW),
    ("我家情況怎麼樣？", Aspect.OVERVIEW),
    ("What is my household status?", Aspect.OVERVIEW),
    # bare phrases and typos, as villagers type them
    ("我們家的幫扶措施", Aspect.MEASURES),
    ("我家的情况", Aspect.OVERVIEW),
    ("俺家贷款", Aspect.LOAN),
    ("my household loan", Aspect.LOAN),
    ("俺家帮付干部是谁", Aspect.HELPERS),
    ("咱家还能享受撒", Aspect.POLICIES),
]

NOT_OWN = [
    "小额信贷能贷多少",
    "扶贫代款啥时候到期",
    "帮扶干部是干啥的",
    "我家房子漏雨了咋办",  # a housing question: the knowledge base answers it
    "家里有人得大病咋报销",
    "我家的帮扶干部从来不来",  # a complaint, not a question
    "我家被村长欺负了",
    "家里贷款",  # 家里 alone also means "at home": a bare phrase needs 我家, 俺家 …
    "我家的贷款一直没批下来",
    "我家",
    "",
    "my family is sick, what can I do?",
    "how much can I borrow?",
]


@pytest.mark.parametrize(("text", "aspect"), OWN)
def test_own_household_questions_and_their_aspect(text: str, aspect: Aspect) -> None:
    assert asks_about_own_household(text) is aspect


@pytest.mark.parametrize("text", NOT_OWN)
def test_other_messages_are_not_about_the_own_household(text: str) -> None:
    assert asks_about_own_household(text) is None


@pytest.mark.parametrize(
    "text",
    ["我家的帮扶干部是谁", "俺家贷款啥时候到期", "我家还能享受啥", "我家是啥户", "俺家有啥措施",
     "When is my family's loan due?", "What policies can my household get?"],
)  # fmt: skip
def test_questions_only_the_record_answers(text: str) -> None:
    aspect = asks_about_own_household(text)
    assert aspect is not None
    assert needs_record(text, aspect)


@pytest.mark.parametrize("text", ["俺家娃上学有啥补贴不", "我家能贷多少", "咱家贷款能续贷不"])
def test_own_questions_about_a_general_rule(text: str) -> None:
    aspect = asks_about_own_household(text)
    assert aspect is not None
    assert not needs_record(text, aspect)
