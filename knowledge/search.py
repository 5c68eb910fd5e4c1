"""The search index over knowledge-base entries and the calibrated answer decision."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import bm25s
import numpy as np

from knowledge.entries import Entry
from knowledge.intent import looks_like_grievance
from knowledge.normalize import compact
from knowledge.tokens import tokenize

# bm25s sets its logger to DEBUG on import and logs every index build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Calibrated on held-out phrasings and out-of-scope questions (bench/kb_quality.py):
# coverage is the share of the question's information (IDF-weighted tokens) found in an entry;
# margin is how far the best entry's score stands above the next one's, relatively.
CONFIDENT_COVERAGE = 0.4
CLEAR_MARGIN = 0.1
CERTAIN_COVERAGE = 0.75  # nearly every word of the question is in the entry: a small lead does
TIE_MARGIN = 0.02  # closer than this, two entries tie and the user chooses
UNSURE_COVERAGE = 0.3
# A region's own entry wins over a general one that scores a little higher.
OWN_REGION_BOOST = 1.2
MAX_SUGGESTIONS = 3


class Decision(StrEnum):
    ANSWER = "answer"  # confident: one entry answers it
    UNSURE = "unsure"  # probably one of the suggestions
    OUT_OF_SCOPE = "out_of_scope"  # nothing in the knowledge base is about this
    GRIEVANCE = "grievance"  # a complaint: offer the report flow
    EMPTY = "empty"  # nothing to search for (empty, emoji only)


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    coverage: float


@dataclass(frozen=True)
class SearchResult:
    decision: Decision
    best: Match | None = None
    suggestions: tuple[Match, ...] = field(default_factory=tuple)

    @property
    def confident(self) -> bool:
        return self.decision is Decision.ANSWER


def document_text(entry: Entry) -> str:
    return " ".join([*entry.questions, entry.answer, entry.details or ""])


class KnowledgeIndex:
    """BM25 over character unigrams and bigrams, one document per entry.

    An entry's document joins its phrasings, answer and details: on held-out phrasings this
    found the right entry far more often than one document per phrasing (bench/README.md).
    """

    def __init__(self, entries: Sequence[Entry], version: int = 0) -> None:
        self.entries = list(entries)
        self.version = version
        self._by_id = {entry.id: entry for entry in self.entries}
        self._regions = [compact(entry.region) for entry in self.entries]
        # Tokens become integer ids at once: Python strings and sets per entry would cost
        # several times the memory at 5,000 entries (bench/README.md).
        self._vocabulary: dict[str, int] = {}
        documents = [
            [self._vocabulary.setdefault(token, len(self._vocabulary)) for token in tokens]
            for tokens in (tokenize(document_text(entry)) for entry in self.entries)
        ]
        self._entry_tokens = [np.unique(np.array(ids, dtype=np.int32)) for ids in documents]
        frequency = np.zeros(len(self._vocabulary), dtype=np.float32)
        for ids in self._entry_tokens:
            frequency[ids] += 1
        count = max(len(self.entries), 1)
        self._idf = np.log1p(count / np.maximum(frequency, 1))
        self._unseen_idf = float(np.log1p(count))
        self._bm25 = bm25s.BM25()
        if documents:
            self._bm25.index((documents, dict(self._vocabulary)), show_progress=False)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def search(self, text: str, region_names: Sequence[str] | None = None) -> SearchResult:
        """Answer, suggest, or admit that the question is outside the knowledge base.

        ``region_names`` are the user's region and its ancestors (云南省, 昭通市, ...); None when
        unknown. Entries scoped to another region are then left out.
        """
        if looks_like_grievance(text):
            return SearchResult(Decision.GRIEVANCE)
        query = tokenize(text)
        if not query or not self.entries:
            return SearchResult(Decision.EMPTY if not query else Decision.OUT_OF_SCOPE)
        matches, other_region_best = self._rank(query, region_names)
        if not matches:
            return SearchResult(Decision.OUT_OF_SCOPE)
        best = matches[0]
        # Another region's rule fits better than anything of the user's own: what is left is
        # probably not the answer (a Yunnan user asking about Changchun's income line).
        runner_up = max(matches[1].score if len(matches) > 1 else 0.0, other_region_best)
        margin = (best.score - runner_up) / best.score
        if (best.coverage >= CERTAIN_COVERAGE and margin >= TIE_MARGIN) or (
            best.coverage >= CONFIDENT_COVERAGE and margin >= CLEAR_MARGIN
        ):
            return SearchResult(Decision.ANSWER, best, tuple(matches[1 : 1 + MAX_SUGGESTIONS]))
        if best.coverage >= UNSURE_COVERAGE:
            return SearchResult(Decision.UNSURE, best, tuple(matches[:MAX_SUGGESTIONS]))
        return SearchResult(Decision.OUT_OF_SCOPE, best)

    def _rank(
        self, query: list[str], region_names: Sequence[str] | None
    ) -> tuple[list[Match], float]:
        """The best matches the user may be given, and the best score of an excluded one."""
        known = sorted({self._vocabulary[token] for token in query if token in self._vocabulary})
        if not known:
            return [], 0.0
        query_ids = np.array(known, dtype=np.int32)
        per_entry = self._bm25.get_scores_from_ids(known)
        unseen = len(set(query)) - len(known)
        query_weight = float(self._idf[query_ids].sum()) + unseen * self._unseen_idf
        own = {compact(name) for name in region_names} if region_names else None
        ranked: list[tuple[float, int]] = []
        excluded = 0.0
        for position in np.argsort(-per_entry)[: 4 * MAX_SUGGESTIONS + 8]:
            score = float(per_entry[position])
            if score <= 0:
                break
            region = self._regions[position]
            if own is not None and region != "all":
                if region not in own:
                    excluded = max(excluded, score)
                    continue
                score *= OWN_REGION_BOOST
            ranked.append((score, int(position)))
        ranked.sort(key=lambda item: -item[0])
        matches = [
            Match(self.entries[position], score, self._coverage(query_ids, position, query_weight))
            for score, position in ranked[: MAX_SUGGESTIONS + 1]
        ]
        return matches, excluded

    def _coverage(self, query_ids: np.ndarray, position: int, query_weight: float) -> float:
        """IDF-weighted share of the question's tokens that the entry contains."""
        tokens = self._entry_tokens[position]
        slots = np.minimum(np.searchsorted(tokens, query_ids), len(tokens) - 1)
        found = query_ids[tokens[slots] == query_ids]
        return float(self._idf[found].sum()) / query_weight
