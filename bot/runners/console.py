"""`huhuqing chat`: talk to the real dispatcher in a terminal, with no token and no network.

Each line typed is a message; inline buttons are printed as numbered choices and pressed by
typing their number. Reading from a pipe works too (one message per line), for scripted demos.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.local_session import BOT_USER, ApiCall, LocalSession

_TAG = re.compile(r"<[^>]+>")


def html_to_text(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


class Console:
    """Turns typed lines into updates and prints what the bot sends back."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        session: LocalSession,
        user_id: int,
        language_code: str,
        out: TextIO = sys.stdout,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.out = out
        self.user = User(
            id=user_id, is_bot=False, first_name="Console", language_code=language_code
        )
        self.chat = Chat(id=user_id, type="private")
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1_000_000)
        # Number typed → (message id, callback data) of the buttons shown last.
        self.choices: dict[int, tuple[int, str]] = {}
        session.on_call = self.show

    def show(self, call: ApiCall) -> None:
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            print(f"  ({html_to_text(call.params['text'])})", file=self.out)
        if call.text is None or call.params.get("chat_id") not in (self.chat.id, str(self.chat.id)):
            return
        print(
            "\n".join("bot> " + line for line in html_to_text(call.text).splitlines()),
            file=self.out,
        )
        buttons = [(label, data) for label, data in call.buttons if data]
        if buttons and isinstance(call.result, dict):
            self.choices = {
                number: (call.result["message_id"], data)
                for number, (_, data) in enumerate(buttons, start=1)
            }
            for number, (label, _) in enumerate(buttons, start=1):
                print(f"     [{number}] {label}", file=self.out)
        self.out.flush()

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if line.isdigit() and int(line) in self.choices:
            message_id, data = self.choices[int(line)]
            await self._feed(
                callback_query=CallbackQuery(
                    id=str(next(self._update_ids)),
                    from_user=self.user,
                    chat_instance="console",
                    data=data,
                    message=Message(
                        message_id=message_id,
                        date=datetime.now(UTC),
                        chat=self.chat,
                        from_user=User.model_validate(BOT_USER),
                        text="",
                    ),
                )
            )
            return
        await self._feed(
            message=Message(
                message_id=next(self._message_ids),
                date=datetime.now(UTC),
                chat=self.chat,
                from_user=self.user,
                text=line,
            )
        )

    async def _feed(self, **event: Message | CallbackQuery) -> None:
        update = Update(update_id=next(self._update_ids), **event)
        await self.dispatcher.feed_update(self.bot, update)

    async def run(self, source: TextIO = sys.stdin) -> None:
        interactive = source.isatty()
        if interactive:
            print(
                "Huhuqing console — type a message, a button's number, or Ctrl-D to quit."
                " Try /start",
                file=self.out,
            )
        while True:
            if interactive:
                print("you> ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(source.readline)
            if not line:
                break
            await self.handle_line(line)
