"""Promises that mutation testing (TESTING.md) found unguarded: each test here kills a mutant that
survived the rest of the suite."""

from __future__ import annotations

from sqlalchemy import select

from db import migrate
from db.models import OutboxMessage, utcnow
from db.outbox import OutboxRepo
from db.session import open_database

OLD_GROUP, NEW_GROUP, OTHER_CHAT = -100, -100999, 4242


async def test_an_upgraded_groups_queued_notices_follow_it_and_no_others_do(
    sqlite_url: str,
) -> None:
    """Telegram gives a group upgraded to a supergroup a new id: the notices still queued for the
    old id go to the new one; a notice already sent and every other chat's stay as they were.
    (Mutants of ``OutboxRepo.move_chat``: the chat condition dropped or turned into ``!=``.)"""
    await migrate.upgrade_async(sqlite_url)
    database = await open_database(sqlite_url)
    try:
        async with database.sessionmaker() as session:
            session.add_all([
                OutboxMessage(chat_id=OLD_GROUP, text="queued for the group"),
                OutboxMessage(chat_id=OLD_GROUP, text="sent before", sent_at=utcnow()),
                OutboxMessage(chat_id=OTHER_CHAT, text="for someone else"),
            ])  # fmt: skip
            await session.commit()
            await OutboxRepo(session).move_chat(OLD_GROUP, NEW_GROUP)
            await session.commit()
        async with database.sessionmaker() as session:
            rows = (await session.execute(select(OutboxMessage.text, OutboxMessage.chat_id))).all()
        assert sorted(rows) == sorted([
            ("queued for the group", NEW_GROUP),
            ("sent before", OLD_GROUP),
            ("for someone else", OTHER_CHAT),
        ])  # fmt: skip
    finally:
        await database.close()
