"""The reviewed map of how villagers write (knowledge/lexicon.yaml), loaded once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.yaml"


@dataclass(frozen=True)
class Lexicon:
    replacements: dict[str, str]  # dialect word, typo or synonym → the policy texts' word
    fillers: tuple[str, ...]
    out_of_scope: tuple[str, ...]


class LexiconError(ValueError):
    """A word is mapped twice, to different words."""


def parse(data: dict) -> Lexicon:
    replacements: dict[str, str] = {}

    def add(variant: str, word: str) -> None:
        variant, word = str(variant), str(word)
        if replacements.setdefault(variant, word) != word:
            raise LexiconError(f"{variant} maps to both {replacements[variant]} and {word}")

    for words in data["dialect"].values():
        for variant, word in words.items():
            add(variant, word)
    for variant, word in data["typos"].items():
        add(variant, word)
    for word, variants in data["synonyms"].items():
        for variant in variants:
            add(variant, word)
    # A target word is kept whole, so that 医疗费 never eats into 医疗费用.
    for word in set(replacements.values()):
        replacements.setdefault(word, word)
    return Lexicon(
        _settled(replacements),
        tuple(map(str, data["fillers"])),
        tuple(map(str, data["out_of_scope"])),
    )


def replacer(replacements: dict[str, str]) -> re.Pattern[str]:
    """One pattern for every word, longest first, so that 咋个 wins over 咋."""
    return re.compile("|".join(sorted(map(re.escape, replacements), key=len, reverse=True)))


def _settled(replacements: dict[str, str]) -> dict[str, str]:
    """Map each word straight to its final form (不贴 → 补贴 → 补助 becomes 不贴 → 补助)."""
    pattern = replacer(replacements)
    settled = {}
    for variant, word in replacements.items():
        for _ in range(5):
            changed = pattern.sub(lambda match: replacements[match.group()], word)
            if changed == word:
                break
            word = changed
        settled[variant] = word
    return settled


@cache
def lexicon() -> Lexicon:
    return parse(yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8")))
