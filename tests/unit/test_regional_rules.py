"""One region's rule is never told to another region as its own: the same five questions asked
by a Changchun, a Yunnan, a Bayannur and a region-less villager."""

from __future__ import annotations

import pytest

from knowledge.loader import bundled_files, load_files
from knowledge.search import Decision, KnowledgeIndex

INDEX = KnowledgeIndex(load_files(bundled_files()))
USERS = {
    "长春市": ["吉林省", "长春市", "农安县"],
    "云南省": ["云南省", "昭通市", "镇雄县"],
    "巴彦淖尔市": ["内蒙古自治区", "巴彦淖尔市", "五原县"],
}
# question → the regions whose own documents answer it, and a fact their answer must hold
QUESTIONS = {
    "贫困户看病是不是全免": {"长春市": "七免十九减", "云南省": "取消"},
    "贫困户识别的收入标准是多少": {"长春市": "3200元"},
    "驻村干部一年得在村里住多久": {"长春市": "200天", "云南省": "", "巴彦淖尔市": ""},
    "看病能先看病后交钱不": {"长春市": "先诊疗"},
    "家庭医生必须签约吗": {"云南省": "家庭医生"},
}


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("region", USERS)
def test_each_region_gets_its_own_rule_or_an_honest_not_here(question: str, region: str) -> None:
    result = INDEX.search(question, USERS[region])
    assert result.best is not None
    entry = result.best.entry
    if region in QUESTIONS[question]:
        assert result.decision is Decision.ANSWER, (question, region, entry.id)
        assert entry.region in ("all", region)
        assert QUESTIONS[question][region] in entry.answer
    else:
        # Not confident, and the rule shown is named as another region's.
        assert result.decision is Decision.OTHER_REGION, (question, region, result.decision)
        assert entry.region != region
    assert all(match.entry.region in ("all", region) for match in result.suggestions)


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_region_less_answer_always_names_its_region(question: str) -> None:
    """The bot asks such a user for the village first (tests/integration/test_regional_answers)."""
    result = INDEX.search(question)
    assert result.best is not None
    assert result.best.entry.region in QUESTIONS[question]
