"""Every knowledge-base entry is traceable to its seed document and is not tuned to the eval set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from knowledge.entries import SEEDS_DIR, TOPICS, Entry
from knowledge.loader import bundled_files, load_files
from knowledge.normalize import compact, to_simplified

ENTRIES = load_files(bundled_files())
EVAL = Path(__file__).resolve().parents[1] / "eval" / "dev.jsonl"
# A number with the unit that gives it its meaning: 5万, 3年, 3200元, 200天, 4类, 15%.
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def seed_text(entry: Entry) -> str:
    return (SEEDS_DIR / entry.source.file).read_text(encoding="utf-8")


def test_there_are_enough_entries_and_every_topic_has_some() -> None:
    assert len(ENTRIES) >= 80
    assert {entry.topic for entry in ENTRIES} == set(TOPICS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_entry_is_traceable_to_its_seed(entry: Entry) -> None:
    source = seed_text(entry)
    assert (SEEDS_DIR / entry.source.file).is_file()
    numbers = set(NUMBER.findall(entry.answer))
    missing = {number for number in numbers if number not in source}
    assert not missing, f"{entry.id}: {missing} not in {entry.source.file}"
    if entry.source.quote:
        assert compact(entry.source.quote) in compact(source)
    assert len(entry.answer) <= 300
    assert len(entry.questions) >= 3


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_numbers_keep_their_units(entry: Entry) -> None:
    """5万 in an answer must read 5万 in the source too, not merely a 5 somewhere."""
    source = to_simplified(seed_text(entry)).replace(" ", "")
    for match in re.finditer(r"(\d+(?:\.\d+)?)(万元|万|元|年|天|类|个|%|次)", entry.answer):
        assert match.group(0) in source, f"{entry.id}: {match.group(0)}"


def test_no_phrasing_is_copied_from_the_eval_questions() -> None:
    asked = {compact(json.loads(line)["q"]) for line in EVAL.read_text().splitlines() if line}
    copied = [(e.id, q) for e in ENTRIES for q in e.questions if compact(q) in asked]
    assert copied == []
