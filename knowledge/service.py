"""The knowledge base at run time: entries from the database, an index rebuilt on change."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.knowledge import ImportReport, KnowledgeRepo
from knowledge.entries import Entry
from knowledge.loader import bundled_files, check_record, load_files
from knowledge.review import entry_problems
from knowledge.search import KnowledgeIndex

log = logging.getLogger(__name__)

# How often an instance asks the database whether the KB changed (one tiny query).
REVISION_CHECK_SECONDS = 5.0
# Who wrote the versions that came with a release.
SEED_AUTHOR = "seed"


def entry_content(entry: Entry) -> dict:
    return entry.model_dump(mode="json", exclude_none=True)


async def import_entries(
    session: AsyncSession, entries: list[Entry], changed_by: str
) -> ImportReport:
    return await KnowledgeRepo(session).save([entry_content(e) for e in entries], changed_by)


def checked_entry(record: object) -> tuple[Entry | None, list[str]]:
    """An entry made in the console, checked as `kb import` checks a file's: the schema, then the
    editorial review. The entry (None if its fields are invalid) and every problem found."""
    entry = check_record(record)
    if isinstance(entry, list):
        return None, entry
    return entry, entry_problems(entry)


def index_with(entries: list[Entry], edited: Entry) -> KnowledgeIndex:
    """The index the bot would search if ``edited`` took the place of its entry (or joined the
    entries, if new): what a preview asks, before anything is saved."""
    substituted = [edited if entry.id == edited.id else entry for entry in entries]
    if edited not in substituted:
        substituted.append(edited)
    return KnowledgeIndex(substituted)


def _valid_entries(rows: list) -> list[Entry]:
    """The rows that are valid entries; one an older release stored in another form is left out
    (and named in the log) rather than stopping the bot."""
    entries = []
    for row in rows:
        try:
            entries.append(Entry.model_validate(row.content))
        except ValidationError:
            log.warning("knowledge entry %s is not valid in this release: left out", row.id)
    return entries


class KnowledgeBase:
    """Hands out the index of the current KB revision, rebuilding it when an admin changed the KB.

    Every instance of the bot keeps its own index and notices another instance's change within
    REVISION_CHECK_SECONDS.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        check_seconds: float = REVISION_CHECK_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.check_seconds = check_seconds
        self._index: KnowledgeIndex | None = None
        self._versions: dict[str, int] = {}
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def index(self) -> KnowledgeIndex:
        if self._index is not None and (
            time.monotonic() - self._checked_at < self.check_seconds or self._lock.locked()
        ):
            # Checked lately, or being checked: nobody waits for a connection to check it again.
            return self._index
        async with self._lock:
            async with self.sessionmaker() as session:
                repo = KnowledgeRepo(session)
                revision = await repo.revision()
                if self._index is None or revision != self._index.version:
                    rows = await repo.active_entries()
                    entries = _valid_entries(rows)
                    self._versions = {row.id: row.version for row in rows}
                    started = time.perf_counter()
                    self._index = KnowledgeIndex(entries, version=revision)
                    log.info(
                        "knowledge index: revision %d, %d entries, built in %.0f ms",
                        revision, len(entries), (time.perf_counter() - started) * 1000,
                    )  # fmt: skip
            self._checked_at = time.monotonic()
        return self._index

    def version_of(self, entry_id: str) -> int:
        return self._versions.get(entry_id, 0)

    async def seed(self) -> ImportReport | None:
        """Give the database the bundled entries of this release, unless an administrator has
        ever changed the knowledge base (then theirs stands; `kb import` brings the bundled ones).

        A new database can answer from its first start, and one seeded by an earlier release
        gets this release's answers; entries this release no longer has are retired.
        """
        async with self.sessionmaker() as session:
            repo = KnowledgeRepo(session)
            if not await repo.only_written_by(SEED_AUTHOR):
                return None
            bundled = load_files(bundled_files())
            stored = {row.id: row.content for row in await repo.active_entries()}
            if stored == {entry.id: entry_content(entry) for entry in bundled}:
                return ImportReport(unchanged=len(bundled))  # the usual start: one query
            try:
                report = await import_entries(session, bundled, SEED_AUTHOR)
            except IntegrityError:
                # Another instance, started at the same moment, seeded them first.
                await session.rollback()
                log.info("bundled knowledge base: written by another instance")
                return None
            kept = {entry.id for entry in bundled}
            await repo.retire([row.id for row in await repo.active_entries() if row.id not in kept])
        if report.added or report.changed:
            log.info(
                "bundled knowledge base: %d entries added, %d updated",
                len(report.added), len(report.changed),
            )  # fmt: skip
        return report


def export_entries(entries: list[Entry], directory: Path) -> list[Path]:
    """Write the entries as YAML, one file per topic, in the format `kb import` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    by_topic: dict[str, list[dict]] = {}
    for entry in entries:
        by_topic.setdefault(entry.topic, []).append(entry_content(entry))
    written = []
    for topic, contents in sorted(by_topic.items()):
        path = directory / f"{topic}.yaml"
        path.write_text(
            yaml.safe_dump(contents, allow_unicode=True, sort_keys=False, width=100),
            encoding="utf-8",
        )
        written.append(path)
    return written
