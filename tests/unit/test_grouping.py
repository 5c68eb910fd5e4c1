"""Grouping the questions nobody could answer: villagers' wordings of one question together,
other questions apart, in the same order every time, and fast on a long list."""

from __future__ import annotations

import random

from knowledge.grouping import SIMILAR, bigrams, group_similar, similarity


def texts_of(texts: list[str]) -> list[set[str]]:
    return [{texts[i] for i in group.members} for group in group_similar(texts)]


def test_one_question_in_other_words_and_characters_is_one_group() -> None:
    texts = ["残疾人补贴咋领", "低保多少钱", "殘疾人補貼咋領取", "残疾补贴怎么领"]
    assert texts_of(texts) == [
        {"残疾人补贴咋领", "殘疾人補貼咋領取", "残疾补贴怎么领"},
        {"低保多少钱"},
    ]


def test_the_threshold_parts_the_same_question_from_another_on_the_same_subject() -> None:
    same = [
        ("残疾人补贴咋领", "殘疾人補貼咋領取"),
        ("残疾人补贴咋领", "残疾补贴怎么领"),
        ("殘疾人補貼咋領取", "残疾补贴怎么领"),
        ("请问低保怎么申请啊", "低保咋个申请"),
        ("怎么申请低保", "低保怎么申请"),
        ("小额贷款能贷多少钱？", "小额信贷能贷多少"),
    ]
    other = [
        ("残疾人补贴怎么申请", "残疾人补贴多少钱"),
        ("低保怎么申请", "残疾人补贴怎么申请"),
        ("低保多少钱", "低保怎么申请"),
        ("低保多少钱", "残疾人补贴咋领"),
        ("危房改造补助多少", "危房改造怎么申请"),
    ]
    for first, second in same:
        assert similarity(bigrams(first), bigrams(second)) >= SIMILAR, (first, second)
    for first, second in other:
        assert similarity(bigrams(first), bigrams(second)) < SIMILAR, (first, second)


def test_an_in_between_question_does_not_chain_two_groups() -> None:
    """低保补助怎么申请 is like both; it joins one, and the two others stay apart."""
    texts = [
        "低保怎么申请",
        "低保怎么申请",
        "残疾人补贴怎么申请",
        "残疾人补贴怎么申请",
        "低保补贴怎么申请",
    ]
    groups = texts_of(texts)
    assert len(groups) == 2
    assert all(not {"低保怎么申请", "残疾人补贴怎么申请"} <= group for group in groups)


def test_groups_are_sorted_by_size_then_newest_and_led_by_the_most_asked_wording() -> None:
    texts = ["低保多少钱", "残疾补贴怎么领", "殘疾人補貼咋領", "残疾人补贴咋领", "低保多少錢？"]
    groups = group_similar(texts)
    assert [len(group.members) for group in groups] == [3, 2]
    assert texts[groups[0].representative] == "殘疾人補貼咋領"  # asked twice, newest first
    assert groups[0].members == (1, 2, 3)
    assert groups[1].representative == 0
    assert groups[1].members == (0, 4)


def test_grouping_is_deterministic() -> None:
    texts = [f"{subject}{ask}" for subject in ("低保", "残疾补贴", "危房改造", "小额信贷")
             for ask in ("怎么申请", "多少钱", "咋领", "找谁办")] * 3  # fmt: skip
    assert group_similar(texts) == group_similar(list(texts))


def test_empty_and_punctuation_only_texts_stand_alone() -> None:
    groups = group_similar(["", "？？", "低保多少钱", ""])
    assert sorted(group.members for group in groups) == [(0,), (1,), (2,), (3,)]


def test_very_long_and_one_character_texts() -> None:
    long = "残疾人两项补贴怎么申请" * 45  # the 500 characters the bot keeps
    groups = group_similar([long, long[:-3], "钱", "钱", "低保"])
    assert [group.members for group in groups] == [(0, 1), (2, 3), (4,)]


def test_two_thousand_different_questions_each_belong_to_exactly_one_group() -> None:
    """The worst case for speed (no two alike: every text is compared with every leader);
    its time, 0.13 s by hand, is in bench/README.md, not asserted here."""
    rng = random.Random(11)
    pool = "低保残疾人补贴危房改造小额信贷医疗报销养老保险教育资助怎么申请多少钱咋领找谁办我家村里"
    texts = ["".join(rng.choices(pool, k=rng.randrange(6, 30))) for _ in range(2000)]
    groups = group_similar(texts)
    assert sorted(i for group in groups for i in group.members) == list(range(2000))
