"""`huhuqing chat`: talk to the real dispatcher in a terminal, with no token and no network.

Each line typed is a message; inline buttons are printed as numbered choices and pressed by
typing their number. Reading from a pipe works too (one message per line), for scripted demos.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

from aiogram import Bot, Dispatcher

from bot.local_session import ApiCall, LocalSession
from bot.outbox import OutboxWorker
from bot.updates import UpdateFactory

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
        outbox: OutboxWorker | None = None,
    ) -> None:
        self.outbox = outbox
        self.dispatcher = dispatcher
        self.bot = bot
        self.out = out
        self.updates = UpdateFactory()
        self.user = UpdateFactory.user(user_id, language_code, name="Console")
        # Number typed → (message id, callback data) of the buttons shown last.
        self.choices: dict[int, tuple[int, str, datetime]] = {}
        session.on_call = self.show

    def show(self, call: ApiCall) -> None:
        if call.error is not None:  # refused as Telegram refuses it: the user would see nothing
            print(f"  ✗ {call.method} refused: {call.error}", file=self.out)
            self.out.flush()
            return
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            print(f"  ({html_to_text(call.params['text'])})", file=self.out)
        if str(call.params.get("chat_id")) != str(self.user.id):
            return
        if call.text is not None:
            print(
                "\n".join("bot> " + line for line in html_to_text(call.text).splitlines()),
                file=self.out,
            )
        elif call.method != "editMessageReplyMarkup":  # new buttons under a message shown
            return
        buttons = [(label, data) for label, data in call.buttons if data]
        message_id = call.params.get("message_id")
        if isinstance(call.result, dict):
            message_id = call.result.get("message_id", message_id)
        if buttons and message_id is not None:
            date = call.result.get("date") if isinstance(call.result, dict) else None
            shown_at = datetime.fromtimestamp(date, UTC) if date else datetime.now(UTC)
            self.choices = {
                number: (int(message_id), data, shown_at)
                for number, (_, data) in enumerate(buttons, start=1)
            }
            for number, (label, _) in enumerate(buttons, start=1):
                print(f"     [{number}] {label}", file=self.out)
        self.out.flush()

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        await self.deliver_own()  # what came meanwhile is shown before the answer to this line
        if line.isdigit() and int(line) in self.choices:
            message_id, data, shown_at = self.choices[int(line)]
            update = self.updates.press(self.user, data, message_id, shown_at=shown_at)
        else:
            update = self.updates.text(self.user, line)
        await self.dispatcher.feed_update(self.bot, update)
        await self.deliver_own()

    async def deliver_own(self) -> None:
        """Show the notifications due to this user (only theirs: every other chat's rows are
        left to the running bot)."""
        if self.outbox is not None:
            while await self.outbox.send_due(chat_id=self.user.id):
                pass

    async def run(self, source: TextIO = sys.stdin, log_file: str | None = None) -> None:
        """Read lines until end of input (Ctrl-D); Ctrl-C cancels the wait at once."""
        interactive = source.isatty()
        if interactive:
            print(
                "Huhuqing console — type a message, a button's number, or Ctrl-D to quit."
                " Try /start",
                file=self.out,
            )
            if log_file:
                print(f"(log lines go to {log_file})", file=self.out)
        lines = _read_lines(source)
        try:
            while True:
                if interactive:
                    print("you> ", end="", file=self.out, flush=True)
                line = await lines.get()
                if not line:
                    break
                await self.handle_line(line)
        finally:
            if interactive:
                print(file=self.out, flush=True)  # the shell's prompt on a line of its own


def _read_lines(source: TextIO) -> asyncio.Queue[str]:
    """Lines of ``source`` ("" at its end), read by a daemon thread: a blocked read then never
    keeps the process from exiting on Ctrl-C, as a thread of the default executor would."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = source.readline()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the console has ended (Ctrl-C) while this line was typed
                return
            if not line:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return queue
