"""Search as a villager notices it: typos, traditional characters, noise, regions, complaints."""

from __future__ import annotations

import pytest

from knowledge.entries import Entry
from knowledge.loader import bundled_files, load_files
from knowledge.search import Decision, KnowledgeIndex

INDEX = KnowledgeIndex(load_files(bundled_files()))


def answer_of(question: str, region: list[str] | None = None) -> Entry:
    result = INDEX.search(question, region)
    assert result.decision is Decision.ANSWER, (question, result.decision, result.best)
    assert result.best is not None
    return result.best.entry


@pytest.mark.parametrize(
    "question",
    [
        "小额信贷能贷多少钱",
        "小額信貸能貸多少錢",  # traditional characters
        "小额信代能贷多少钱",  # 代 for 贷: same pinyin, the first candidate of many keyboards
        "ＸＩＡＯ额信贷能贷多少钱？？？",  # full-width letters, stray punctuation
        "请问一下，俺家小额信贷能贷多少钱呀",  # filler words and dialect
    ],
)
def test_noisy_phrasings_still_find_the_loan_amount(question: str) -> None:
    assert "5万元" in answer_of(question).answer


@pytest.mark.parametrize("question", ["", "   ", "😀😀😀", "？？！！", "\u200b"])
def test_empty_or_emoji_only_messages_are_not_searched(question: str) -> None:
    assert INDEX.search(question).decision is Decision.EMPTY


def test_very_long_message_is_answered_without_error() -> None:
    result = INDEX.search("小额信贷能贷多少钱" + "啊" * 4000)
    assert result.decision in (Decision.ANSWER, Decision.UNSURE, Decision.OUT_OF_SCOPE)


@pytest.mark.parametrize(
    "question",
    ["今天天气怎么样", "帮我买一张火车票", "怎么做红烧肉", "给我讲个笑话"],
)
def test_out_of_scope_is_never_answered_confidently(question: str) -> None:
    assert INDEX.search(question).decision is Decision.OUT_OF_SCOPE


@pytest.mark.parametrize(
    "message",
    ["村干部优亲厚友，评贫困户不公平", "举报有人冒领补助", "我家的钱被扣了", "我要投訴"],
)
def test_complaints_are_recognised(message: str) -> None:
    assert INDEX.search(message).decision is Decision.GRIEVANCE


def test_other_regions_rules_are_not_given_as_the_users_own() -> None:
    changchun_line = "identification.income_line"
    assert INDEX.get(changchun_line).region == "长春市"
    assert answer_of("贫困户识别收入标准是多少", ["吉林省", "长春市"]).id == changchun_line
    yunnan = INDEX.search("贫困户识别收入标准是多少", ["云南省", "昭通市"])
    assert not yunnan.confident
    assert yunnan.decision is Decision.OTHER_REGION  # said to be Changchun's, not passed off
    assert yunnan.best.entry.id == changchun_line
    assert all(match.entry.region in ("all", "云南省") for match in yunnan.suggestions)


def test_a_region_named_in_the_question_is_the_region_asked_about() -> None:
    assert answer_of("长春贫困户识别收入标准是多少", ["云南省", "昭通市"]).region == "长春市"
    assert answer_of("长春市贫困户识别收入标准是多少").region == "长春市"


def test_a_regions_own_entry_wins_over_a_general_one() -> None:
    general = Entry.model_validate(
        {
            "id": "test.general",
            "topic": "microcredit",
            "questions": ["贷款额度是多少", "能贷多少", "最多贷多少"],
            "answer": "各地额度不同。",
            "source": {"file": "002_4a97d43123b46257.txt", "clause": "x"},
            "region": "all",
            "effective": "2017",
            "general_note": "a test entry",
        }
    )
    regional = general.model_copy(
        update={"id": "test.regional", "region": "长春市", "answer": "长春市5万元以下。"}
    )
    index = KnowledgeIndex([general, regional])
    assert index.search("贷款额度是多少", ["吉林省", "长春市"]).best.entry.id == "test.regional"
    assert index.search("贷款额度是多少", ["云南省"]).best.entry.id == "test.general"
