"""Drive the real Dispatcher in-process and see every Bot API call it makes."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Chat

from bot.app import create_bot, create_dispatcher
from bot.config import Settings
from bot.local_session import ApiCall, LocalSession
from bot.outbox import OutboxWorker
from bot.updates import UpdateFactory
from db.session import Database


class BotHarness:
    def __init__(
        self, settings: Settings, database: Database, storage: BaseStorage | None = None
    ) -> None:
        self.session = LocalSession()
        self.bot = create_bot(settings, session=self.session)
        self.dispatcher = create_dispatcher(settings, database, storage or MemoryStorage())
        self.updates = UpdateFactory()
        self.languages: dict[int, str | None] = {}
        self.outbox = OutboxWorker(self.bot, database.sessionmaker)

    def _user(self, user_id: int, lang: str | None):
        if lang is not None:
            self.languages[user_id] = lang
        return UpdateFactory.user(user_id, self.languages.get(user_id, "zh-hans"))

    async def send(self, user_id: int, text: str, lang: str | None = None) -> list[ApiCall]:
        """The user sends ``text``; returns the calls the bot made in response."""
        start = len(self.session.calls)
        update = self.updates.text(self._user(user_id, lang), text)
        await self.dispatcher.feed_update(self.bot, update)
        return self._within_limits(self.session.calls[start:])

    async def deliver(self) -> list[ApiCall]:
        """Run the outbox worker once, as the running bot does every second."""
        start = len(self.session.calls)
        while await self.outbox.send_due():
            pass
        return self._within_limits(self.session.calls[start:])

    async def send_in(
        self, chat_id: int, user_id: int, text: str, lang: str | None = None
    ) -> list[ApiCall]:
        """The user writes in a group chat."""
        start = len(self.session.calls)
        chat = Chat(id=chat_id, type="supergroup", title="乡镇工作群")
        update = self.updates.text(self._user(user_id, lang), text, chat=chat)
        await self.dispatcher.feed_update(self.bot, update)
        return self._within_limits(self.session.calls[start:])

    async def press_prefix(
        self, user_id: int, prefix: str, chat_id: int | None = None, lang: str | None = None
    ) -> list[ApiCall]:
        """Press the newest button, in the chat, whose callback data starts with ``prefix``."""
        chat = chat_id if chat_id is not None else user_id
        for call in reversed(self.session.calls):
            if str(call.params.get("chat_id")) != str(chat) or not isinstance(call.result, dict):
                continue
            for _, data in call.buttons:
                if data.startswith(prefix):
                    start = len(self.session.calls)
                    chat_object = (
                        None if chat == user_id else Chat(id=chat, type="supergroup", title="g")
                    )
                    update = self.updates.press(
                        self._user(user_id, lang),
                        data,
                        call.result["message_id"],
                        chat_object,
                        self.shown_at(chat, call.result["message_id"]),
                    )
                    await self.dispatcher.feed_update(self.bot, update)
                    return self._within_limits(self.session.calls[start:])
        raise AssertionError(f"no button {prefix!r} in chat {chat}")

    async def press(self, user_id: int, label: str, lang: str | None = None) -> list[ApiCall]:
        """The user presses the newest button whose label contains ``label``."""
        message_id, data = self.find_button(user_id, label)
        return await self.press_data(user_id, data, message_id, lang)

    async def press_data(
        self, user_id: int, data: str, message_id: int = 1, lang: str | None = None
    ) -> list[ApiCall]:
        """Press a button with exactly this callback data (also forged data)."""
        start = len(self.session.calls)
        update = self.updates.press(
            self._user(user_id, lang), data, message_id, shown_at=self.shown_at(user_id, message_id)
        )
        await self.dispatcher.feed_update(self.bot, update)
        return self._within_limits(self.session.calls[start:])

    def _within_limits(self, calls: list[ApiCall]) -> list[ApiCall]:
        """The calls, if Telegram would have taken every one: a message it refuses (too long,
        bad HTML, too many buttons…) fails the test even when the test did not look at it. An
        edit that changes nothing is the one refusal the bot expects and shrugs off."""
        refused = [
            f"{call.method}: {call.error}"
            for call in calls
            if call.breaks_limits and "message is not modified" not in (call.error or "")
        ]  # "not modified" is answered as harmless by design (handlers/errors.py)
        if refused:
            raise AssertionError(f"Telegram would refuse: {refused}")
        return calls

    def shown_at(self, chat_id: int, message_id: int) -> datetime | None:
        """When the bot sent that message, as Telegram tells in a button press."""
        for call in self.session.calls:
            result = call.result
            if (
                isinstance(result, dict)
                and result.get("message_id") == message_id
                and str(call.params.get("chat_id")) == str(chat_id)
                and "date" in result
            ):
                return datetime.fromtimestamp(result["date"], UTC)
        return None

    def find_button(self, user_id: int, label: str) -> tuple[int, str]:
        for call in reversed(self.session.calls):
            if str(call.params.get("chat_id")) != str(user_id) or not call.buttons:
                continue
            for text, data in call.buttons:
                if label in text and isinstance(call.result, dict):
                    return call.result["message_id"], data
        raise AssertionError(f"no button {label!r} shown to {user_id}")

    def texts(self, user_id: int) -> list[str]:
        return [
            call.text
            for call in self.session.calls
            if call.text and str(call.params.get("chat_id")) == str(user_id)
        ]


def texts_of(calls: list[ApiCall]) -> str:
    """All text the bot sent or edited in these calls, joined: handy for `in` assertions."""
    return "\n".join(call.text for call in calls if call.text)


def alerts_of(calls: list[ApiCall]) -> list[str]:
    return [
        call.params.get("text", "")
        for call in calls
        if call.method == "answerCallbackQuery" and call.params.get("text")
    ]
