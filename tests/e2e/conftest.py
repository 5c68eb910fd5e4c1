from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Case
from db.session import Database
from tests.fakes.telegram_server import Call, FakeTelegramServer

ROOT = Path(__file__).resolve().parents[2]


def huhuqing(*args: str, env: dict[str, str], stdin: str = "", timeout: float = 60):
    """Run the installed command line as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUHUQING_")}
    env["HUHUQING_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Running:
    telegram: FakeTelegramServer
    database: Database
    dispatcher: Any
    url: str

    async def say(self, user: int, text: str, chat: int | None = None) -> None:
        self.telegram.send_text(user, text, chat_id=chat, chat_type="supergroup" if chat else None)

    async def expect(
        self, chat: int, needle: str, method: str = "sendMessage", since: int = 0
    ) -> Call:
        """The first call to the chat holding ``needle`` (only from ``since``, a mark, on)."""
        return await self.telegram.wait_for(
            method,
            lambda call: (
                str(call.params.get("chat_id")) == str(chat)
                and needle in (call.params.get("text") or "")
            ),
            since=since,
            timeout=10,
        )

    async def press(self, user: int, prefix: str, chat: int | None = None) -> None:
        """Press the newest button in the chat whose callback data starts with ``prefix``,
        waiting for it to arrive (the bot paces its messages per chat)."""
        chat = chat or user
        for _ in range(100):
            found = self._button(chat, prefix)
            if found:
                message_id, data = found
                since = self.telegram.mark()
                self.telegram.press_button(user, data, message_id=message_id, chat_id=chat)
                await self.telegram.wait_for("answerCallbackQuery", since=since, timeout=10)
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"no button {prefix} in chat {chat}")

    def _button(self, chat: int, prefix: str) -> tuple[int, str] | None:
        for call in reversed(self.telegram.calls):
            markup = call.params.get("reply_markup") or {}
            if str(call.params.get("chat_id")) != str(chat) or not call.ok:
                continue
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if button.get("callback_data", "").startswith(prefix):
                        return call.result["message_id"], button["callback_data"]
        return None

    async def case(self) -> Case:
        async with self.database.sessionmaker() as session:
            return await session.scalar(select(Case).order_by(Case.id.desc()))
