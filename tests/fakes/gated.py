"""The in-process Bot API with a gate: a send that takes as long as the test wants."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot

from bot.local_session import LocalSession


class GatedSession(LocalSession):
    """sendMessage waits until the test opens the gate: a send that takes long."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def make_request(self, bot: Bot, method: Any, timeout: int | None = None) -> Any:
        if method.__api_method__ == "sendMessage":
            self.started.set()
            await self.gate.wait()
        return await super().make_request(bot, method, timeout)
