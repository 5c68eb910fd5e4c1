"""Outbox rows: claimed by one sender at a time with a lease, so replicas never send twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage, UnitChat, User

LEASE = timedelta(minutes=5)


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Lease up to ``limit`` due messages to this sender and return them, oldest first."""
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        ids = list((await self.session.scalars(due)).all())
        if not ids:
            return []
        # Only rows still unleased are taken: a replica that claimed them first keeps them.
        claimed = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .values(locked_until=now + LEASE)
            .returning(OutboxMessage.id)
        )
        taken = [row[0] for row in claimed]
        await self.session.commit()
        query = select(OutboxMessage).where(OutboxMessage.id.in_(taken)).order_by(OutboxMessage.id)
        return list((await self.session.scalars(query)).all())

    async def block_chat(self, chat_id: int, now: datetime) -> None:
        """Telegram said 403: stop every pending message to that chat. A user is marked blocked
        until they write again; a group that removed the bot is unlinked, so that its unit's
        cases go to its cadres (or the level above) instead of nowhere."""
        await self.session.execute(
            update(User).where(User.telegram_id == chat_id).values(blocked_at=now)
        )
        await self.session.execute(delete(UnitChat).where(UnitChat.chat_id == chat_id))
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.sent_at.is_(None))
            .values(failed_at=now, last_error="blocked by the user")
        )

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group was upgraded to a supergroup and has a new id: everything follows it."""
        await self.session.execute(
            update(UnitChat).where(UnitChat.chat_id == old_chat_id).values(chat_id=new_chat_id)
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == old_chat_id, OutboxMessage.sent_at.is_(None))
            .values(chat_id=new_chat_id)
        )
