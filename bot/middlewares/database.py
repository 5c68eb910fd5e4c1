"""One database session per update, with the repositories and the sender's account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.regions import RegionRepo
from db.users import UserRepo


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            data["users"] = users = UserRepo(session)
            data["regions"] = RegionRepo(session)
            sender: User | None = data.get("event_from_user")
            if sender is not None and not sender.is_bot:
                data["account"] = await users.touch(sender.id)
            return await handler(event, data)
