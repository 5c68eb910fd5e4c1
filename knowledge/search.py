"""The search index over knowledge-base entries and the calibrated answer decision."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import bm25s
import numpy as np

from knowledge.domain import DomainModel, general_questions
from knowledge.entries import ALL_REGIONS, Entry
from knowledge.homophones import SoundAlikes
from knowledge.intent import looks_like_grievance
from knowledge.lexicon import lexicon
from knowledge.normalize import compact
from knowledge.question_shapes import asks_a_particular, lacks_the_number_asked, term_defined
from knowledge.tokens import clean, tokenize

# bm25s sets its logger to DEBUG on import and logs every index build.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Calibrated on the colloquial development set (bench/kb_colloquial.py), held-out phrasings and
# out-of-scope questions (bench/kb_quality.py), figures in bench/README.md:
# coverage is the share of the question's information (IDF-weighted tokens) found in an entry;
# margin is how far the best entry's score stands above the next one's, relatively.
CONFIDENT_COVERAGE = 0.35
CLEAR_MARGIN = 0.03
CERTAIN_COVERAGE = 0.75  # nearly every word of the question is in the entry: a small lead does
TIE_MARGIN = 0.02  # closer than this, two entries tie and the user chooses
UNSURE_COVERAGE = 0.2
# A region's own entry wins over a general one that scores a little higher.
OWN_REGION_BOOST = 1.2
# Only another region's rule that scores this much higher than the user's own best match is
# "the answer, but of another region"; a closer one is that region's version of the same thing.
OTHER_REGION_LEAD = 1.3
MAX_SUGGESTIONS = 3
# Share of a term's character pairs an entry must contain to be taken as its definition.
TERM_NAMED = 0.5
# Below this, a message reads more like an everyday question than a policy one (domain.py); a
# message is offered suggestions only when it reads at least as much like a policy question.
POLICY_ODDS = -0.3
SUGGEST_POLICY_ODDS = 0.0


class Decision(StrEnum):
    ANSWER = "answer"  # confident: one entry answers it
    UNSURE = "unsure"  # probably one of the suggestions
    OUT_OF_SCOPE = "out_of_scope"  # nothing in the knowledge base is about this
    GRIEVANCE = "grievance"  # a complaint: offer the report flow
    EMPTY = "empty"  # nothing to search for (empty, emoji only)
    OTHER_REGION = "other_region"  # only another region's document has a rule on this
    PARTICULAR = "particular"  # a name, number, place or day no policy document holds


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


@dataclass(frozen=True)
class Ranking:
    """The matches a user may be given, best first, and the best one of another region."""

    matches: list[Match]
    other_region: Match | None


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
        self._region_names = [
            (region, compact(region).removesuffix("市").removesuffix("省"))
            for region in sorted({entry.region for entry in self.entries if entry.is_regional})
        ]
        self._cleaned: dict[str, str] = {}
        # Tokens become integer ids at once: Python strings and sets per entry would cost
        # several times the memory at 5,000 entries (bench/README.md).
        self._vocabulary: dict[str, int] = {}
        documents = [
            [self._vocabulary.setdefault(token, len(self._vocabulary)) for token in tokens]
            for tokens in (tokenize(document_text(entry)) for entry in self.entries)
        ]
        occurrences = np.bincount(
            np.fromiter((i for ids in documents for i in ids), dtype=np.int64),
            minlength=len(self._vocabulary),
        )
        self._domain = DomainModel(
            self._vocabulary, occurrences, (tokenize(line) for line in general_questions())
        )
        self._entry_tokens = [np.unique(np.array(ids, dtype=np.int32)) for ids in documents]
        frequency = np.zeros(len(self._vocabulary), dtype=np.float32)
        for ids in self._entry_tokens:
            frequency[ids] += 1
        self._sound_alikes = SoundAlikes(
            (token, int(frequency[token_id])) for token, token_id in self._vocabulary.items()
        )
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
        unknown. Entries scoped to another region are then left out, and a question only another
        region's document answers gets OTHER_REGION. A region named in the question ("长春的…")
        is the region asked about.
        """
        if looks_like_grievance(text):
            return SearchResult(Decision.GRIEVANCE)
        query = self._sound_alikes.correct(tokenize(text))
        if not query or not self.entries:
            return SearchResult(Decision.EMPTY if not query else Decision.OUT_OF_SCOPE)
        region_names = self.regions_named_in(text) or region_names
        ranking = self._rank(query, region_names)
        if not ranking.matches:
            if ranking.other_region and self._is_clear(ranking.other_region, None):
                return SearchResult(Decision.OTHER_REGION, ranking.other_region)
            return SearchResult(Decision.OUT_OF_SCOPE)
        best, *others = ranking.matches
        if self._names_something_else(text, best.entry):
            return SearchResult(Decision.OUT_OF_SCOPE, best)
        policy_odds = self._domain.policy_odds(query)
        if policy_odds < POLICY_ODDS:
            return SearchResult(Decision.OUT_OF_SCOPE, best)
        if asks_a_particular(text, best.entry.answer):
            return SearchResult(Decision.PARTICULAR, best)
        if not self._names_the_term_asked(text, best.entry):
            # Asked what a term means, and the entry never names it: not its definition.
            return SearchResult(Decision.UNSURE, best, tuple(ranking.matches[:MAX_SUGGESTIONS]))
        if lacks_the_number_asked(text, best.entry.answer):
            # Offered, not asserted: the entry says what the documents say, but not the amount.
            return SearchResult(Decision.UNSURE, best, tuple(ranking.matches[:MAX_SUGGESTIONS]))
        other = ranking.other_region
        if other and other.score >= OTHER_REGION_LEAD * best.score and self._is_clear(other, best):
            # Another region's rule fits far better than anything of the user's own region.
            suggestions = tuple(ranking.matches[:MAX_SUGGESTIONS])
            return SearchResult(Decision.OTHER_REGION, other, suggestions)
        if region_names is None and best.entry.is_regional:
            # Region unknown: another region's version of the same rule is no rival answer (the
            # answer names its region, and the bot asks for the village before giving it).
            others = [m for m in others if m.entry.region in (best.entry.region, ALL_REGIONS)]
        runner_up = others[0].score if others else 0.0
        if self._is_clear(best, runner_up):
            return SearchResult(Decision.ANSWER, best, tuple(others[:MAX_SUGGESTIONS]))
        if best.coverage >= UNSURE_COVERAGE and policy_odds >= SUGGEST_POLICY_ODDS:
            return SearchResult(Decision.UNSURE, best, tuple(ranking.matches[:MAX_SUGGESTIONS]))
        return SearchResult(Decision.OUT_OF_SCOPE, best)

    def regions_named_in(self, text: str) -> list[str]:
        """The entries' regions that the question names, by full or short name (长春市, 长春)."""
        asked = compact(text)
        return [region for region, short in self._region_names if short in asked]

    @staticmethod
    def _is_clear(best: Match, runner_up: Match | float | None) -> bool:
        """Covers enough of the question and stands clearly above the next candidate."""
        second = runner_up.score if isinstance(runner_up, Match) else (runner_up or 0.0)
        margin = (best.score - second) / best.score
        return (best.coverage >= CERTAIN_COVERAGE and margin >= TIE_MARGIN) or (
            best.coverage >= CONFIDENT_COVERAGE and margin >= CLEAR_MARGIN
        )

    def _names_something_else(self, text: str, entry: Entry) -> bool:
        """The question is about another loan, insurance, app or utility the entry never names."""
        asked = clean(text)
        document = self._cleaned_document(entry)
        return any(word in asked and word not in document for word in lexicon().out_of_scope)

    def _names_the_term_asked(self, text: str, entry: Entry) -> bool:
        """For "X是什么": most of X's character pairs (typos by sound corrected) are the entry's."""
        term = term_defined(text)
        if term is None:
            return True
        pairs = [token for token in self._sound_alikes.correct(tokenize(term)) if len(token) == 2]
        found = [pair for pair in pairs if pair in self._cleaned_document(entry)]
        return len(found) >= TERM_NAMED * len(pairs)

    def _cleaned_document(self, entry: Entry) -> str:
        if entry.id not in self._cleaned:
            self._cleaned[entry.id] = clean(document_text(entry))
        return self._cleaned[entry.id]

    def _rank(self, query: list[str], region_names: Sequence[str] | None) -> Ranking:
        known = sorted({self._vocabulary[token] for token in query if token in self._vocabulary})
        if not known:
            return Ranking([], None)
        query_ids = np.array(known, dtype=np.int32)
        per_entry = self._bm25.get_scores_from_ids(known)
        unseen = len(set(query)) - len(known)
        query_weight = float(self._idf[query_ids].sum()) + unseen * self._unseen_idf
        own = {compact(name) for name in region_names} if region_names else None
        ranked: list[tuple[float, int]] = []
        excluded: tuple[float, int] | None = None
        for position in np.argsort(-per_entry)[: 4 * MAX_SUGGESTIONS + 8]:
            score = float(per_entry[position])
            if score <= 0:
                break
            region = self._regions[position]
            if own is not None and region != ALL_REGIONS:
                if region not in own:
                    excluded = excluded or (score, int(position))
                    continue
                score *= OWN_REGION_BOOST
            ranked.append((score, int(position)))
        ranked.sort(key=lambda item: -item[0])

        def match(score: float, position: int) -> Match:
            coverage = self._coverage(query_ids, position, query_weight)
            return Match(self.entries[position], score, coverage)

        matches = [match(score, position) for score, position in ranked[: MAX_SUGGESTIONS + 1]]
        return Ranking(matches, match(*excluded) if excluded else None)

    def _coverage(self, query_ids: np.ndarray, position: int, query_weight: float) -> float:
        """IDF-weighted share of the question's tokens that the entry contains."""
        tokens = self._entry_tokens[position]
        slots = np.minimum(np.searchsorted(tokens, query_ids), len(tokens) - 1)
        found = query_ids[tokens[slots] == query_ids]
        return float(self._idf[found].sum()) / query_weight
