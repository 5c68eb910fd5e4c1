"""Knowledge-base rows: current entries, their versions, the revision counter, and what users
could not get answered. Entries are plain dicts here; knowledge/ gives them their meaning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
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


class EntryChanged(Exception):
    """Someone saved the entry (or made one with that id) since the editor opened it."""


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

    async def entry(self, entry_id: str) -> KnowledgeEntry | None:
        return await self.session.get(KnowledgeEntry, entry_id)

    async def all_entries(self) -> list[KnowledgeEntry]:
        """Active and retired, by id."""
        return list(
            (await self.session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id))).all()
        )

    async def version(self, entry_id: str, version: int) -> KnowledgeEntryVersion | None:
        return await self.session.get(KnowledgeEntryVersion, (entry_id, version))

    async def save(
        self, contents: list[dict[str, Any]], changed_by: str, reason: str | None = None
    ) -> ImportReport:
        """Add new entries and a new version of each changed one, in one transaction.

        The revision counter moves only when something changed, so instances rebuild only then.
        """
        report = await self.stage(contents, changed_by, reason)
        await self.session.commit()
        return report

    async def stage(
        self, contents: list[dict[str, Any]], changed_by: str, reason: str | None = None
    ) -> ImportReport:
        """What `save` does, left to the caller to commit with the rest of its change."""
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
                    reason=reason,
                )
            )
        if report.added or report.changed:
            await self._bump_revision()
        return report

    async def save_one(
        self,
        content: dict[str, Any],
        changed_by: str,
        reason: str,
        expected_version: int | None,
    ) -> int:
        """A new version of one entry (a new entry when ``expected_version`` is None), unless
        someone saved another since ``expected_version``: then EntryChanged, and the caller
        rolls back. Not committed (it goes with the audit row of the change); returns the new
        version. The version test is in the UPDATE itself, so of two saves at once one wins."""
        now = utcnow()
        if expected_version is None:
            self.session.add(
                KnowledgeEntry(
                    id=content["id"], version=1, topic=content["topic"],
                    region=content["region"], content=content, active=True, updated_at=now,
                )
            )  # fmt: skip
            try:
                await self.session.flush()
            except IntegrityError:
                raise EntryChanged(content["id"]) from None
            version = 1
        else:
            version = expected_version + 1
            updated = await self.session.execute(
                update(KnowledgeEntry)
                .where(KnowledgeEntry.id == content["id"])
                .where(KnowledgeEntry.version == expected_version)
                .values(
                    version=version, topic=content["topic"], region=content["region"],
                    content=content, updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            if updated.rowcount != 1:  # type: ignore[attr-defined]
                raise EntryChanged(content["id"])
        self.session.add(
            KnowledgeEntryVersion(
                entry_id=content["id"], version=version, content=content,
                changed_by=changed_by, changed_at=now, reason=reason,
            )
        )  # fmt: skip
        await self._bump_revision()
        return version

    async def set_active(self, entry_id: str, active: bool) -> bool:
        """Retire an entry (the bot stops answering with it) or bring it back; not committed.
        False if it was so already."""
        changed = await self.session.execute(
            update(KnowledgeEntry)
            .where(KnowledgeEntry.id == entry_id, KnowledgeEntry.active != active)
            .values(active=active, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self._bump_revision()
        return True

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
