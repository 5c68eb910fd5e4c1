"""Questions asked in different words, grouped: the bot's normalisation (traditional →
simplified, dialect words mapped, filler and punctuation dropped), then leader clustering on
the Dice coefficient of character bigrams.

Leader clustering, not single-link: with single-link one in-between question (低保补助怎么申请)
would chain 低保怎么申请 and 残疾人补助怎么申请 into one group, and dismissing it would take both.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.tokens import clean

# Dice of the bigram sets at or above which two questions are one. Tested on villagers'
# phrasings (tests/unit/test_grouping.py): the same question in other words or characters
# scores 0.7–0.95 (残疾人补贴咋领 / 殘疾人補貼咋領取 / 残疾补贴怎么领); the same subject asked
# something else scores 0.45–0.55 (残疾人补贴怎么申请 / 残疾人补贴多少钱).
SIMILAR = 0.6


@dataclass(frozen=True)
class Group:
    """Indices into the texts given, ``members`` in the order given (newest first)."""

    representative: int
    members: tuple[int, ...]


def key(text: str) -> str:
    """The text as the bot understands it, without separators: equal keys are one question."""
    return clean(text).replace(" ", "")


def bigrams(text: str) -> frozenset[str]:
    """Character pairs of the text's key; a one-character key is its own single token."""
    return _pairs(key(text))


def _pairs(compacted: str) -> frozenset[str]:
    if len(compacted) < 2:
        return frozenset([compacted] if compacted else [])
    return frozenset(a + b for a, b in itertools.pairwise(compacted))


def similarity(first: frozenset[str], second: frozenset[str]) -> float:
    """Dice coefficient: twice the shared pairs over all pairs of both."""
    if not first or not second:
        return 0.0
    return 2 * len(first & second) / (len(first) + len(second))


def group_similar(texts: Sequence[str]) -> list[Group]:
    """Groups of the texts (given newest first), largest first, then newest first.

    Equal keys are counted first; the most asked key (the newest, between equals) leads a
    group, and every other key joins the most similar leader at or above SIMILAR, or leads a
    new group. The group's representative is the shortest (then newest) wording of its leading
    key: 残疾人补贴咋领 rather than 请问残疾人补贴咋领啊. The same texts in the same order always
    give the same groups.
    """
    keys = [key(text) for text in texts]
    by_key: dict[str, list[int]] = {}
    for index, text_key in enumerate(keys):
        by_key.setdefault(text_key or f"\0{index}", []).append(index)  # empty: alone
    ordered = sorted(by_key, key=lambda k: (-len(by_key[k]), by_key[k][0]))
    leaders: list[str] = []
    joined: dict[str, list[str]] = {}
    index_of: dict[str, list[int]] = {}  # bigram → leaders that have it
    shingles: list[frozenset[str]] = []
    for text_key in ordered:
        pairs = _pairs(keys[by_key[text_key][0]])
        leader = _best_leader(pairs, shingles, index_of)
        if leader is None:
            leader = len(leaders)
            leaders.append(text_key)
            shingles.append(pairs)
            for pair in pairs:
                index_of.setdefault(pair, []).append(leader)
        joined.setdefault(leaders[leader], []).append(text_key)
    groups = [
        Group(
            min(by_key[lead], key=lambda i: (len(texts[i]), i)),
            tuple(sorted(i for k in joined[lead] for i in by_key[k])),
        )
        for lead in leaders
    ]
    return sorted(groups, key=lambda group: (-len(group.members), group.members[0]))


def _best_leader(
    pairs: frozenset[str], shingles: list[frozenset[str]], index_of: dict[str, list[int]]
) -> int | None:
    """The leader most similar to these pairs, if similar enough (the first between equals)."""
    shared = Counter(leader for pair in pairs for leader in index_of.get(pair, ()))
    best, best_score = None, SIMILAR
    for leader, count in sorted(shared.items()):
        score = 2 * count / (len(pairs) + len(shingles[leader]))
        if score >= best_score and (best is None or score > best_score):
            best, best_score = leader, score
    return best
