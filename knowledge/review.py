"""The editorial checks every bundled entry must pass: faithful to its seeds, dated, scoped, plain.

`python -m knowledge.review FILE...` prints each problem of the files' entries, one per line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from knowledge.entries import SEEDS_DIR, Entry, seed_date, seed_region
from knowledge.loader import KnowledgeFileError, load_files
from knowledge.normalize import compact, to_simplified
from knowledge.plain_words import unexplained_terms

# Numbers an answer may give though no seed has them: the national complaint hotline.
KNOWN_NUMBERS = {"12317"}
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A number with the unit that gives it its meaning: 5万 in an answer must read 5万 in the source.
NUMBER_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)(万元|万|元|年|天|类|个|%|次)")


# A bare yes or no at the start of an answer ("有。", "能。") reads as a yes to whatever was
# asked: only an entry whose every phrasing is that yes/no question may open with one.
BARE_YES_NO = re.compile(
    r"^(有|没有|能|不能|可以|不可以|会|不会|管|不管|是|不是|行|不行)[。，！,.!]"
)
YES_NO_QUESTION = re.compile(r"吗[？?]?$|么[？?]?$|(.)不\1|(.)没\2")


def cited_text(entry: Entry) -> str:
    """The text of every document the entry cites, with their dates."""
    texts = [(SEEDS_DIR / source.file).read_text(encoding="utf-8") for source in entry.sources]
    return "\n".join([*texts, *(seed_date(source.file) for source in entry.sources)])


def entry_problems(entry: Entry) -> list[str]:
    problems = []
    source = cited_text(entry)
    plain_source = to_simplified(source).replace(" ", "")
    numbers = set(NUMBER.findall(entry.answer)) - KNOWN_NUMBERS
    missing = sorted(n for n in numbers if n not in source)
    if missing:
        problems.append(f"numbers not in the cited seeds: {missing}")
    for match in NUMBER_WITH_UNIT.finditer(entry.answer):
        if match.group(0) not in plain_source:
            problems.append(f"{match.group(0)} is not in the cited seeds with that unit")
    for cited in entry.sources:
        text = (SEEDS_DIR / cited.file).read_text(encoding="utf-8")
        if cited.quote and compact(cited.quote) not in compact(text):
            problems.append(f"quote not found verbatim in {cited.file}")
    if entry.effective not in {seed_date(cited.file) for cited in entry.sources}:
        problems.append("effective is not the date of a cited seed")
    regions = {seed_region(cited.file) for cited in entry.sources}
    if entry.is_regional and entry.region not in regions:
        problems.append(f"region {entry.region} is not the region of a cited seed {regions}")
    if BARE_YES_NO.match(entry.answer) and not all(
        YES_NO_QUESTION.search(question) for question in entry.questions
    ):
        problems.append("opens with a bare yes/no, but not every phrasing asks yes or no")
    for text in (entry.answer, entry.details or ""):
        if terms := unexplained_terms(text):
            problems.append(f"explain or avoid: {terms}")
    return problems


def main(paths: list[str]) -> int:
    try:
        entries = load_files(Path(path) for path in paths)
    except KnowledgeFileError as error:
        print(error)
        return 1
    problems = [f"{e.id}: {problem}" for e in entries for problem in entry_problems(e)]
    print("\n".join(problems) or f"{len(entries)} entries, no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
