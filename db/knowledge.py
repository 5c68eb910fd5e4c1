"""Knowledge-base rows: current entries, their versions, the revision counter, and what users
could not get answered. Entries are plain dicts here; knowledge/ gives them their meaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AnswerFeedback,
    KnowledgeEntry,
    KnowledgeEntryVersion,
    KnowledgeRevision,
    UnansweredQuestion,
    User,
    utcnow,
)

MAX_STORED_TEXT = 500


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0


class KnowledgeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def revision(self) -> int:
        return await self.session.scalar(select(KnowledgeRevision.revision)) or 0

    async def active_entries(self) -> list[KnowledgeEntry]:
        query = select(KnowledgeEntry).where(KnowledgeEntry.active).order_by(KnowledgeEntry.id)
        return list((await self.session.scalars(query)).all())

    async def versions(self, entry_id: str) -> list[KnowledgeEntryVersion]:
        query = (
            select(KnowledgeEntryVersion)
            .where(KnowledgeEntryVersion.entry_id == entry_id)
            .order_by(KnowledgeEntryVersion.version)
        )
        return list((await self.session.scalars(query)).all())

    async def save(self, contents: list[dict[str, Any]], changed_by: str) -> ImportReport:
        """Add new entries and a new version of each changed one, in one transaction.

        The revision counter moves only when something changed, so instances rebuild only then.
        """
        report = ImportReport()
        now = utcnow()
        for content in contents:
            entry = await self.session.get(KnowledgeEntry, content["id"])
            if entry is not None and entry.content == content and entry.active:
                report.unchanged += 1
                continue
            if entry is None:
                entry = KnowledgeEntry(id=content["id"], version=0)
                self.session.add(entry)
                report.added.append(content["id"])
            else:
                report.changed.append(content["id"])
            entry.version += 1
            entry.topic = content["topic"]
            entry.region = content.get("region", "all")
            entry.content = content
            entry.active = True
            entry.updated_at = now
            self.session.add(
                KnowledgeEntryVersion(
                    entry_id=entry.id,
                    version=entry.version,
                    content=content,
                    changed_by=changed_by,
                    changed_at=now,
                )
            )
        if report.added or report.changed:
            await self._bump_revision()
        await self.session.commit()
        return report

    async def only_written_by(self, author: str) -> bool:
        """No version of any entry was written by anyone else (an administrator, an import)."""
        query = select(KnowledgeEntryVersion.entry_id).where(
            KnowledgeEntryVersion.changed_by != author
        )
        return await self.session.scalar(query.limit(1)) is None

    async def retire(self, entry_ids: list[str]) -> None:
        """Stop answering with these entries (their versions are kept)."""
        if not entry_ids:
            return
        await self.session.execute(
            update(KnowledgeEntry)
            .where(KnowledgeEntry.id.in_(entry_ids))
            .values(active=False, updated_at=utcnow())
        )
        await self._bump_revision()
        await self.session.commit()

    async def _bump_revision(self) -> None:
        bumped = await self.session.execute(
            update(KnowledgeRevision).values(
                revision=KnowledgeRevision.revision + 1, changed_at=utcnow()
            )
        )
        if bumped.rowcount == 0:  # type: ignore[attr-defined]
            self.session.add(KnowledgeRevision(id=1, revision=1))

    async def record_unanswered(
        self,
        text: str,
        decision: str,
        best_entry_id: str | None,
        region_code: str | None,
        locale: str | None,
    ) -> None:
        self.session.add(
            UnansweredQuestion(
                text=text[:MAX_STORED_TEXT],
                decision=decision,
                best_entry_id=best_entry_id,
                region_code=region_code,
                locale=locale,
            )
        )
        await self.session.commit()

    async def record_feedback(
        self,
        entry_id: str,
        entry_version: int,
        helpful: bool,
        user_id: int | None,
        question: str | None,
    ) -> None:
        self.session.add(
            AnswerFeedback(
                entry_id=entry_id,
                entry_version=entry_version,
                helpful=helpful,
                user_id=user_id,
                question=question[:MAX_STORED_TEXT] if question else None,
            )
        )
        await self.session.commit()

    async def unanswered(self, limit: int = 50) -> list[UnansweredQuestion]:
        query = select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def unhelpful(self, limit: int = 50) -> list[tuple[AnswerFeedback, str | None]]:
        """Recent 👎, newest first, with the region of the user who gave it."""
        query = (
            select(AnswerFeedback, User.region_code)
            .outerjoin(User, User.telegram_id == AnswerFeedback.user_id)
            .where(AnswerFeedback.helpful.is_(False))
            .order_by(AnswerFeedback.id.desc())
            .limit(limit)
        )
        return [(feedback, region) for feedback, region in (await self.session.execute(query))]
