"""Outbox rows: claimed by one sender at a time with a lease, so replicas never send twice.

A lease is short (LEASE) and names the instance holding it; the sender extends it while it
is still sending (a heartbeat), and a restarted instance releases its own leases at once, so
that only the rows of an instance that died for good wait for their lease to run out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage, Role, UnitChat, User

LEASE = timedelta(seconds=30)
NOTICE = "notice"
ALERT = "alert"  # an admin told that notices are stuck
ROLE = "role"  # a person told of the role given or taken back: its sender refreshes their menu


@dataclass(frozen=True)
class DeadChat:
    """A chat Telegram refused (403): the unit whose linked group it was, or the user it is."""

    chat_id: int
    unit_code: str | None
    user: User | None


def _pending() -> ColumnElement[bool]:
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))


def _unleased(now: datetime) -> ColumnElement[bool]:
    return or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self,
        now: datetime,
        limit: int,
        instance: str,
        chat_id: int | None = None,
        busy: Collection[int] = (),
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due messages (only those to ``chat_id`` if given, none to the
        ``busy`` chats) to this instance and return them, oldest first."""
        due = (
            select(OutboxMessage.id)
            .where(_pending(), OutboxMessage.next_attempt_at <= now, _unleased(now))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if chat_id is not None:
            due = due.where(OutboxMessage.chat_id == chat_id)
        if busy:
            due = due.where(OutboxMessage.chat_id.not_in(list(busy)))
        ids = list((await self.session.scalars(due)).all())
        if not ids:
            return []
        # Only rows still unsent and unleased are taken: a replica that claimed (or sent) them
        # since they were read keeps them (tests/integration/test_outbox_race.py). The commit
        # makes the lease visible to the other replicas before anything is sent.
        claimed = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _pending(), _unleased(now))
            .values(locked_until=now + LEASE, locked_by=instance)
            .returning(OutboxMessage.id)
        )
        taken = [row[0] for row in claimed]
        await self.session.commit()
        query = select(OutboxMessage).where(OutboxMessage.id.in_(taken)).order_by(OutboxMessage.id)
        return list((await self.session.scalars(query)).all())

    async def extend(self, ids: Sequence[int], instance: str, until: datetime) -> None:
        """The heartbeat: the rows this instance is still sending stay leased to it."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.locked_by == instance,
                OutboxMessage.locked_until.is_not(None),
                _pending(),
            )
            .values(locked_until=until)
        )

    async def release(self, instance: str) -> int:
        """At start: the leases this instance held before it stopped end now."""
        released = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.locked_by == instance, OutboxMessage.locked_until.is_not(None))
            .values(locked_until=None, locked_by=None)
            .returning(OutboxMessage.id)
        )
        return len(released.all())

    async def block_chat(self, chat_id: int, now: datetime) -> DeadChat:
        """Telegram said 403: a user is marked blocked until they write again; a group that
        removed the bot is unlinked, so that its unit's cases go to its cadres (or the level
        above) instead of nowhere. Returns what the chat was, for re-routing."""
        unit_code = await self.session.scalar(
            select(UnitChat.region_code).where(UnitChat.chat_id == chat_id)
        )
        user = await self.session.get(User, chat_id)
        await self.session.execute(
            update(User).where(User.telegram_id == chat_id).values(blocked_at=now)
        )
        await self.session.execute(delete(UnitChat).where(UnitChat.chat_id == chat_id))
        return DeadChat(chat_id, unit_code, user)

    async def pending_to(self, chat_id: int, now: datetime, instance: str) -> list[OutboxMessage]:
        """The unsent rows to a chat that no other instance holds."""
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                _pending(),
                or_(OutboxMessage.locked_by == instance, _unleased(now)),
            )
            .order_by(OutboxMessage.id)
        )
        return list((await self.session.scalars(query)).all())

    async def chats_with(self, message: OutboxMessage) -> set[int]:
        """The chats that already have this notification (same case and text)."""
        query = select(OutboxMessage.chat_id).where(
            OutboxMessage.case_id == message.case_id,
            OutboxMessage.text == message.text,
            OutboxMessage.failed_at.is_(None),
        )
        return set((await self.session.scalars(query)).all())

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

    # --- stuck rows and the admins told about them ----------------------------------------

    async def stuck(self, created_before: datetime, limit: int) -> list[OutboxMessage]:
        """Notices tried and still unsent that were written before ``created_before`` and not
        reported yet."""
        query = (
            select(OutboxMessage)
            .where(
                _pending(),
                OutboxMessage.attempts > 0,
                OutboxMessage.kind == NOTICE,
                OutboxMessage.alerted_at.is_(None),
                OutboxMessage.created_at < created_before,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def mark_alerted(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Mark rows as reported; returns those no other instance reported first."""
        marked = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.alerted_at.is_(None))
            .values(alerted_at=now)
            .returning(OutboxMessage.id)
        )
        return {row[0] for row in marked}

    async def admins_for(self, path: Sequence[str]) -> list[User]:
        """The admins of the nearest area on ``path`` (region codes, top down) that has any;
        else the admins with no area (they see everything)."""
        admins = (
            await self.session.scalars(
                select(User).where(User.role == Role.ADMIN, User.blocked_at.is_(None))
            )
        ).all()
        for code in reversed(path):
            nearest = [admin for admin in admins if admin.area_code == code]
            if nearest:
                return nearest
        return [admin for admin in admins if admin.area_code is None]

    async def alert_allowed(self, chat_id: int, since: datetime) -> bool:
        """An admin gets a new alert only when the last one was delivered (or given up) and
        none was written since ``since``: never a storm, even while Telegram is down."""
        recent = await self.session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.kind == ALERT,
                or_(_pending(), OutboxMessage.created_at >= since),
            )
            .limit(1)
        )
        return recent is None
