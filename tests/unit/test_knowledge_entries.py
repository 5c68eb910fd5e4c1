"""Every knowledge-base entry is traceable to its seeds, dated, scoped, plain, and not tuned to
an evaluation set."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest

from knowledge.entries import TOPICS, Entry, seed_region
from knowledge.loader import bundled_files, load_files
from knowledge.review import entry_problems
from knowledge.tokens import clean

ENTRIES = load_files(bundled_files())
EVAL_DIR = Path(__file__).resolve().parents[1] / "eval"
EVAL_SETS = sorted(EVAL_DIR.glob("*.jsonl"))
# A phrasing sharing this share of character pairs with an evaluation question copies it.
COPIED_SIMILARITY = 0.8


def test_there_are_enough_entries_and_every_topic_has_some() -> None:
    assert len(ENTRIES) >= 80
    assert {entry.topic for entry in ENTRIES} == set(TOPICS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_entry_is_faithful_dated_scoped_and_plain(entry: Entry) -> None:
    """Numbers and quotes from its seeds, its document's date, a region it cites, no jargon."""
    assert entry_problems(entry) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_a_general_entry_resting_on_one_region_says_why(entry: Entry) -> None:
    if not entry.is_regional and len({seed_region(s.file) for s in entry.sources}) == 1:
        assert entry.general_note


def test_some_entries_define_the_words_villagers_see_on_paper() -> None:
    defined = " ".join(entry.answer for entry in ENTRIES if entry.topic == "glossary")
    for term in ("两不愁三保障", "建档立卡", "四不摘", "七免一补", "防贫保"):
        assert term in defined


def as_searched(text: str) -> str:
    """The question as the search sees it: normalised, dialect mapped, filler and particles gone."""
    return clean(text).replace(" ", "")


def bigram_similarity(first: str, second: str) -> float:
    """Dice coefficient of the two texts' character pairs (1.0: the same pairs)."""
    pairs = [Counter(a + b for a, b in itertools.pairwise(text)) for text in (first, second)]
    total = sum(pairs[0].values()) + sum(pairs[1].values())
    return 2 * sum((pairs[0] & pairs[1]).values()) / total if total else float(first == second)


def test_bigram_similarity_of_a_dialect_copy() -> None:
    assert as_searched("四不摘是啥") == as_searched("四不摘是什么")
    assert bigram_similarity(as_searched("扶贫车间在哪儿"), as_searched("扶贫车间在哪")) > 0.9
    assert bigram_similarity("边缘户说的是哪个样的人家", "边缘户是甚意思") < 0.5


@pytest.mark.parametrize("eval_set", EVAL_SETS, ids=lambda path: path.name)
def test_no_phrasing_is_copied_from_an_evaluation_set(eval_set: Path) -> None:
    """Not the same question once the bot has normalised it, nor nearly the same words."""
    lines = eval_set.read_text(encoding="utf-8").splitlines()
    asked = [as_searched(json.loads(line)["q"]) for line in lines if line.strip()]
    copied = [
        (entry.id, phrasing, question)
        for entry in ENTRIES
        for phrasing in entry.questions
        for question in asked
        if bigram_similarity(as_searched(phrasing), question) >= COPIED_SIMILARITY
    ]
    assert copied == []


def test_a_bare_yes_opens_only_the_answer_to_that_yes_no_question() -> None:
    """ "出去打工有人管路费吗" once got "有。…" from an answer about organised migrant work."""
    entry = next(entry for entry in ENTRIES if entry.id == "microcredit.amount")
    yes = entry.model_copy(update={"answer": "有。" + entry.answer})
    assert "opens with a bare yes/no" in " ".join(entry_problems(yes))
    asked_yes_no = yes.model_copy(update={"questions": ("能贷款吗", "贷款能不能贷", "有没有贷款")})
    assert not any("bare yes/no" in problem for problem in entry_problems(asked_yes_no))
