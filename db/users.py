"""Users as the bot remembers them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Role, User, utcnow

# Writing last_seen on every update would make every message a write; once a minute is enough.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, telegram_id: int) -> User | None:
        return await self.session.get(User, telegram_id)

    async def touch(self, telegram_id: int) -> User:
        """Return the user, creating them on first contact and refreshing last_seen."""
        now = utcnow()
        user = await self.get(telegram_id)
        if user is None:
            user = User(telegram_id=telegram_id, first_seen=now, last_seen=now)
            self.session.add(user)
            await self.session.commit()
        elif now - user.last_seen > LAST_SEEN_RESOLUTION or user.blocked_at is not None:
            user.last_seen = now
            # Whoever writes to the bot can be written to again (they unblocked it, or a cadre
            # granted before ever opening the chat has now started it).
            user.blocked_at = None
            await self.session.commit()
        return user

    async def grant(self, telegram_id: int, role: Role, area_code: str | None) -> User:
        """Give a user a role and an area, committed; a user the bot has not met yet is created.
        Admins' grants go through grievances/roles.py, which checks them and logs them."""
        user = await self.set_role(telegram_id, role, area_code)
        await self.session.commit()
        return user

    async def set_role(self, telegram_id: int, role: Role, area_code: str | None) -> User:
        """The user with this role and area (created if the bot has not met them). Not
        committed: the caller commits it with its audit row."""
        user = await self.get(telegram_id)
        if user is None:
            user = User(telegram_id=telegram_id)
            self.session.add(user)
        user.role = role
        user.area_code = area_code
        await self.session.flush()
        return user

    async def revoke(self, telegram_id: int) -> str | None:
        """Make a cadre or admin a villager again, without an area; their former role, or None
        when they had none."""
        user = await self.get(telegram_id)
        if user is None or user.role == Role.VILLAGER:
            return None
        former = f"{user.role} for {user.area_code or 'everything'}"
        user.role = Role.VILLAGER
        user.area_code = None
        await self.session.commit()
        return former

    async def with_roles(self, roles: Sequence[Role]) -> list[User]:
        query = select(User).where(User.role.in_(list(roles)))
        return list((await self.session.scalars(query.order_by(User.role, User.telegram_id))).all())
