"""An in-process Bot API: answers every call without a network, records it, reports it.

The console runner prints what it records; tests assert on it. Results are built in Telegram's
wire format and parsed by aiogram's own response check, so handlers see real aiogram objects.
What Telegram refuses (too long texts, broken HTML, oversized keyboards, unchanged edits: see
:mod:`bot.telegram_limits`) is refused here too, with Telegram's 400 and description, so
aiogram raises the ``TelegramBadRequest`` the real API would cause.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot import telegram_limits as limits
from bot.telegram_limits import TelegramRefusal

if TYPE_CHECKING:
    from aiogram import Bot

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Huhuqing", "username": "huhuqing_bot"}
_MESSAGE_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "copyMessage"}
_EDIT_METHODS = {"editMessageText", "editMessageReplyMarkup", "editMessageCaption"}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    result: Any = None
    error: str | None = None  # Telegram's description when the call was refused
    # Refused by Telegram's rules (bot/telegram_limits.py), not by an error a test queued.
    breaks_limits: bool = False

    @property
    def text(self) -> str | None:
        return self.params.get("text") or self.params.get("caption")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        markup = self.params.get("reply_markup") or {}
        return [
            (button["text"], button.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]


@dataclass
class QueuedError:
    error_code: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None  # only calls to this chat fail
    migrate_to_chat_id: int | None = None


class LocalSession(BaseSession):
    """A Bot API session that never leaves the process."""

    def __init__(self, on_call: Callable[[ApiCall], None] | None = None) -> None:
        super().__init__()
        self.calls: list[ApiCall] = []
        self.on_call = on_call
        self._errors: deque[tuple[str, QueuedError]] = deque()
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}

    def fail_next(self, method: str, error_code: int, description: str, **kwargs: Any) -> None:
        """Make the next call of ``method`` fail as Telegram would (403, 429, ...)."""
        self._errors.append((method, QueuedError(error_code, description, **kwargs)))

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = method.__api_method__
        files: dict[str, Any] = {}
        params = {
            key: self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            for key, value in method.model_dump(warnings=False).items()
            if value is not None
        }
        params = {key: value for key, value in params.items() if value is not None}
        body, status, queued = self._respond(name, params)
        call = ApiCall(
            name, params, body.get("result"), body.get("description"), status != 200 and not queued
        )
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=json.dumps(body)
        )
        return response.result  # type: ignore[return-value]

    def _respond(self, name: str, params: dict[str, Any]) -> tuple[dict[str, Any], int, bool]:
        """Telegram's answer, its status, and whether it was an error queued by fail_next."""
        for index, (method, error) in enumerate(self._errors):
            chat = params.get("chat_id")
            if method == name and error.chat_id in (None, chat):
                del self._errors[index]
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": error.error_code,
                    "description": error.description,
                }
                if error.retry_after is not None:
                    body["parameters"] = {"retry_after": error.retry_after}
                if error.migrate_to_chat_id is not None:
                    body["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
                return body, error.error_code, True
        try:
            return {"ok": True, "result": self._result(name, params)}, 200, False
        except TelegramRefusal as refusal:
            body = {"ok": False, "error_code": refusal.error_code, "description": str(refusal)}
            return body, refusal.error_code, False

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        """Telegram's answer to a call it accepts; raises :class:`TelegramRefusal` otherwise."""
        if name == "getMe":
            return BOT_USER
        if name == "answerCallbackQuery":
            limits.callback_answer(params)
            return True
        if name in _MESSAGE_METHODS:
            content = self._content(name, params)
            markup = limits.inline_keyboard(limits.reply_markup(params))  # Telegram echoes these
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
                **content,
            }
            if markup is not None:
                message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])] = message
            return message
        if name in _EDIT_METHODS and "chat_id" in params:
            return self._edit(name, params)
        if name == "getUpdates":
            return []
        return True

    @staticmethod
    def _content(name: str, params: dict[str, Any]) -> dict[str, Any]:
        """The text or caption a new message shows, as Telegram parses and limits it."""
        if name == "sendMessage":
            return limits.message_text(params)
        if name in ("sendPhoto", "sendDocument"):
            return limits.message_caption(params)
        return {}

    def _edit(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = dict(self._messages.get(key) or self._stub_message(*key))
        changes: dict[str, Any] = {}
        if name == "editMessageText":
            changes = {"entities": None, **limits.message_text(params)}
        elif name == "editMessageCaption":
            changes = {"caption": None, "caption_entities": None, **limits.message_caption(params)}
        markup = limits.reply_markup(params)
        limits.check_modified(message, changes, markup)
        for field, value in changes.items():
            if value is None:
                message.pop(field, None)
            else:
                message[field] = value
        message.pop("reply_markup", None)  # an edit without a keyboard removes it
        if (keyboard := limits.inline_keyboard(markup)) is not None:
            message["reply_markup"] = keyboard
        self._messages[key] = message
        return message

    @staticmethod
    def _stub_message(chat_id: int, message_id: int) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": "",
        }

    def sent(self, method: str | None = None) -> list[ApiCall]:
        return [call for call in self.calls if method is None or call.method == method]

    async def close(self) -> None:
        """Nothing to close: there is no connection."""

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""
