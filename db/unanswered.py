"""Questions the bot could not answer (or was unsure of) and answers marked 👎, as the admins
handle them. A reference names one row: "q12" an unanswered question, "f5" a 👎."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AnswerFeedback, UnansweredQuestion, utcnow


class HandledHow:
    PHRASING = "phrasing"  # added as a phrasing of an entry
    NEW_ENTRY = "new_entry"  # a new entry was made from it
    DISMISSED = "dismissed"


def parse_refs(refs: list[str]) -> tuple[list[int], list[int]]:
    """The unanswered-question ids and the feedback ids of references like "q12", "f5";
    anything else is ignored."""
    questions, feedback = [], []
    for ref in refs:
        kind, number = ref[:1], ref[1:]
        if number.isdecimal() and kind in ("q", "f"):
            (questions if kind == "q" else feedback).append(int(number))
    return questions, feedback


async def mark_handled(session: AsyncSession, refs: list[str], how: str) -> int:
    """Take these rows off the admins' list; not committed (it goes with the change that
    handled them). Returns how many were still open."""
    questions, feedback = parse_refs(refs)
    now, handled = utcnow(), 0
    if questions:
        result = await session.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.id.in_(questions), UnansweredQuestion.handled_at.is_(None))
            .values(handled_at=now, handled_how=how)
        )
        handled += result.rowcount  # type: ignore[attr-defined]
    if feedback:
        result = await session.execute(
            update(AnswerFeedback)
            .where(AnswerFeedback.id.in_(feedback), AnswerFeedback.handled_at.is_(None))
            .values(handled_at=now, handled_how=how)
        )
        handled += result.rowcount  # type: ignore[attr-defined]
    return handled
