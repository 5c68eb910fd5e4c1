"""One database session per update, with the repositories and the sender's account, and the
rule that keeps connections free: a handler's transaction ends before it talks to Telegram."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.regions import RegionRepo
from db.users import UserRepo

# The session of the update being handled in this task (None outside handlers: the outbox and
# the other workers open and close their own around each send).
_handler_session: ContextVar[AsyncSession | None] = ContextVar("handler_session", default=None)


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
            token = _handler_session.set(session)
            try:
                data["session"] = session
                data["users"] = users = UserRepo(session)
                data["regions"] = RegionRepo(session)
                data["account"] = await users.touch(sender.id)
                return await handler(event, data)
            finally:
                _handler_session.reset(token)


class CommitBeforeSending(BaseRequestMiddleware):
    """Commits the handler's transaction before each Bot API call.

    What a handler wrote is stored before the user is told of it, and no connection (nor
    SQLite's write lock) is held while Telegram is slow or the rate limiter makes a reply wait:
    a burst of users cannot drain the pool. The handler's objects stay loaded (sessions are made
    with expire_on_commit=False); its next query starts a new transaction.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        session = _handler_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        return await make_request(bot, method)
