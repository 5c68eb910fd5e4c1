"""The editorial checks every bundled entry must pass: faithful to its seeds, dated, scoped, plain.

`python -m knowledge.review FILE...` prints each problem of the files' entries, one per line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import cache
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

# Numbers are looked for in the clause an entry cites, not anywhere in its document (issue 12).
# A reference's own numbering ("八、", "(二)", "24.", "第7段", "问:") is not in its paragraph.
CLAUSE_NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+、)?(?:[(（][一二三四五六七八九十]+[)）])?(?:\d+[.、])?"
    r"(?:第\d+段\s*)?(?:[问問][:：])?"
)
HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]|\d+[.、])")
MIN_CLAUSE_TITLE = 4  # fewer characters name no paragraph for sure
SHORT_HEADING = 40  # a paragraph this short is a heading: its clause's text follows it
PERIOD_YEARS = {"十三五": "2016年 2020年"}


def cited_text(entry: Entry) -> str:
    """The text of every clause the entry cites, with its document's date."""
    clauses = [clause_text(source.file, source.clause) for source in entry.sources]
    dates = [seed_date(source.file) for source in entry.sources]
    return "\n".join([*clauses, *dates, *(f"{date[:4]}年" for date in dates)])


@cache
def clause_text(file_name: str, clause: str) -> str:
    """The paragraphs of a seed that a clause reference names ("八、24.强化扶贫资金投入",
    "第7段 着力…", "二、(一)目标任务；二、(二)3.…"), found by their titles; the whole document
    when a part of the reference names no paragraph (a bare number, "开头")."""
    paragraphs = [line.strip() for line in _seed(file_name).splitlines() if line.strip()]
    found: list[int] = []
    for part in re.split(r"[；;]", clause):
        title = _clause_title(part)
        hits = [i for i, text in enumerate(paragraphs) if title and title in compact(text)]
        if not hits:
            return "\n".join(paragraphs)
        for first in hits:
            found.extend(_clause_span(paragraphs, first))
    text = "\n".join(paragraphs[i] for i in sorted(set(found)))
    # A period the clause names stands for its years: "十三五" is 2016 to 2020.
    return text + "".join(f"\n{years}" for name, years in PERIOD_YEARS.items() if name in text)


def _clause_title(part: str) -> str | None:
    """The words of a clause reference that its paragraph contains; None if too few to tell."""
    title = CLAUSE_NUMBERING.sub("", part.strip())
    title = compact(re.split(r"[(（]", title)[0])
    title = re.sub(r"第[一二三四五六七八九十]+$", "", title)
    return title if len(title) >= MIN_CLAUSE_TITLE else None


def _clause_span(paragraphs: list[str], first: int) -> list[int]:
    """A numbered heading's paragraph and those below it, up to the next numbered heading."""
    span = [first]
    if HEADING.match(paragraphs[first]) or len(paragraphs[first]) < SHORT_HEADING:
        following = first + 1
        while following < len(paragraphs) and not HEADING.match(paragraphs[following]):
            span.append(following)
            following += 1
    return span


@cache
def _seed(file_name: str) -> str:
    return to_simplified((SEEDS_DIR / file_name).read_text(encoding="utf-8"))


def N_(message: str) -> str:
    """Marks an English message for the catalogs; it is translated where it is shown."""
    return message


class Problem(str):
    """A problem as `kb import` prints it, in English, which keeps its message and values so
    that the web console can show it in the reader's language."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Problem:
        problem = super().__new__(cls, template.format(**values))
        problem.template, problem.values = template, values
        return problem


def entry_problems(entry: Entry) -> list[str]:
    problems: list[str] = []
    source = cited_text(entry)
    plain_source = source.replace(" ", "")
    numbers = set(NUMBER.findall(entry.answer)) - KNOWN_NUMBERS
    missing = sorted(n for n in numbers if n not in source)
    if missing:
        problems.append(Problem(N_("numbers not in the cited clauses: {numbers}"), numbers=missing))
    for match in NUMBER_WITH_UNIT.finditer(entry.answer):
        if match.group(0) not in plain_source:
            problems.append(
                Problem(N_("{number} is not in the cited clauses with that unit"), number=match[0])
            )
    for cited in entry.sources:
        if cited.quote and compact(cited.quote) not in compact(_seed(cited.file)):
            problems.append(Problem(N_("quote not found verbatim in {file}"), file=cited.file))
    if entry.effective not in {seed_date(cited.file) for cited in entry.sources}:
        problems.append(Problem(N_("effective is not the date of a cited seed")))
    regions = {seed_region(cited.file) for cited in entry.sources}
    if entry.is_regional and entry.region not in regions:
        problems.append(
            Problem(
                N_("region {region} is not the region of a cited seed {regions}"),
                region=entry.region,
                regions=regions,
            )
        )
    if BARE_YES_NO.match(entry.answer) and not all(
        YES_NO_QUESTION.search(question) for question in entry.questions
    ):
        problems.append(
            Problem(N_("opens with a bare yes/no, but not every phrasing asks yes or no"))
        )
    for text in (entry.answer, entry.details or ""):
        if terms := unexplained_terms(text):
            problems.append(Problem(N_("explain or avoid: {terms}"), terms=terms))
    return problems


def review_problems(entries: Iterable[Entry]) -> list[str]:
    """Every problem of these entries, one line each, named by the entry's id."""
    return [
        Problem("{id}: {problem}", id=entry.id, problem=problem)
        for entry in entries
        for problem in entry_problems(entry)
    ]


def main(paths: list[str]) -> int:
    try:
        entries = load_files(Path(path) for path in paths)
    except KnowledgeFileError as error:
        print(error)
        return 1
    problems = review_problems(entries)
    print("\n".join(problems) or f"{len(entries)} entries, no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
