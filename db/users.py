"""Users as the bot remembers them."""

from __future__ import annotations

from datetime import timedelta

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
        """Give a user a role and an area; a user the bot has not met yet is created."""
        user = await self.get(telegram_id)
        if user is None:
            user = User(telegram_id=telegram_id)
            self.session.add(user)
        user.role = role
        user.area_code = area_code
        await self.session.commit()
        return user
