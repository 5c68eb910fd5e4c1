"""A search result as the machine-readable answer of `huhuqing ask --json`."""

from __future__ import annotations

from typing import Any

from knowledge.search import Decision, SearchResult

INTENTS = {
    Decision.ANSWER: "question",
    Decision.UNSURE: "question",
    Decision.GRIEVANCE: "grievance",
    Decision.OUT_OF_SCOPE: "unknown",
    Decision.EMPTY: "unknown",
}


def as_json(result: SearchResult) -> dict[str, Any]:
    best = result.best if result.decision in (Decision.ANSWER, Decision.UNSURE) else None
    return {
        "answer": result.best.entry.answer if result.confident and result.best else "",
        "confident": result.confident,
        "intent": INTENTS[result.decision],
        "entry_id": best.entry.id if best else None,
        "source": best.entry.source_line() if best else None,
        "score": round(result.best.coverage, 3) if result.best else 0.0,
        "alternatives": [
            {"entry_id": match.entry.id, "question": match.entry.questions[0]}
            for match in result.suggestions
        ],
    }
