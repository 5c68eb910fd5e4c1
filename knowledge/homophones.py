"""Typos by sound: pinyin keyboards offer every character of a syllable, and villagers pick the
wrong one (拖贫 for 脱贫, 光服 for 光伏, 书计 for 书记). A pair of characters the knowledge base
never uses is replaced by the pair it does use that sounds the same (tones ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache

from pypinyin import Style, lazy_pinyin

_HAN_PAIR = re.compile(r"^[\u4e00-\u9fff]{2}$")


@cache
def _syllable(char: str) -> str:
    return lazy_pinyin(char, style=Style.NORMAL)[0]


def sound_of(word: str) -> str:
    return " ".join(_syllable(char) for char in word)


class SoundAlikes:
    """The knowledge base's two-character words by sound, the most widely used one per sound."""

    def __init__(self, words_by_frequency: Mapping[str, int] | Iterable[tuple[str, int]]) -> None:
        pairs = (
            words_by_frequency.items()
            if isinstance(words_by_frequency, Mapping)
            else words_by_frequency
        )
        self._known: set[str] = set()
        self._by_sound: dict[str, str] = {}
        for word, _ in sorted(pairs, key=lambda pair: -pair[1]):
            if _HAN_PAIR.match(word):
                self._known.add(word)
                self._by_sound.setdefault(sound_of(word), word)

    def correct(self, tokens: list[str]) -> list[str]:
        """Each unknown character pair replaced by the known pair that sounds the same."""
        return [
            self._by_sound.get(sound_of(token), token)
            if _HAN_PAIR.match(token) and token not in self._known
            else token
            for token in tokens
        ]
