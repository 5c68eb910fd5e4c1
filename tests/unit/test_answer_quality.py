"""Villagers' own words are answered, and rightly: the colloquial development set (written from
the seeds in three regions' registers, never used for phrasings) and out-of-scope traps."""

from __future__ import annotations

import pytest

from bench.kb_colloquial import evaluate, load_cases
from knowledge.domain import general_questions
from knowledge.homophones import SoundAlikes
from knowledge.loader import bundled_files, load_files
from knowledge.normalize import compact
from knowledge.search import Decision, KnowledgeIndex

INDEX = KnowledgeIndex(load_files(bundled_files()))


def test_colloquial_questions_are_answered_confidently_and_rightly() -> None:
    report = evaluate(INDEX, load_cases())
    assert report.answerable >= 100
    misses = "\n".join(report.misses)
    assert report.right_rate >= 0.9, misses
    assert report.wrong_rate <= 0.02, misses


@pytest.mark.parametrize(
    "question",
    ["网贷借了一万利息多少", "信用卡逾期了咋整", "车险到期去哪续", "微信咋发语音",
     "娃娃打疫苗去哪打", "电费咋交", "手机流量不够用", "明天会下雨吗"],
)  # fmt: skip
def test_other_things_sharing_the_policies_words_are_not_answered(question: str) -> None:
    assert not INDEX.search(question).confident


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("拖贫", "脱贫"), ("光服", "光伏"), ("代款", "贷款"), ("为房", "危房")],
)
def test_a_same_sounding_pair_becomes_the_known_one(typed: str, meant: str) -> None:
    alikes = SoundAlikes({meant: 3, "别的": 1})
    assert alikes.correct([typed[0], typed[1], typed]) == [typed[0], typed[1], meant]


def test_a_known_pair_is_never_corrected() -> None:
    alikes = SoundAlikes({"书记": 5, "输机": 1})
    assert alikes.correct(["输机", "舒畿"]) == ["输机", "书记"]


def test_a_question_for_an_amount_the_answer_lacks_is_only_offered() -> None:
    result = INDEX.search("低保一个月能领多少钱", ["云南省"])
    assert result.decision is Decision.UNSURE
    assert "social_security.dibao" in {match.entry.id for match in result.suggestions}


@pytest.mark.parametrize(
    "question",
    ["俺孙子半夜发烧咋整", "玉米叶子发黄是咋回事", "手机屏幕摔碎了去哪修", "你会唱歌不",
     "附近哪有卖化肥的", "老母猪不吃食咋办"],
)  # fmt: skip
def test_everyday_questions_get_the_honest_i_do_not_know(question: str) -> None:
    assert INDEX.search(question).decision is Decision.OUT_OF_SCOPE


def test_the_everyday_corpus_holds_no_policy_phrasing() -> None:
    phrasings = {compact(q) for entry in INDEX.entries for q in entry.questions}
    assert [line for line in general_questions() if compact(line) in phrasings] == []


@pytest.mark.parametrize("question", ["雨露计划是什么", "啥叫产业振兴贷"])
def test_a_term_no_entry_names_is_not_defined_by_another_entry(question: str) -> None:
    assert not INDEX.search(question).confident


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [("建当立卡是啥意思", "glossary.jiandang_lika"), ("啥叫一户一策", "glossary.yihu_yice")],
)
def test_a_term_typed_with_a_typo_is_still_defined(question: str, entry_id: str) -> None:
    result = INDEX.search(question)
    assert result.confident
    assert result.best.entry.id == entry_id
