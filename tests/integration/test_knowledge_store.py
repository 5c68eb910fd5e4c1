"""The knowledge base lives in the database: versions, and every instance notices a change."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from db.knowledge import KnowledgeRepo
from db.models import KnowledgeEntryVersion
from db.session import Database
from knowledge.loader import bundled_files, load_files
from knowledge.service import KnowledgeBase, export_entries, import_entries


async def test_a_change_made_elsewhere_is_picked_up_by_every_instance(database: Database) -> None:
    first, second = (KnowledgeBase(database.sessionmaker, check_seconds=0) for _ in range(2))
    await first.seed_if_empty()
    before = (await second.index()).search("小额信贷能贷多少钱")
    assert "5万元" in before.best.entry.answer

    entry = (await first.index()).get("microcredit.amount")
    edited = entry.model_copy(update={"answer": "新版：额度5万元以下，以当地通知为准。"})
    async with database.sessionmaker() as session:
        report = await import_entries(session, [edited], "admin 1")
    assert report.changed == ["microcredit.amount"]

    for instance in (first, second):
        answer = (await instance.index()).search("小额信贷能贷多少钱").best.entry.answer
        assert answer.startswith("新版")
    assert second.version_of("microcredit.amount") == 2


async def test_every_version_is_kept_with_who_changed_it(database: Database) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed_if_empty()
    entry = (await knowledge.index()).get("microcredit.term")
    async with database.sessionmaker() as session:
        await import_entries(session, [entry.model_copy(update={"answer": "改了。"})], "admin 7")
        await import_entries(session, [entry.model_copy(update={"answer": "改了。"})], "admin 8")
        versions = await KnowledgeRepo(session).versions("microcredit.term")
    assert [(v.version, v.changed_by) for v in versions] == [(1, "seed"), (2, "admin 7")]
    assert versions[0].content["answer"] == entry.answer


async def test_seeding_happens_once(database: Database) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    assert await knowledge.seed_if_empty() is not None
    assert await knowledge.seed_if_empty() is None
    async with database.sessionmaker() as session:
        count = len((await session.scalars(select(KnowledgeEntryVersion))).all())
    assert count == len(load_files(bundled_files()))


async def test_export_then_import_changes_nothing(database: Database, tmp_path: Path) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed_if_empty()
    entries = (await knowledge.index()).entries
    files = export_entries(entries, tmp_path)
    assert {path.stem for path in files} == {entry.topic for entry in entries}
    async with database.sessionmaker() as session:
        report = await import_entries(session, load_files(files), "re-import")
    assert (report.added, report.changed, report.unchanged) == ([], [], len(entries))
