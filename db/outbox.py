"""Outbox rows: claimed by one sender at a time with a lease, so replicas never send twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage, User

LEASE = timedelta(seconds=60)


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

    async def block_user(self, chat_id: int, now: datetime) -> None:
        """Telegram said 403: stop every pending message to that chat, remember the block."""
        await self.session.execute(
            update(User).where(User.telegram_id == chat_id).values(blocked_at=now)
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.sent_at.is_(None))
            .values(failed_at=now, last_error="blocked by the user")
        )
