"""How well the knowledge base answers questions it was not built from.

Leave-one-out: each phrasing of each entry is held out in turn (fold k removes the k-th phrasing
of every entry), the index is built from the rest, and the held-out phrasing is asked. Questions
outside the knowledge base (bench/data/out_of_scope.txt) must not get a confident answer. Prints
the share of right, wrong and missing answers at the thresholds in knowledge/search.py, and a
sweep of the confidence threshold. Run: `.venv/bin/python -m bench.kb_quality`.
"""

from __future__ import annotations

from pathlib import Path

from knowledge import search
from knowledge.loader import bundled_files, load_files
from knowledge.search import KnowledgeIndex

NEGATIVES = Path(__file__).with_name("data") / "out_of_scope.txt"
REGIONS = ("长春市", "云南省", "巴彦淖尔市")


def held_out_cases():
    entries = load_files(bundled_files())
    folds = max(len(entry.questions) for entry in entries)
    for fold in range(folds):
        kept = []
        asked = []
        for entry in entries:
            if len(entry.questions) > 3 and fold < len(entry.questions):
                questions = entry.questions[:fold] + entry.questions[fold + 1 :]
                kept.append(entry.model_copy(update={"questions": questions}))
                asked.append((entry.questions[fold], entry))
            else:
                kept.append(entry)
        index = KnowledgeIndex(kept)
        for number, (question, entry) in enumerate(asked):
            # Asked as the bot asks it: by a villager whose region is known.
            names = [entry.region] if entry.is_regional else [REGIONS[number % len(REGIONS)]]
            yield question, entry.id, index.search(question, names)


def main() -> None:
    positives = [(q, expected, result) for q, expected, result in held_out_cases()]
    index = KnowledgeIndex(load_files(bundled_files()))
    lines = NEGATIVES.read_text(encoding="utf-8").splitlines()
    negatives = [index.search(line) for line in lines if line and not line.startswith("#")]

    def rates(threshold: float) -> tuple[float, float, float]:
        right = sum(
            1 for _, expected, r in positives
            if r.best and r.best.coverage >= threshold and r.best.entry.id == expected
        )  # fmt: skip
        wrong = sum(
            1 for _, expected, r in positives
            if r.best and r.best.coverage >= threshold and r.best.entry.id != expected
        )  # fmt: skip
        false = sum(1 for r in negatives if r.best and r.best.coverage >= threshold)
        return right / len(positives), wrong / len(positives), false / len(negatives)

    top1 = sum(1 for _, expected, r in positives if r.best and r.best.entry.id == expected)
    top3 = sum(
        1 for _, expected, r in positives
        if r.best and expected in {r.best.entry.id, *(m.entry.id for m in r.suggestions)}
    )  # fmt: skip
    print(f"held-out phrasings: {len(positives)}, out-of-scope questions: {len(negatives)}")
    print(f"top-1 {top1 / len(positives):.1%}, top-1 or suggested {top3 / len(positives):.1%}")
    print("coverage alone as the threshold → confident&right, confident&wrong, out-of-scope")
    for threshold in (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
        right, wrong, false = rates(threshold)
        print(f"  {threshold:.2f}: {right:6.1%} {wrong:6.1%} {false:6.1%}")
    right = sum(1 for _, expected, r in positives if r.confident and r.best.entry.id == expected)
    wrong = sum(1 for _, expected, r in positives if r.confident and r.best.entry.id != expected)
    false = sum(1 for r in negatives if r.confident)
    suggested = sum(1 for r in negatives if r.decision is search.Decision.UNSURE)
    print(
        f"the decision as shipped (coverage ≥ {search.CONFIDENT_COVERAGE} and margin ≥ "
        f"{search.CLEAR_MARGIN}, or coverage ≥ {search.CERTAIN_COVERAGE}): confident&right "
        f"{right / len(positives):.1%}, confident&wrong {wrong / len(positives):.1%}, "
        f"out-of-scope answered {false / len(negatives):.1%}, "
        f"out-of-scope given suggestions {suggested / len(negatives):.1%}"
    )


if __name__ == "__main__":
    main()
