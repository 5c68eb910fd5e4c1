"""Questions the bot could not answer (or was unsure of) and answers marked 👎, as the admins
handle them. A reference names one row: "q12" an unanswered question, "f5" a 👎."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AnswerFeedback, Region, UnansweredQuestion, User, utcnow


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


UNHELPFUL = "unhelpful"  # the kind of an answer marked 👎 (the others are the bot's decisions)


@dataclass(frozen=True)
class OpenRow:
    """One row still on the admins' list, as plain data."""

    ref: str  # "q12" or "f5"
    text: str
    kind: str  # the bot's decision (unsure, out_of_scope, …) or UNHELPFUL
    at: datetime
    region_code: str | None
    entry_id: str | None  # the bot's best guess, or the entry whose answer got the 👎


def _in_area(region: ColumnElement[str | None], area_code: str | None) -> ColumnElement[bool]:
    """Everything for an admin without an area (rows without a region included); otherwise
    the rows whose region is the area or a region below it."""
    if area_code is None:
        return true()
    tree = select(Region.code).where(Region.code == area_code).cte("area_tree", recursive=True)
    tree = tree.union_all(select(Region.code).where(Region.parent_code == tree.c.code))
    return region.in_(select(tree.c.code))


def _open_questions(area_code: str | None) -> Select:
    return select(UnansweredQuestion).where(
        UnansweredQuestion.handled_at.is_(None),
        _in_area(UnansweredQuestion.region_code, area_code),
    )


def _open_feedback(area_code: str | None) -> Select:
    return (
        select(AnswerFeedback, User.region_code)
        .outerjoin(User, User.telegram_id == AnswerFeedback.user_id)
        .where(
            AnswerFeedback.helpful.is_(False),
            AnswerFeedback.handled_at.is_(None),
            _in_area(User.region_code, area_code),
        )
    )


def _question_row(question: UnansweredQuestion) -> OpenRow:
    return OpenRow(
        f"q{question.id}",
        question.text,
        question.decision,
        question.asked_at,
        question.region_code,
        question.best_entry_id,
    )


def _feedback_row(feedback: AnswerFeedback, region_code: str | None) -> OpenRow:
    return OpenRow(
        f"f{feedback.id}",
        feedback.question or "",
        UNHELPFUL,
        feedback.given_at,
        region_code,
        feedback.entry_id,
    )


def _newest_first(rows: list[OpenRow]) -> list[OpenRow]:
    return sorted(rows, key=lambda row: (row.at, row.ref), reverse=True)


async def open_rows(session: AsyncSession, area_code: str | None, limit: int) -> list[OpenRow]:
    """The ``limit`` most recent open rows of both kinds in the area, newest first."""
    questions = await session.scalars(
        _open_questions(area_code)
        .order_by(UnansweredQuestion.asked_at.desc(), UnansweredQuestion.id.desc())
        .limit(limit)
    )
    feedback = await session.execute(
        _open_feedback(area_code)
        .order_by(AnswerFeedback.given_at.desc(), AnswerFeedback.id.desc())
        .limit(limit)
    )
    rows = [_question_row(question) for question in questions]
    rows += [_feedback_row(answer, region) for answer, region in feedback]
    return _newest_first(rows)[:limit]


async def count_open(session: AsyncSession, area_code: str | None) -> int:
    """How many rows of both kinds are open in the area."""
    questions = await session.scalar(
        select(func.count()).select_from(_open_questions(area_code).subquery())
    )
    feedback = await session.scalar(
        select(func.count()).select_from(_open_feedback(area_code).subquery())
    )
    return (questions or 0) + (feedback or 0)


async def open_rows_among(
    session: AsyncSession, refs: list[str], area_code: str | None
) -> list[OpenRow]:
    """Those of these references that are open and in the area, newest first: what an admin of
    this area may handle (a forged, stale or foreign reference is dropped)."""
    questions, feedback = parse_refs(refs)
    rows = []
    if questions:
        query = _open_questions(area_code).where(UnansweredQuestion.id.in_(questions))
        rows += [_question_row(question) for question in await session.scalars(query)]
    if feedback:
        query = _open_feedback(area_code).where(AnswerFeedback.id.in_(feedback))
        rows += [_feedback_row(answer, region) for answer, region in await session.execute(query)]
    return _newest_first(rows)
