"""Is a message about the policies at all?

A naive Bayes model over the search tokens (characters and character pairs), learnt when the
index is built: the entries' phrasings and answers are "policy", and the everyday questions of
knowledge/general_questions.txt (weather, phones, other loans, cooking…) are "other". It keeps
"附近有什么好吃的" from being answered by the one entry that happens to share a word with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

GENERAL_QUESTIONS = Path(__file__).resolve().parent / "general_questions.txt"


@cache
def general_questions() -> tuple[str, ...]:
    lines = GENERAL_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


class DomainModel:
    """Token counts of both classes; the policy side by the index's token ids (no string copies)."""

    def __init__(
        self,
        vocabulary: Mapping[str, int],
        policy_counts: np.ndarray,
        other: Iterable[list[str]],
    ) -> None:
        self._vocabulary = vocabulary
        self._policy = policy_counts
        self._other = Counter(token for tokens in other for token in tokens)
        distinct = len(vocabulary) + len(self._other.keys() - vocabulary.keys()) + 1
        self._policy_total = float(policy_counts.sum()) + distinct
        self._other_total = sum(self._other.values()) + distinct

    def policy_odds(self, tokens: list[str]) -> float:
        """Mean log-odds per token that the text is about the policies (> 0: more likely)."""
        if not tokens:
            return 0.0
        total = 0.0
        for token in tokens:
            token_id = self._vocabulary.get(token)
            policy = float(self._policy[token_id]) if token_id is not None else 0.0
            total += math.log((policy + 1) / self._policy_total)
            total -= math.log((self._other[token] + 1) / self._other_total)
        return total / len(tokens)
