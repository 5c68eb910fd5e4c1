"""The knowledge base lives in the database: versions, and every instance notices a change."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from db import migrate
from db.knowledge import KnowledgeRepo
from db.models import KnowledgeEntryVersion
from db.session import Database, open_database
from knowledge.loader import bundled_files, load_files
from knowledge.service import KnowledgeBase, export_entries, import_entries


async def test_a_change_made_elsewhere_is_picked_up_by_every_instance(database: Database) -> None:
    first, second = (KnowledgeBase(database.sessionmaker, check_seconds=0) for _ in range(2))
    await first.seed()
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
    await knowledge.seed()
    entry = (await knowledge.index()).get("microcredit.term")
    async with database.sessionmaker() as session:
        await import_entries(session, [entry.model_copy(update={"answer": "改了。"})], "admin 7")
        await import_entries(session, [entry.model_copy(update={"answer": "改了。"})], "admin 8")
        versions = await KnowledgeRepo(session).versions("microcredit.term")
    assert [(v.version, v.changed_by) for v in versions] == [(1, "seed"), (2, "admin 7")]
    assert versions[0].content["answer"] == entry.answer


async def test_seeding_again_changes_nothing(database: Database) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    first = await knowledge.seed()
    assert first is not None
    assert len(first.added) == len(load_files(bundled_files()))
    again = await knowledge.seed()
    assert again is not None
    assert (again.added, again.changed) == ([], [])
    async with database.sessionmaker() as session:
        count = len((await session.scalars(select(KnowledgeEntryVersion))).all())
    assert count == len(load_files(bundled_files()))


async def test_a_database_seeded_by_an_earlier_release_gets_this_releases_answers(
    database: Database,
) -> None:
    """Old-form rows (no date, no region) are updated; an entry this release dropped retires."""
    old_form = {
        "id": "microcredit.term",
        "topic": "microcredit",
        "questions": ["a", "b", "c"],
        "answer": "旧的回答。",
        "source": {"file": "002_4a97d43123b46257.txt", "clause": "x"},
    }
    dropped = {**old_form, "id": "microcredit.dropped_in_this_release"}
    async with database.sessionmaker() as session:
        await KnowledgeRepo(session).save([old_form, dropped], "seed")
    knowledge = KnowledgeBase(database.sessionmaker, check_seconds=0)
    assert [e.id for e in (await knowledge.index()).entries] == []  # not valid here: left out
    report = await knowledge.seed()
    assert report is not None
    assert "microcredit.term" in report.changed
    index = await knowledge.index()
    assert index.get("microcredit.term").answer != "旧的回答。"
    assert index.get("microcredit.dropped_in_this_release") is None
    assert index.search("贷款最长能贷几年").confident


async def test_an_administrators_knowledge_base_is_left_alone(database: Database) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed()
    entry = load_files(bundled_files())[0]
    async with database.sessionmaker() as session:
        await import_entries(session, [entry.model_copy(update={"answer": "县里改过。"})], "admin")
    assert await knowledge.seed() is None
    assert (await knowledge.index()).get(entry.id).answer == "县里改过。"


async def test_export_then_import_changes_nothing(database: Database, tmp_path: Path) -> None:
    knowledge = KnowledgeBase(database.sessionmaker)
    await knowledge.seed()
    entries = (await knowledge.index()).entries
    files = export_entries(entries, tmp_path)
    assert {path.stem for path in files} == {entry.topic for entry in entries}
    async with database.sessionmaker() as session:
        report = await import_entries(session, load_files(files), "re-import")
    assert (report.added, report.changed, report.unchanged) == ([], [], len(entries))


async def test_two_instances_started_at_once_on_a_new_database_both_start(
    database_url: str,
) -> None:
    """compose starts both bots together: one seeds, the other finds it done (no crash)."""
    await migrate.upgrade_async(database_url)
    databases = [await open_database(database_url) for _ in range(2)]
    try:
        instances = [KnowledgeBase(database.sessionmaker) for database in databases]
        await asyncio.gather(*(instance.seed() for instance in instances))
        for instance in instances:
            assert "5万元" in (await instance.index()).search("贷款能贷多少").best.entry.answer
        async with databases[0].sessionmaker() as session:
            stored = await KnowledgeRepo(session).active_entries()
        assert len(stored) == len(load_files(bundled_files()))
    finally:
        for database in databases:
            await database.close()
