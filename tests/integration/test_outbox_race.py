"""Two outbox workers on one database, each with its own engine as two replicas have: a row is
sent once, whatever the interleaving. The interleaving is forced, not hoped for: worker A is
held between reading the due ids and claiming them while worker B goes ahead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import Update, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.local_session import LocalSession
from bot.outbox import OutboxWorker
from db.models import OutboxMessage, utcnow
from db.outbox import LEASE, OutboxRepo
from db.session import Database, open_database
from tests.fakes.gated import GatedSession

pytestmark = pytest.mark.both_databases

TOKEN = "42:TEST"
CHAT = 902
NOW = utcnow() + timedelta(minutes=1)  # after the rows' created_at


class HeldAtClaim:
    """Holds the sessions it makes at their first UPDATE (the claim: the due ids are read, the
    rows not taken yet) until the test releases them."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.released = asyncio.Event()

    def sessionmaker(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        held = self

        class HeldSession(AsyncSession):
            async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
                if isinstance(statement, Update) and not held.released.is_set():
                    held.reached.set()
                    await held.released.wait()
                return await super().execute(statement, *args, **kwargs)

        return async_sessionmaker(engine, class_=HeldSession, expire_on_commit=False)


@pytest.fixture
async def replica(database: Database, database_url_of_backend: str) -> AsyncIterator[Database]:
    """The second instance's own engine on the same database."""
    other = await open_database(database_url_of_backend)
    yield other
    await other.close()


async def queue(database: Database, text: str) -> None:
    async with database.sessionmaker() as session:
        session.add(OutboxMessage(chat_id=CHAT, text=text, created_at=NOW, next_attempt_at=NOW))
        await session.commit()


async def the_row(database: Database) -> OutboxMessage:
    async with database.sessionmaker() as session:
        return (await session.scalars(select(OutboxMessage))).one()


def sent(telegram: LocalSession) -> list[str]:
    return [call.text or "" for call in telegram.calls if call.method == "sendMessage"]


async def test_a_row_sent_by_one_replica_after_the_other_read_it_is_not_sent_again(
    database: Database, replica: Database
) -> None:
    await queue(database, "new case")
    held, telegram_a, telegram_b = HeldAtClaim(), LocalSession(), LocalSession()
    held_sessions = held.sessionmaker(database.engine)
    worker_a = OutboxWorker(
        Bot(TOKEN, session=telegram_a), held_sessions, lambda: NOW, instance="a"
    )
    worker_b = OutboxWorker(
        Bot(TOKEN, session=telegram_b), replica.sessionmaker, lambda: NOW, instance="b"
    )
    a_sending = asyncio.create_task(worker_a.send_due())
    await asyncio.wait_for(held.reached.wait(), 10)  # A has read the row's id as due
    assert await worker_b.send_due() == 1  # B reads, claims, sends and commits it
    held.released.set()
    assert await a_sending == 0  # A's claim takes nothing
    assert (sent(telegram_a), sent(telegram_b)) == ([], ["new case"])
    row = await the_row(database)
    assert (row.sent_at, row.attempts, row.locked_by) == (NOW, 1, None)


async def test_a_row_claimed_by_one_replica_after_the_other_read_it_stays_with_it(
    database: Database, replica: Database
) -> None:
    await queue(database, "new case")
    held = HeldAtClaim()
    async with held.sessionmaker(database.engine)() as session_a:
        a_claiming = asyncio.create_task(OutboxRepo(session_a).claim(NOW, 5, "a"))
        await asyncio.wait_for(held.reached.wait(), 10)
        async with replica.sessionmaker() as session_b:
            [claimed] = await OutboxRepo(session_b).claim(NOW, 5, "b")  # not sent yet
        held.released.set()
        assert await a_claiming == []
    row = await the_row(database)
    assert (row.id, row.locked_by, row.locked_until) == (claimed.id, "b", NOW + LEASE)


async def test_rows_being_sent_are_seen_as_claimed_by_another_replica(
    database: Database, replica: Database
) -> None:
    await queue(database, "new case")
    slow = GatedSession()
    worker_a = OutboxWorker(
        Bot(TOKEN, session=slow), database.sessionmaker, lambda: NOW, instance="a"
    )
    other = LocalSession()
    worker_b = OutboxWorker(
        Bot(TOKEN, session=other), replica.sessionmaker, lambda: NOW, instance="b"
    )
    a_sending = asyncio.create_task(worker_a.send_due())
    await asyncio.wait_for(slow.started.wait(), 10)  # A is waiting for Telegram
    assert await worker_b.send_due() == 0
    async with replica.sessionmaker() as session:
        assert await OutboxRepo(session).claim(NOW, 5, "b") == []
        row = (await session.scalars(select(OutboxMessage))).one()
        assert (row.locked_by, row.sent_at) == ("a", None)
    slow.gate.set()
    assert await a_sending == 1
    assert (sent(slow), sent(other)) == (["new case"], [])
