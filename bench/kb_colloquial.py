"""How the bot does on questions typed the way villagers type (tests/eval/colloquial.jsonl).

The set was written from the seed documents alone, by someone who never saw the knowledge base,
in Northeastern, Southwestern and Inner Mongolian registers with pinyin typos and traditional
characters; it also holds out-of-scope traps, cross-region questions and complaints told as
stories. Each case is judged as `tests/eval/score.py` judges it. Prints the rates and every miss.
Run: `.venv/bin/python -m bench.kb_colloquial [--misses]`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.answers import as_json
from knowledge.loader import bundled_files, load_files
from knowledge.search import KnowledgeIndex

EVAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "eval"
COLLOQUIAL = EVAL_DIR / "colloquial.jsonl"


def _scorer_check():
    spec = importlib.util.spec_from_file_location("eval_score", EVAL_DIR / "score.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(EVAL_DIR / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


@dataclass
class Report:
    answerable: int = 0
    confident_right: int = 0
    confident_wrong: int = 0  # a confident answer that misses a fact, or to a case not answerable
    others_right: int = 0  # out-of-scope left unanswered, complaints recognised
    total: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def right_rate(self) -> float:
        return self.confident_right / self.answerable

    @property
    def wrong_rate(self) -> float:
        return self.confident_wrong / self.total

    @property
    def score(self) -> float:
        return (self.confident_right + self.others_right) / self.total


def evaluate(index: KnowledgeIndex, cases: list[dict]) -> Report:
    check = _scorer_check()
    report = Report()
    for case in cases:
        region = case.get("region")
        out = as_json(index.search(case["q"], [region] if region else None))
        ok, why = check(case, out)
        report.total += 1
        if case["expect"] == "answer":
            report.answerable += 1
            report.confident_right += ok
        else:
            report.others_right += ok
        if out["confident"] and not ok:
            report.confident_wrong += 1
        if not ok:
            report.misses.append(
                f"[{case['expect']}] {region or '-'} {case['q']} → {out['entry_id']} ({why})"
            )
    return report


def load_cases(path: Path = COLLOQUIAL) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    report = evaluate(KnowledgeIndex(load_files(bundled_files())), load_cases())
    print(
        f"{report.total} cases, {report.answerable} answerable: confident&right "
        f"{report.right_rate:.1%}, confident&wrong {report.wrong_rate:.1%} of all, "
        f"score as score.py counts it {report.score:.1%}"
    )
    if "--misses" in sys.argv:
        print("\n".join(report.misses))


if __name__ == "__main__":
    main()
