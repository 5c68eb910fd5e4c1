"""How villagers write is understood: dialect, typos, synonyms, particles, complaints as stories."""

from __future__ import annotations

import pytest

from knowledge.intent import looks_like_grievance
from knowledge.lexicon import LexiconError, lexicon, parse
from knowledge.loader import bundled_files, load_files
from knowledge.tokens import clean


@pytest.mark.parametrize(
    ("typed", "understood"),
    [
        ("贷款要抵押啥", "信贷要抵押什么"),  # a final 啥 is a question word, not a particle
        ("咋个办", "怎么办"),  # not 怎么个办
        ("啥子是低保", "什么是低保"),  # not 什么子
        ("俺家娃上学有啥补贴不", "我家孩子上学有什么补助不"),
        ("甚至要做甚", "甚至要干什么"),  # 甚至 is not 什么至
        ("住院能包销吗", "住院能报销"),  # a typo by sound, a final particle
        ("请问一下小额信代咋整呀", "小额信贷怎么办"),
        ("我爸瞧病的医药费咋报", "我爸看病的医疗费用怎么报"),
        ("莫得钱咋个整", "没有钱怎么整"),
        ("這個補貼怎麼領", "这个补助怎么领"),  # traditional characters
    ],
)
def test_villagers_words_become_the_documents_words(typed: str, understood: str) -> None:
    assert clean(typed) == understood


def test_cleaning_twice_changes_nothing() -> None:
    """No mapping leads to a word that another mapping would change again."""
    for word in lexicon().replacements:
        assert clean(clean(word)) == clean(word), word


def test_a_word_mapped_twice_is_refused() -> None:
    data = {
        "dialect": {"northeast": {"咋整": "怎么办"}},
        "typos": {"咋整": "怎么样"},
        "synonyms": {},
        "fillers": [],
        "out_of_scope": [],
    }
    with pytest.raises(LexiconError, match="咋整 maps to both"):
        parse(data)


@pytest.mark.parametrize(
    "story",
    [
        "村干部找俺要了两百块才给办低保",
        "给村长送了两条烟才评上贫困户",
        "帮扶干部一年都没来过我家",
        "评贫困户全是村长亲戚",
        "修的房子没几天墙就裂了",
        "说好的补助到现在还没给",
        "我家的补贴被村会计领走了",
        "反映了好几次都没人管",
        "他们不让我说出去",
    ],
)
def test_complaints_told_as_stories_are_recognised(story: str) -> None:
    assert looks_like_grievance(story)


@pytest.mark.parametrize(
    "question",
    ["低保能领多少钱", "贷款要交钱吗", "老人没人管咋办", "补助什么时候发", "孩子没人管咋整",
     "房子漏雨咋办", "帮扶干部多久来一次", "危房改造给多少钱"],
)  # fmt: skip
def test_questions_are_not_taken_for_complaints(question: str) -> None:
    assert not looks_like_grievance(question)


def test_no_phrasing_of_a_policy_answer_reads_as_a_complaint() -> None:
    """Only the entries about complaining itself may be worded like one."""
    flagged = [
        (entry.id, question)
        for entry in load_files(bundled_files())
        if entry.topic != "supervision"
        for question in entry.questions
        if looks_like_grievance(question)
    ]
    assert flagged == []


@pytest.mark.parametrize(
    "question",
    [
        "举报电话是多少",
        "信访了多久能有回复",
        "要是有人挪用扶贫的钱咋办",
        "扶贫的钱有人盯着没，别让人给贪了",
    ],
)
def test_asking_how_reporting_works_is_a_question(question: str) -> None:
    assert not looks_like_grievance(question)


@pytest.mark.parametrize("report", ["我要举报村主任", "投诉驻村干部不作为", "村干部克扣补助怎么办"])
def test_a_report_with_a_question_word_is_still_a_report(report: str) -> None:
    assert looks_like_grievance(report)
