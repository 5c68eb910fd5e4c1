"""A search result as the machine-readable answer of `huhuqing ask --json`."""

from __future__ import annotations

from typing import Any

from knowledge.search import Decision, SearchResult

INTENTS = {
    Decision.ANSWER: "question",
    Decision.UNSURE: "question",
    Decision.OTHER_REGION: "question",
    Decision.GRIEVANCE: "grievance",
    Decision.OUT_OF_SCOPE: "unknown",
    Decision.PARTICULAR: "unknown",
    Decision.EMPTY: "unknown",
}
SHOWN = (Decision.ANSWER, Decision.UNSURE, Decision.OTHER_REGION)


def other_region_answer(result: SearchResult) -> str:
    """What a user is told when only another region's document has a rule on the question."""
    assert result.best is not None
    entry = result.best.entry
    return (
        f"您所在地区的文件里没有这方面的规定。下面是{entry.region}的规定（{entry.effective}），"
        f"不一定适用于您，请向乡镇或帮扶干部核实：{entry.answer}"
    )


def as_json(result: SearchResult) -> dict[str, Any]:
    best = result.best if result.decision in SHOWN else None
    if result.decision is Decision.OTHER_REGION:
        answer = other_region_answer(result)
    else:
        answer = best.entry.answer if result.confident and best else ""
    return {
        "answer": answer,
        "confident": result.confident,
        "intent": INTENTS[result.decision],
        "entry_id": best.entry.id if best else None,
        "source": best.entry.source_line() if best else None,
        "region": best.entry.region if best else None,
        "effective": best.entry.effective if best else None,
        "score": round(result.best.coverage, 3) if result.best else 0.0,
        "alternatives": [
            {"entry_id": match.entry.id, "question": match.entry.questions[0],
             "region": match.entry.region}
            for match in result.suggestions
        ],
    }  # fmt: skip


def unsearched_as_json(intent: str) -> dict[str, Any]:
    """What the bot answers without the knowledge base: ``chatter`` (a greeting, thanks,
    "你是机器人吗": answered in kind) or ``household`` (about the asker's own household record:
    answered from the bound household, or how to bind)."""
    return {
        "answer": "", "confident": False, "intent": intent, "entry_id": None, "source": None,
        "region": None, "effective": None, "score": 0.0, "alternatives": [],
    }  # fmt: skip
