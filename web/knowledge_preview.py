"""What an edit would do before it is saved: the answer as a villager sees it, which entry the
bot picks for each question, and line-by-line differences between two versions."""

from __future__ import annotations

import difflib
import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from handlers.ask import render_answer
from knowledge.entries import Entry
from knowledge.search import Decision, KnowledgeIndex


def villager_view(entry: Entry, locale: str) -> str:
    """The bot's own reply to a question this entry answers, as plain text (the bot sends it as
    Telegram HTML, every value in it escaped; the page escapes it again itself)."""
    return html.unescape(render_answer(entry, locale))


@dataclass(frozen=True)
class Pick:
    """Which entry the bot would answer a question with, and whether it is sure."""

    question: str
    decision: str
    entry_id: str | None
    confident: bool
    is_edited: bool


def picks(
    index: KnowledgeIndex, questions: Iterable[str], region_names: list[str] | None, edited_id: str
) -> list[Pick]:
    results = []
    for question in questions:
        result = index.search(question, region_names)
        nothing = result.decision in (Decision.OUT_OF_SCOPE, Decision.PARTICULAR)
        shown = None if nothing else result.best
        entry_id = shown.entry.id if shown else None
        results.append(
            Pick(question, result.decision.value, entry_id, result.confident, entry_id == edited_id)
        )
    return results


def as_yaml(content: dict[str, Any]) -> str:
    """An entry as its YAML file says it."""
    return yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=100)


def diff_lines(old: dict[str, Any] | None, new: dict[str, Any]) -> list[tuple[str, str]]:
    """The new content line by line, each marked "add", "del" or "" (unchanged)."""
    before = as_yaml(old).splitlines() if old else []
    marked = []
    for line in difflib.ndiff(before, as_yaml(new).splitlines()):
        mark, text = line[:2], line[2:]
        if mark == "? ":
            continue
        marked.append(({"+ ": "add", "- ": "del"}.get(mark, ""), text))
    return marked
