"""One database session per update, with the repositories and the sender's account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
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
        sender: User | None = data.get("event_from_user")
        if sender is None or sender.is_bot:
            # Channel posts, other bots, anonymous group admins: nobody the bot serves.
            return UNHANDLED
        async with self.sessionmaker() as session:
            data["session"] = session
            data["users"] = users = UserRepo(session)
            data["regions"] = RegionRepo(session)
            data["account"] = await users.touch(sender.id)
            return await handler(event, data)
