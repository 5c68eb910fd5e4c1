"""Is a message about the policies at all?

A naive Bayes model over the search tokens (characters and character pairs), learnt when the
index is built: the entries' own phrasings and answers are "policy", and the everyday questions
of knowledge/general_questions.txt (weather, phones, other loans, cooking…) are "other". It keeps
"附近有什么好吃的" from being answered by the one entry that happens to share a word with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

GENERAL_QUESTIONS = Path(__file__).resolve().parent / "general_questions.txt"


@cache
def general_questions() -> tuple[str, ...]:
    lines = GENERAL_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


class DomainModel:
    def __init__(self, policy: Iterable[list[str]], other: Iterable[list[str]]) -> None:
        self._policy = Counter(token for tokens in policy for token in tokens)
        self._other = Counter(token for tokens in other for token in tokens)
        vocabulary = len(self._policy.keys() | self._other.keys()) + 1
        self._policy_total = sum(self._policy.values()) + vocabulary
        self._other_total = sum(self._other.values()) + vocabulary

    def policy_odds(self, tokens: list[str]) -> float:
        """Mean log-odds per token that the text is about the policies (> 0: more likely)."""
        if not tokens:
            return 0.0
        total = sum(
            math.log((self._policy[token] + 1) / self._policy_total)
            - math.log((self._other[token] + 1) / self._other_total)
            for token in tokens
        )
        return total / len(tokens)
