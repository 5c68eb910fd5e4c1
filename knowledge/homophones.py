"""Typos by sound: pinyin keyboards offer every character of a syllable, and villagers pick the
wrong one (拖贫 for 脱贫, 光服 for 光伏, 书计 for 书记). A pair of characters the knowledge base
never uses is replaced by the pair it does use that sounds the same (tones ignored)."""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

_HAN_PAIR = re.compile(r"^[\u4e00-\u9fff]{2}$")


@cache
def _readings() -> dict[int, str]:
    """pypinyin's table of each character's readings ("pín,bīn").

    Loaded from its own module file: importing the package also loads its phrase dictionary
    (+55 MB, +0.35 s at every start), which a character's sound does not need.
    """
    package = importlib.util.find_spec("pypinyin")
    if package is None or package.origin is None:
        raise ModuleNotFoundError("pypinyin")
    path = Path(package.origin).with_name("pinyin_dict.py")
    spec = importlib.util.spec_from_file_location("pypinyin_readings", path)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pinyin_dict


@cache
def _syllable(char: str) -> str:
    """The first reading of the character, tones dropped (pín → pin); itself if it has none."""
    reading = _readings().get(ord(char))
    if not reading:
        return char
    marked = unicodedata.normalize("NFKD", reading.split(",")[0])
    return "".join(letter for letter in marked if not unicodedata.combining(letter))


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
