"""Outbound rate limits, as a Bot API request middleware: aiogram has none.

Telegram allows about one message a second per chat (short bursts pass), 20 a minute per group
and 30 a second in all; beyond that it answers 429. Waiting here is cheaper than a 429: the
outbox worker still honours retry_after when one comes anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiolimiter import AsyncLimiter

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response


@dataclass(frozen=True)
class Limits:
    per_chat: tuple[float, float] = (3, 3)  # 3 messages in 3 seconds: a short burst, then 1/s
    per_group: tuple[float, float] = (20, 60)
    overall: tuple[float, float] = (30, 1)
    remembered_chats: int = 10_000


class RateLimiter(BaseRequestMiddleware):
    """Delays a request that carries a chat_id until the chat's and the bot's budgets allow it."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.overall = AsyncLimiter(*self.limits.overall)
        self._chats: OrderedDict[Any, AsyncLimiter] = OrderedDict()

    def _chat_limiter(self, chat_id: Any) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            group = isinstance(chat_id, str) or int(chat_id) < 0
            limiter = AsyncLimiter(*(self.limits.per_group if group else self.limits.per_chat))
            self._chats[chat_id] = limiter
            if len(self._chats) > self.limits.remembered_chats:
                self._chats.popitem(last=False)
        self._chats.move_to_end(chat_id)
        return limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None:
            async with self._chat_limiter(chat_id), self.overall:
                return await make_request(bot, method)
        return await make_request(bot, method)
