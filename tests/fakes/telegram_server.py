"""A fake Telegram Bot API server speaking the real wire format, for tests and manual runs.

The bot under test talks to it over HTTP exactly as it talks to ``api.telegram.org``::

    async with FakeTelegramServer() as server:
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
        bot = Bot(DEFAULT_TOKEN, session=session)
        ...
        server.send_text(1001, "/start")              # a user writes to the bot
        call = await server.wait_for("sendMessage")     # the bot answers
        assert "Hello" in call.params["text"]

What it models, as Telegram does:

* requests as ``POST`` (form-urlencoded, multipart with files, or a JSON body) or ``GET`` with a
  query string to ``/bot<token>/<method>``; method names are case-insensitive; nested values
  (``reply_markup``, ``entities``, ``commands``, ``scope``...) arrive as JSON strings and are
  decoded; uploaded files are recorded as :class:`UploadedFile`;
* answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``
  with ``parameters.retry_after`` for 429, and the HTTP status equal to ``error_code``;
* ``getUpdates`` long polling with ``offset``/``limit``/``timeout``/``allowed_updates``, waking the
  moment an update is pushed; one poller per token (a second one ends the first with 409);
* messages the bot sent are stored per chat (``message_id`` counts per chat, shared with the users'
  messages), so edits, deletes, replies and button presses see them; HTML ``parse_mode`` is parsed
  into entities and rejected like Telegram rejects it; the errors Telegram gives for empty or too
  long texts and captions, unchanged edits, oversized callback data, too many buttons, too long
  callback answers, invalid commands... are given too. The message rules are
  :mod:`bot.telegram_limits`, shared with the in-process :class:`bot.local_session.LocalSession`.

Everything the bot calls is recorded in :attr:`FakeTelegramServer.calls`; tests inject updates with
:meth:`~FakeTelegramServer.push_update`, :meth:`~FakeTelegramServer.send_text` and
:meth:`~FakeTelegramServer.press_button`, and failures with :meth:`~FakeTelegramServer.fail_next`.
A method the fake does not know answers 404 like Telegram; add it with
:meth:`~FakeTelegramServer.register_method`.

Run standalone for manual testing: ``python -m tests.fakes.telegram_server --port 8081``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot import telegram_limits as limits
from bot.telegram_limits import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    TelegramRefusal,
    parse_html,
)

__all__ = [
    "DEFAULT_BOT_USER",
    "DEFAULT_TOKEN",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "ApiResult",
    "Call",
    "FailureRule",
    "FakeTelegramServer",
    "MethodHandler",
    "TelegramApiError",
    "UploadedFile",
    "parse_html",
]

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "42:TEST"
"""The token the server accepts unless told otherwise; the bot's id is the part before ``:``."""

DEFAULT_BOT_USER: dict[str, Any] = {
    "is_bot": True,
    "first_name": "Huhuqing",
    "username": "huhuqing_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
"""What ``getMe`` answers (plus ``id``, taken from the first token)."""

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

_MESSAGE_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
# What Telegram leaves out when allowed_updates is empty or was never given.
_NOT_SENT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
# Parameters Telegram types as strings: never JSON-decoded, even when they look like numbers.
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "bio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "chat_join_request_query_id",
        "comment",
        "currency",
        "custom_description",
        "custom_emoji_id",
        "custom_title",
        "description",
        "description_parse_mode",
        "emoji",
        "emoji_status_custom_emoji_id",
        "error_message",
        "explanation",
        "explanation_parse_mode",
        "file_id",
        "first_name",
        "format",
        "foursquare_id",
        "foursquare_type",
        "game_short_name",
        "gift_id",
        "google_place_id",
        "google_place_type",
        "guest_query_id",
        "icon_custom_emoji_id",
        "inline_message_id",
        "inline_query_id",
        "invite_link",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "next_offset",
        "old_sticker",
        "owned_gift_id",
        "parse_mode",
        "payload",
        "performer",
        "phone_number",
        "photo_url",
        "pre_checkout_query_id",
        "provider_data",
        "provider_token",
        "question",
        "question_parse_mode",
        "secret_token",
        "shipping_query_id",
        "short_description",
        "start_parameter",
        "sticker_format",
        "sticker_set_name",
        "sticker_type",
        "switch_pm_parameter",
        "switch_pm_text",
        "tag",
        "telegram_payment_charge_id",
        "text",
        "text_parse_mode",
        "title",
        "type",
        "url",
        "username",
        "vcard",
        "web_app_query_id",
        "web_app_url",
    }
)
# Parameters that carry a file: a file_id, an URL, "attach://<field>" or the upload itself.
_FILE_PARAMS = frozenset(
    {
        "animation",
        "audio",
        "certificate",
        "cover",
        "document",
        "live_photo",
        "photo",
        "sticker",
        "thumbnail",
        "video",
        "video_note",
        "voice",
    }
)
_JSON_START = frozenset('{["-0123456789tfn')


# --------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------


class TelegramApiError(Exception):
    """An error answer, raised by method handlers: ``{"ok": false, "error_code": ...}``."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def to_response(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: dict[str, int] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


@dataclass(frozen=True)
class UploadedFile:
    """A file that arrived in a multipart request, in place of its parameter's value.

    ``field`` is the multipart part it came in (aiogram names it at random and refers to it as
    ``attach://<field>``); the parameter it belongs to is the key it is found under in ``params``.
    """

    field: str
    file_name: str
    size: int
    content_type: str = "application/octet-stream"
    data: bytes = field(default=b"", repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly description (without the bytes)."""
        return {
            "field": self.field,
            "file_name": self.file_name,
            "size": self.size,
            "content_type": self.content_type,
        }


@dataclass
class Call:
    """One request the server received.

    ``method`` is Telegram's canonical spelling (``"sendMessage"``) for every method the server
    knows, whatever case the client used; ``params`` are decoded (JSON values as dicts and lists,
    numbers as ints, files as :class:`UploadedFile`); ``at`` is :func:`time.monotonic` on arrival.
    ``status`` and ``response`` are the HTTP status and JSON body answered; both are ``None`` while
    the request is still being handled (a long poll) or if the client went away first.
    """

    token: str
    method: str
    params: dict[str, Any]
    at: float
    status: int | None = None
    response: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the server answered this call successfully."""
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` answered, or ``None`` for errors and unfinished calls."""
        return self.response.get("result") if self.response else None

    @property
    def description(self) -> str | None:
        """The error description answered, if any."""
        return self.response.get("description") if self.response else None

    def describe(self) -> str:
        """A one-line summary for failure messages."""
        shown = {key: _short(value) for key, value in self.params.items()}
        if self.response is None:
            outcome = "pending"
        elif self.ok:
            outcome = "ok"
        else:
            outcome = f"{self.status} {self.description}"
        return f"{self.method}({', '.join(f'{k}={v}' for k, v in shown.items())}) -> {outcome}"


@dataclass
class ApiResult:
    """A handler's success answer with Telegram's optional ``description`` next to ``result``."""

    result: Any
    description: str | None = None


@dataclass
class FailureRule:
    """An injected failure: the next ``times`` matching calls answer with this error."""

    method: str
    error_code: int
    description: str
    retry_after: int | None = None
    times: int = 1
    chat_id: int | str | None = None
    migrate_to_chat_id: int | None = None
    hits: int = 0

    @property
    def remaining(self) -> int:
        """How many more calls will fail."""
        return self.times - self.hits

    def matches(self, call: Call) -> bool:
        """Whether this rule applies to ``call`` (and still has failures left)."""
        if self.remaining <= 0 or call.method != self.method:
            return False
        return self.chat_id is None or _same_chat(call.params.get("chat_id"), self.chat_id)

    def error(self) -> TelegramApiError:
        """The error to answer."""
        return TelegramApiError(
            self.error_code,
            self.description,
            retry_after=self.retry_after,
            migrate_to_chat_id=self.migrate_to_chat_id,
        )


MethodHandler = Callable[[Call], Any]
"""Handles one Bot API method: returns the ``result`` (or an :class:`ApiResult`), or raises
:class:`TelegramApiError`. It may be a coroutine function."""


# --------------------------------------------------------------------------------------------
# Internal helpers
# --------------------------------------------------------------------------------------------


class _Signal:
    """Wakes every waiter when something changed (new call, new update, shutdown)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def current(self) -> asyncio.Event:
        """Take this *before* checking the condition, then wait on it."""
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


@dataclass
class _Queued:
    update: dict[str, Any]
    redeliver: bool = False  # pushed with keep_id: not confirmed by offset before delivery
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _Poll:
    token: str
    superseded: bool = False


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _same_chat(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def _now() -> int:
    return int(time.time())


def _bad_request(detail: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {detail}")


def _decode_value(key: str, value: Any) -> Any:
    """Turn a form value into what Telegram would read: JSON for objects, arrays and numbers."""
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if not stripped or stripped[0] not in _JSON_START:
        return value
    if key in _FILE_PARAMS and not stripped.startswith("{"):
        return value
    try:
        return json.loads(stripped)
    except ValueError:
        return value


def _resolve_attachments(value: Any, files: Mapping[str, UploadedFile], used: set[str]) -> Any:
    """Replace ``"attach://<name>"`` (anywhere in ``value``) with the uploaded file."""
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name in files:
            used.add(name)
            return files[name]
        return value
    if isinstance(value, list):
        return [_resolve_attachments(item, files, used) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_attachments(item, files, used) for key, item in value.items()}
    return value


def _as_int(params: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _bad_request(f'parameter "{name}" must be a number')
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f'parameter "{name}" must be a number') from None


def _as_float(params: Mapping[str, Any], name: str, default: float) -> float:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f'parameter "{name}" must be a number') from None


def _require(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        if name == "chat_id":
            raise _bad_request("chat_id is empty")
        raise _bad_request(f'parameter "{name}" is required')
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        return value.to_json()
    return repr(value)


def _update_type(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _without_reply(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message as Telegram nests it: one level of ``reply_to_message`` only."""
    nested = copy.deepcopy(dict(message))
    nested.pop("reply_to_message", None)
    return nested


def _detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram marks in a user's plain text: commands, mentions, links."""
    patterns = (
        ("bot_command", r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?"),
        ("mention", r"(?<![\w@])@[A-Za-z0-9_]{5,32}"),
        ("url", r"https?://[^\s<>\"]+"),
    )
    entities: list[dict[str, Any]] = []
    for kind, pattern in patterns:
        for match in re.finditer(pattern, text):
            entities.append(
                {
                    "type": kind,
                    "offset": limits.utf16_length(text[: match.start()]),
                    "length": limits.utf16_length(match.group()),
                }
            )
    return sorted(entities, key=lambda entity: entity["offset"])


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegramServer:
    """An in-process HTTP server that behaves like the Telegram Bot API for one bot.

    :param tokens: the tokens answered (others get 401); the first one's number is the bot's id.
    :param bot_user: fields merged over :data:`DEFAULT_BOT_USER` for ``getMe``.
    :param host: the address to bind.
    :param port: the port to bind; 0 (the default) picks a free one.
    :param strict_chats: answer ``Bad Request: chat not found`` for chats the bot never saw (no
        update from them, not added with :meth:`add_chat`), as Telegram does; off by default so
        tests can send to any chat id.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        bot_user: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        strict_chats: bool = False,
    ) -> None:
        self._tokens: list[str] = list(tokens)
        if not self._tokens:
            raise ValueError("at least one token is needed")
        bot_id = self._tokens[0].partition(":")[0]
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id) if bot_id.isdigit() else 42,
            **DEFAULT_BOT_USER,
            **(bot_user or {}),
        }
        self.host = host
        self.port = port
        self._requested_port = port
        self.strict_chats = strict_chats

        self.calls: list[Call] = []
        self._calls_signal = _Signal()
        self._updates_signal = _Signal()
        self._runner: web.AppRunner | None = None
        self._stopping = False

        self._handlers: dict[str, MethodHandler] = {}
        self._canonical: dict[str, str] = {}
        self._failures: list[FailureRule] = []

        self._queue: list[_Queued] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._allowed_updates: list[str] | None = None
        self._polls: dict[str, _Poll] = {}
        self._webhook: dict[str, Any] = {}

        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._members: dict[tuple[int, int], dict[str, Any]] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_message_id: dict[int, int] = {}
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._callback_ids = itertools.count(4_200_000_000_000_000_001)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._file_numbers = itertools.count(1)

        for name, handler in self._builtin_methods().items():
            self.register_method(name, handler)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind and start serving; :attr:`base_url` is valid afterwards."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegramServer is already running")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/_fake/{action}", self._handle_control)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._stopping = False
        self.port = int(runner.addresses[0][1])
        log.debug("fake Telegram Bot API listening on %s", self.base_url)

    async def stop(self) -> None:
        """Answer pending long polls with ``[]`` and shut the server down."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping = True
        self._updates_signal.notify()  # woken long polls answer during the graceful shutdown
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port``, for ``TelegramAPIServer.from_base``."""
        if self._runner is None:
            raise RuntimeError("FakeTelegramServer is not running: await start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        """The first (main) token."""
        return self._tokens[0]

    def add_token(self, token: str) -> None:
        """Accept one more token (for the same bot)."""
        if token not in self._tokens:
            self._tokens.append(token)

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Answer Bot API method ``name`` (canonical camelCase) with ``handler``."""
        self._handlers[name] = handler
        self._canonical[name.lower()] = name

    def canonical_method(self, name: str) -> str:
        """Telegram's spelling of a method name given in any case."""
        return self._canonical.get(name.lower(), name)

    # ---------------------------------------------------------------- recorded calls

    def calls_of(self, method: str) -> list[Call]:
        """Every recorded call of ``method`` (any case), answered or not, in order."""
        method = self.canonical_method(method)
        return [call for call in self.calls if call.method == method]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts the bot got through, in order: sendMessage and editMessageText texts, captions.

        Only successful calls count; the texts are as the bot sent them (HTML tags included).
        With ``chat_id``, only calls addressed to that chat.
        """
        texts: list[str] = []
        for call in self.calls:
            if not call.ok:
                continue
            if chat_id is not None and not _same_chat(call.params.get("chat_id"), chat_id):
                continue
            if call.method in ("sendMessage", "editMessageText"):
                texts.append(str(call.params.get("text", "")))
            elif call.params.get("caption") and (
                call.method.startswith(("send", "copy")) or call.method == "editMessageCaption"
            ):
                texts.append(str(call.params["caption"]))
        return texts

    def mark(self) -> int:
        """The number of calls so far: pass it as ``since`` to look only at later calls."""
        return len(self.calls)

    def clear_calls(self) -> None:
        """Forget the recorded calls (``mark()`` values taken before become invalid)."""
        self.calls.clear()

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> Call:
        """The first call of ``method`` at index ``since`` or later that satisfies ``predicate``.

        Calls already recorded count; otherwise wait for one. A call is returned once it has
        arrived; for an answered one ``call.response`` is set (a long poll's is ``None`` until it
        ends). Raises :class:`TimeoutError` listing the recent calls when none came in time.
        """
        method = self.canonical_method(method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = since
        while True:
            event = self._calls_signal.current
            while index < len(self.calls):
                call = self.calls[index]
                index += 1
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(method, predicate, timeout, since))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _timeout_message(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None,
        timeout: float,
        since: int,
    ) -> str:
        what = f"a {method} call" + (" matching the predicate" if predicate else "")
        lines = [f"no {what} (from call #{since} on) within {timeout:g} s."]
        first = max(since, len(self.calls) - 15)
        if first >= len(self.calls):
            lines.append(f"No calls since #{since} (of {len(self.calls)} in all).")
        else:
            lines.append(f"Calls since #{first} (of {len(self.calls)} in all):")
            lines.extend(
                f"  #{number} {self.calls[number].describe()}"
                for number in range(first, len(self.calls))
            )
        return "\n".join(lines)

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> FailureRule:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail.

        ``description`` defaults to Telegram's usual one for the code, e.g. ``"Too Many
        Requests: retry after 3"`` for 429 (whose ``retry_after`` defaults to 1) or ``"Forbidden:
        bot was blocked by the user"`` for 403. Returns the rule; its ``hits`` count the failures.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                409: "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        rule = FailureRule(
            method=self.canonical_method(method),
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            times=times,
            chat_id=chat_id,
            migrate_to_chat_id=migrate_to_chat_id,
        )
        self._failures.append(rule)
        return rule

    def clear_failures(self) -> None:
        """Drop every pending injected failure."""
        self._failures.clear()

    def block_user(self, user_id: int) -> None:
        """The user blocked the bot: sending to their chat fails with 403 until unblocked."""
        self._blocked.add(int(user_id))

    def unblock_user(self, user_id: int) -> None:
        """The user restarted the bot."""
        self._blocked.discard(int(user_id))

    # ---------------------------------------------------------------- chats, users, messages

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Make a chat known (its type, title, username...); returns the chat object."""
        chat = self._chat_object(chat_id, chat_type=chat_type, remember=True)
        if title is not None:
            chat["title"] = title
        if username is not None:
            chat["username"] = username
        chat.update(fields)
        self._chats[int(chat_id)] = chat
        return copy.deepcopy(chat)

    def set_chat_member(
        self, chat_id: int, user_id: int, status: str = "member", **fields: Any
    ) -> dict[str, Any]:
        """What ``getChatMember(chat_id, user_id)`` answers: a status and its fields."""
        member = self._default_member(int(user_id), status)
        member.update(fields)
        self._members[(int(chat_id), int(user_id))] = member
        return copy.deepcopy(member)

    def get_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A stored message (sent by the bot or pushed in an update), as it is now."""
        message = self._messages.get(int(chat_id), {}).get(int(message_id))
        return copy.deepcopy(message) if message is not None else None

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Every stored message of a chat, by message_id."""
        stored = self._messages.get(int(chat_id), {})
        return [copy.deepcopy(stored[key]) for key in sorted(stored)]

    def commands_for(self, scope: Mapping[str, Any] | None = None, language_code: str = "") -> list:
        """The command list set with ``setMyCommands`` for this scope and language."""
        return copy.deepcopy(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def webhook(self) -> dict[str, Any]:
        """The webhook settings (``{}`` when none is set)."""
        return copy.deepcopy(self._webhook)

    # ---------------------------------------------------------------- updates

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by an ``offset``."""
        return [copy.deepcopy(item.update) for item in self._queue]

    def push_update(self, update: Mapping[str, Any], *, keep_id: bool = False) -> dict[str, Any]:
        """Queue an update for ``getUpdates``; returns it with its ``update_id``.

        The id is the next one of the server's counter, unless ``keep_id`` is true: then the
        update keeps its own (pushing the same dict twice models Telegram delivering an update
        again), and it is delivered even if its id is below an already confirmed offset.
        """
        queued = copy.deepcopy(dict(update))
        if keep_id:
            if "update_id" not in queued:
                raise ValueError("keep_id=True needs an update with an update_id")
        else:
            queued.pop("update_id", None)
            queued = {"update_id": next(self._update_ids), **queued}
        update_id = int(queued["update_id"])
        if update_id >= self._last_update_id:
            self._last_update_id = update_id
            self._update_ids = itertools.count(update_id + 1)
        self._learn(queued)
        self._queue.append(_Queued(queued, redeliver=keep_id))
        self._updates_signal.notify()
        return copy.deepcopy(queued)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` (in their private chat, or in ``chat_id``); returns the update.

        Commands, @mentions and links get their entities, as Telegram marks them.
        """
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        chat_id = user_id if chat_id is None else chat_id
        chat = self._chat_object(chat_id, chat_type=chat_type, user=user, remember=True)
        message: dict[str, Any] = {
            "message_id": self._allocate_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": _now(),
            "text": text,
        }
        if entities := _detect_entities(text):
            message["entities"] = entities
        if reply_to_message_id is not None:
            replied = self._messages.get(int(chat_id), {}).get(int(reply_to_message_id))
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)
        return self.push_update({"message": message})

    def press_button(
        self,
        user_id: int,
        callback_data: str,
        *,
        message_id: int,
        chat_id: int | None = None,
        first_name: str = "Test",
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """A user presses an inline button of message ``message_id``; returns the update.

        The callback query carries the message as the bot sent it (with its keyboard). For a
        message the server never saw, a placeholder bot message is made up and stored.
        """
        user = self._remember_user(user_id, first_name, last_name, username, language_code)
        chat_id = user_id if chat_id is None else chat_id
        message = self._messages.get(int(chat_id), {}).get(int(message_id))
        if message is None:
            message = {
                "message_id": int(message_id),
                "from": self._bot_sender(),
                "chat": self._chat_object(chat_id, user=user, remember=True),
                "date": _now(),
                "text": f"[placeholder for message {message_id}]",
            }
            self._store_message(message)
        chat_instance = str(abs(int(chat_id)) * 7919 + 1_000_000_007)
        return self.push_update(
            {
                "callback_query": {
                    "id": str(next(self._callback_ids)),
                    "from": user,
                    "message": copy.deepcopy(message),
                    "chat_instance": chat_instance,
                    "data": callback_data,
                }
            }
        )

    # ---------------------------------------------------------------- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = self.canonical_method(request.match_info["method"])
        call = Call(token=token, method=method, params={}, at=time.monotonic())
        try:
            call.params = await self._read_params(request)
        except TelegramApiError as error:
            self.calls.append(call)
            return self._record_answer(call, error)
        self.calls.append(call)
        self._calls_signal.notify()
        try:
            if token not in self._tokens:
                raise TelegramApiError(401, "Unauthorized")
            handler = self._handlers.get(method)
            if handler is None:
                log.warning("the fake Telegram server has no method %r (404)", method)
                raise TelegramApiError(404, "Not Found: method not found")
            for rule in self._failures:
                if rule.matches(call):
                    rule.hits += 1
                    raise rule.error()
            self._check_blocked(call)
            outcome = handler(call)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except TelegramApiError as error:
            return self._record_answer(call, error)
        except TelegramRefusal as refusal:
            return self._record_answer(call, TelegramApiError(400, refusal.description))
        return self._record_answer(call, outcome)

    def _record_answer(self, call: Call, outcome: Any) -> web.Response:
        if isinstance(outcome, TelegramApiError):
            status, body = outcome.error_code, outcome.to_response()
        elif isinstance(outcome, ApiResult):
            status, body = 200, {"ok": True, "result": outcome.result}
            if outcome.description:
                body["description"] = outcome.description
        else:
            status, body = 200, {"ok": True, "result": outcome}
        call.status, call.response = status, body
        self._calls_signal.notify()
        log.debug("%s", call.describe())
        return web.json_response(body, status=status, dumps=self._dumps)

    @staticmethod
    def _dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=_json_default)

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        body = {"ok": False, "error_code": 404, "description": "Not Found"}
        return web.json_response(body, status=404)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.text()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise _bad_request("can't parse JSON object") from None
                if not isinstance(decoded, dict):
                    raise _bad_request("can't parse JSON object")
                raw.update(decoded)
        elif request.method == "POST" and request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files[key] = UploadedFile(
                        field=key,
                        file_name=value.filename or key,
                        size=len(data),
                        content_type=value.content_type or "application/octet-stream",
                        data=data,
                    )
                else:
                    raw[key] = value
        params = {key: _decode_value(key, value) for key, value in raw.items()}
        used: set[str] = set()
        params = {key: _resolve_attachments(value, files, used) for key, value in params.items()}
        for name, upload in files.items():
            if name not in used:
                params[name] = upload
        return params

    async def _handle_control(self, request: web.Request) -> web.Response:
        """Tiny HTTP remote for manual runs: ``/_fake/text``, ``/_fake/button``, ``/_fake/update``,
        ``/_fake/calls``."""
        action = request.match_info["action"]
        try:
            params = await self._read_params(request)
            if action == "calls":
                result: Any = [
                    {
                        "token": call.token,
                        "method": call.method,
                        "params": call.params,
                        "at": call.at,
                        "status": call.status,
                        "response": call.response,
                    }
                    for call in self.calls
                ]
            elif action == "text":
                result = self.send_text(
                    int(_require(params, "user_id")),
                    str(_require(params, "text")),
                    chat_id=_as_int(params, "chat_id"),
                )
            elif action == "button":
                result = self.press_button(
                    int(_require(params, "user_id")),
                    str(_require(params, "data")),
                    message_id=int(_require(params, "message_id")),
                    chat_id=_as_int(params, "chat_id"),
                )
            elif action == "update":
                result = self.push_update(params)
            else:
                return await self._handle_not_found(request)
        except (TelegramApiError, ValueError) as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=self._dumps)

    # ---------------------------------------------------------------- method table

    def _builtin_methods(self) -> dict[str, MethodHandler]:
        always_true = self._always_true
        return {
            "getMe": self._get_me,
            "logOut": always_true,
            "close": always_true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendLocation": self._send_location,
            "copyMessage": self._copy_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": always_true,
            "setMyShortDescription": always_true,
            "setMyName": always_true,
            "setChatMenuButton": always_true,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # ---------------------------------------------------------------- bot and webhook

    @staticmethod
    def _always_true(call: Call) -> bool:
        """Settings the fake accepts without keeping (bot name, descriptions, menu button)."""
        return True

    def _get_me(self, call: Call) -> dict[str, Any]:
        return copy.deepcopy(self.bot_user)

    def _set_webhook(self, call: Call) -> ApiResult:
        url = str(call.params.get("url") or "")
        if not url:
            return self._delete_webhook(call)
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if call.params.get("drop_pending_updates"):
            self._queue.clear()
        already = self._webhook.get("url") == url
        self._webhook = {
            "url": url,
            "max_connections": _as_int(call.params, "max_connections", 40),
        }
        for name in ("ip_address", "allowed_updates", "secret_token"):
            if call.params.get(name) not in (None, ""):
                self._webhook[name] = call.params[name]
        return ApiResult(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, call: Call) -> ApiResult:
        if call.params.get("drop_pending_updates"):
            self._queue.clear()
        was_set = bool(self._webhook)
        self._webhook = {}
        return ApiResult(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _get_webhook_info(self, call: Call) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        for name in ("max_connections", "ip_address", "allowed_updates"):
            if name in self._webhook:
                info[name] = self._webhook[name]
        return info

    # ---------------------------------------------------------------- getUpdates

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        if self._webhook:
            raise TelegramApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(call.params, "offset", 0) or 0
        limit = min(max(_as_int(call.params, "limit", 100) or 100, 1), 100)
        timeout = max(_as_float(call.params, "timeout", 0.0), 0.0)
        if "allowed_updates" in call.params:
            allowed = call.params["allowed_updates"]
            if allowed is not None and not isinstance(allowed, list):
                raise _bad_request("can't parse allowed updates: an array expected")
            self._allowed_updates = list(allowed) if allowed else None
        self._confirm(offset)

        poll = _Poll(call.token)
        previous = self._polls.get(call.token)
        if previous is not None:
            previous.superseded = True
        self._polls[call.token] = poll
        self._updates_signal.notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                event = self._updates_signal.current
                if poll.superseded:
                    raise TelegramApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                if self._stopping:
                    return []
                batch = self._take_batch(limit)
                remaining = deadline - loop.time()
                if batch or remaining <= 0:
                    return batch
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            if self._polls.get(call.token) is poll:
                del self._polls[call.token]

    def _confirm(self, offset: int) -> None:
        """Forget the updates an ``offset`` confirms (a negative one keeps the last -offset)."""
        if offset > 0:
            self._queue = [
                item
                for item in self._queue
                if item.update_id >= offset or (item.redeliver and not item.delivered)
            ]
        elif offset < 0:
            self._queue = sorted(self._queue, key=lambda item: item.update_id)[offset:]

    def _take_batch(self, limit: int) -> list[dict[str, Any]]:
        allowed = self._allowed_updates
        ready = [
            item
            for item in self._queue
            if (
                _update_type(item.update) in allowed
                if allowed
                else _update_type(item.update) not in _NOT_SENT_BY_DEFAULT
            )
        ]
        batch = sorted(ready, key=lambda item: item.update_id)[:limit]
        for item in batch:
            item.delivered = True
        return [copy.deepcopy(item.update) for item in batch]

    # ---------------------------------------------------------------- sending

    def _send_message(self, call: Call) -> dict[str, Any]:
        chat_id = self._target_chat(call.params)
        content = limits.message_text(call.params)
        if isinstance(options := call.params.get("link_preview_options"), dict):
            content["link_preview_options"] = options
        return self._new_bot_message(chat_id, call.params, content)

    def _send_photo(self, call: Call) -> dict[str, Any]:
        chat_id = self._target_chat(call.params)
        source = call.params.get("photo")
        if source in (None, ""):
            raise _bad_request("there is no photo in the request")
        photo = self._file_meta(source, kind="photo")
        sizes = [
            {
                "file_id": f"{photo['file_id']}_{side}",
                "file_unique_id": f"{photo['file_unique_id']}_{side}",
                "width": side,
                "height": side,
                "file_size": max(1, photo["file_size"] * side // 1280),
            }
            for side in (90, 320, 800, 1280)
        ]
        for size in sizes:  # re-sending message.photo[-1].file_id works, as on Telegram
            self._files[size["file_id"]] = copy.deepcopy(photo)
        return self._new_bot_message(
            chat_id, call.params, {"photo": sizes, **limits.message_caption(call.params)}
        )

    def _send_document(self, call: Call) -> dict[str, Any]:
        chat_id = self._target_chat(call.params)
        source = call.params.get("document")
        if source in (None, ""):
            raise _bad_request("there is no document in the request")
        document = self._file_meta(source, kind="document")
        return self._new_bot_message(
            chat_id, call.params, {"document": document, **limits.message_caption(call.params)}
        )

    def _send_location(self, call: Call) -> dict[str, Any]:
        chat_id = self._target_chat(call.params)
        latitude = _as_float(call.params, "latitude", float("nan"))
        longitude = _as_float(call.params, "longitude", float("nan"))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _bad_request("wrong latitude or longitude specified")
        location = {"latitude": latitude, "longitude": longitude}
        return self._new_bot_message(chat_id, call.params, {"location": location})

    def _copy_message(self, call: Call) -> dict[str, int]:
        chat_id = self._target_chat(call.params)
        from_chat_id = self._resolve_chat_id(_require(call.params, "from_chat_id"))
        original = self._messages.get(from_chat_id, {}).get(
            _as_int(call.params, "message_id", 0) or 0
        )
        if original is None:
            raise _bad_request("message to copy not found")
        content = {
            key: copy.deepcopy(value)
            for key, value in original.items()
            if key
            in ("text", "entities", "photo", "document", "location", "caption", "caption_entities")
        }
        if "caption" in call.params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(limits.message_caption(call.params))
        message = self._new_bot_message(chat_id, call.params, content)
        return {"message_id": message["message_id"]}

    def _send_chat_action(self, call: Call) -> bool:
        self._target_chat(call.params)
        action = call.params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _file_meta(self, source: Any, *, kind: str) -> dict[str, Any]:
        """The Telegram file object for an upload, a known file_id or an URL."""
        if isinstance(source, UploadedFile):
            number = next(self._file_numbers)
            meta = {
                "file_id": f"FAKE{kind.upper()}{number:06d}AgACAgIAAxkBAAI",
                "file_unique_id": f"AQAD{number:06d}",
                "file_name": source.file_name,
                "mime_type": source.content_type,
                "file_size": source.size,
            }
        elif isinstance(source, str) and source in self._files:
            return copy.deepcopy(self._files[source])
        elif isinstance(source, str) and source.startswith(("http://", "https://")):
            number = next(self._file_numbers)
            meta = {
                "file_id": f"FAKE{kind.upper()}{number:06d}URL",
                "file_unique_id": f"AQADURL{number:06d}",
                "file_name": source.rstrip("/").rsplit("/", 1)[-1] or "file",
                "mime_type": "application/octet-stream",
                "file_size": 1024,
            }
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if kind == "photo":
            meta.pop("file_name")
            meta.pop("mime_type")
        self._files[meta["file_id"]] = meta
        return copy.deepcopy(meta)

    def _new_bot_message(
        self, chat_id: int, params: Mapping[str, Any], content: Mapping[str, Any]
    ) -> dict[str, Any]:
        markup = limits.reply_markup(params)
        reply_to = self._replied_message(chat_id, params)
        message: dict[str, Any] = {
            "message_id": self._allocate_message_id(chat_id),
            "from": self._bot_sender(),
            "chat": self._chat_object(chat_id),
            "date": _now(),
        }
        if params.get("message_thread_id") not in (None, ""):
            message["message_thread_id"] = _as_int(params, "message_thread_id")
        if reply_to is not None:
            message["reply_to_message"] = _without_reply(reply_to)
        message.update(copy.deepcopy(dict(content)))
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._store_message(message)
        return copy.deepcopy(message)

    def _replied_message(self, chat_id: int, params: Mapping[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            target_chat = reply.get("chat_id", chat_id)
            lenient = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") not in (None, ""):
            message_id = params["reply_to_message_id"]
            target_chat = chat_id
            lenient = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        try:
            stored = self._messages.get(int(target_chat), {}).get(int(message_id))
        except (TypeError, ValueError):
            stored = None
        if stored is None and not lenient:
            raise _bad_request("message to be replied not found")
        return stored

    # ---------------------------------------------------------------- editing

    def _editable_message(self, call: Call) -> dict[str, Any] | None:
        """The stored message an edit targets; ``None`` for an inline message."""
        if call.params.get("inline_message_id") not in (None, ""):
            return None
        chat_id = self._target_chat(call.params)
        message_id = _as_int(call.params, "message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return message

    def _apply_edit(
        self, message: dict[str, Any] | None, changes: Mapping[str, Any], markup: Any
    ) -> dict[str, Any] | bool:
        """Apply an edit, or fail like Telegram when nothing changes."""
        if message is None:
            return True  # inline messages: Telegram answers True
        limits.check_modified(message, changes, markup)
        new_markup = limits.inline_keyboard(markup)
        for key, value in changes.items():
            if value in (None, [], ""):
                message.pop(key, None)
            else:
                message[key] = copy.deepcopy(value)
        if new_markup is None:
            message.pop("reply_markup", None)  # an edit without a keyboard removes it
        else:
            message["reply_markup"] = copy.deepcopy(new_markup)
        message["edit_date"] = _now()
        return copy.deepcopy(message)

    def _edit_message_text(self, call: Call) -> dict[str, Any] | bool:
        message = self._editable_message(call)
        content = limits.message_text(call.params)
        markup = limits.reply_markup(call.params)
        if message is not None and "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        return self._apply_edit(message, {"entities": None, **content}, markup)

    def _edit_message_caption(self, call: Call) -> dict[str, Any] | bool:
        message = self._editable_message(call)
        caption = limits.message_caption(call.params)
        markup = limits.reply_markup(call.params)
        if message is not None and "text" in message:
            raise _bad_request("there is no caption in the message to edit")
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        return self._apply_edit(message, changes, markup)

    def _edit_message_reply_markup(self, call: Call) -> dict[str, Any] | bool:
        message = self._editable_message(call)
        return self._apply_edit(message, {}, limits.reply_markup(call.params))

    def _delete_message(self, call: Call) -> bool:
        chat_id = self._target_chat(call.params)
        message_id = _as_int(call.params, "message_id")
        if message_id is None or self._messages.get(chat_id, {}).pop(message_id, None) is None:
            raise _bad_request("message to delete not found")
        return True

    def _answer_callback_query(self, call: Call) -> bool:
        query_id = str(_require(call.params, "callback_query_id"))
        limits.callback_answer(call.params)
        if self._callback_queries.get(query_id, True):
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._callback_queries[query_id] = True
        return True

    # ---------------------------------------------------------------- commands

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if scope in (None, "", {}):
            scope = {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        normalized = dict(scope)
        if (
            isinstance(normalized.get("chat_id"), str)
            and normalized["chat_id"].lstrip("-").isdigit()
        ):
            normalized["chat_id"] = int(normalized["chat_id"])
        return json.dumps(normalized, sort_keys=True)

    def _commands_key(self, call: Call) -> tuple[str, str]:
        language = str(call.params.get("language_code") or "")
        return self._scope_key(call.params.get("scope")), language

    def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands") or []
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand: Object expected")
            for name in ("command", "description"):
                if name not in command:
                    raise _bad_request(f"can't parse BotCommand: Can't find field \"{name}\"")
            if not _BOT_COMMAND_RE.fullmatch(str(command["command"])):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command["description"])) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(call)
        if commands:
            self._commands[key] = copy.deepcopy(commands)
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        return copy.deepcopy(self._commands.get(self._commands_key(call), []))

    def _delete_my_commands(self, call: Call) -> bool:
        self._commands.pop(self._commands_key(call), None)
        return True

    # ---------------------------------------------------------------- chats

    def _get_chat(self, call: Call) -> dict[str, Any]:
        chat_id = self._resolve_chat_id(_require(call.params, "chat_id"))
        return {
            **self._chat_object(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _get_chat_member(self, call: Call) -> dict[str, Any]:
        chat_id = self._resolve_chat_id(_require(call.params, "chat_id"))
        user_id = _as_int(call.params, "user_id")
        if user_id is None:
            raise _bad_request("user not found")
        member = self._members.get((chat_id, user_id))
        if member is None:
            member = self._default_member(user_id, "member")
        return copy.deepcopy(member)

    def _default_member(self, user_id: int, status: str) -> dict[str, Any]:
        if user_id == self.bot_user["id"]:
            user = self._bot_sender()
        else:
            user = copy.deepcopy(
                self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "Test"})
            )
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                dict.fromkeys(
                    (
                        "can_be_edited",
                        "is_anonymous",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                        "can_send_welcome_messages",
                    ),
                    False,
                )
            )
            member.update(can_manage_chat=True, can_invite_users=True)
        elif status == "restricted":
            member.update(
                dict.fromkeys(
                    (
                        "can_send_messages",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_react_to_messages",
                        "can_edit_tag",
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_manage_topics",
                    ),
                    False,
                )
            )
            member.update(is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ---------------------------------------------------------------- bookkeeping

    def _check_blocked(self, call: Call) -> None:
        if not call.method.startswith(("send", "edit", "copy", "forward")):
            return
        chat_id = str(call.params.get("chat_id", ""))
        if chat_id.lstrip("-").isdigit() and int(chat_id) in self._blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")

    def _resolve_chat_id(self, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            chat_id = value
        elif isinstance(value, str) and value.lstrip("-").isdigit():
            chat_id = int(value)
        elif isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for known_id, chat in self._chats.items():
                if str(chat.get("username", "")).lower() == name:
                    return known_id
            raise _bad_request("chat not found")
        else:
            raise _bad_request("chat not found")
        if self.strict_chats and chat_id not in self._chats:
            raise _bad_request("chat not found")
        return chat_id

    def _target_chat(self, params: Mapping[str, Any]) -> int:
        return self._resolve_chat_id(_require(params, "chat_id"))

    def _chat_object(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        user: Mapping[str, Any] | None = None,
        remember: bool = False,
    ) -> dict[str, Any]:
        """The ``chat`` of a message: the known chat, or one made up from the id's sign.

        ``remember`` makes a made-up chat known (for chats users write in).
        """
        chat_id = int(chat_id)
        known = self._chats.get(chat_id)
        if known is not None and (chat_type is None or known.get("type") == chat_type):
            return copy.deepcopy(known)
        if chat_type is None:
            if chat_id > 0:
                chat_type = "private"
            else:
                chat_type = "supergroup" if str(chat_id).startswith("-100") else "group"
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            person = user or self._users.get(chat_id) or {"first_name": "Test"}
            for name in ("first_name", "last_name", "username"):
                if person.get(name):
                    chat[name] = person[name]
        else:
            chat["title"] = "Test Channel" if chat_type == "channel" else "Test Group"
        if remember:
            self._chats[chat_id] = copy.deepcopy(chat)
        return chat

    def _remember_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": int(user_id), "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[int(user_id)] = copy.deepcopy(user)
        return user

    def _bot_sender(self) -> dict[str, Any]:
        """The bot as a message's ``from``: the User fields only, not getMe's capabilities."""
        return {
            key: self.bot_user[key]
            for key in ("id", "is_bot", "first_name", "last_name", "username")
            if key in self.bot_user
        }

    def _allocate_message_id(self, chat_id: int) -> int:
        chat_id = int(chat_id)
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store_message(self, message: Mapping[str, Any]) -> None:
        chat_id = int(message["chat"]["id"])
        message_id = int(message["message_id"])
        self._messages.setdefault(chat_id, {})[message_id] = copy.deepcopy(dict(message))
        self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), message_id + 1)

    def _learn(self, update: Mapping[str, Any]) -> None:
        """Remember the users, chats, messages and callback queries an update shows."""
        for kind in _MESSAGE_UPDATE_TYPES:
            message = update.get(kind)
            if isinstance(message, dict) and "chat" in message and "message_id" in message:
                chat = message["chat"]
                self._chats.setdefault(int(chat["id"]), copy.deepcopy(chat))
                self._store_message(message)
        payload = update.get(_update_type(update))
        if isinstance(payload, dict) and isinstance(payload.get("from"), dict):
            sender = payload["from"]
            if "id" in sender and not sender.get("is_bot"):
                self._users[int(sender["id"])] = copy.deepcopy(sender)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._callback_queries[str(query["id"])] = False


# --------------------------------------------------------------------------------------------
# Standalone
# --------------------------------------------------------------------------------------------


async def _serve(host: str, port: int, tokens: list[str]) -> None:
    server = FakeTelegramServer(tokens=tokens, host=host, port=port)
    await server.start()
    url = server.base_url
    print(f"Fake Telegram Bot API server on {url} (tokens: {', '.join(tokens)})", flush=True)
    print(
        f"  point the bot at it: TelegramAPIServer.from_base({url!r})\n"
        f"  a user writes:      curl -d user_id=1001 -d text=/start {url}/_fake/text\n"
        f"  a user presses:     curl -d user_id=1001 -d data=DATA -d message_id=2 "
        f"{url}/_fake/button\n"
        f"  recorded calls:     curl {url}/_fake/calls",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.telegram_server [--host H] [--port N] [--token T ...]``."""
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument(
        "--token", action="append", help=f"accepted token (repeatable; default {DEFAULT_TOKEN})"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every call")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    logging.getLogger("asyncio").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.token or [DEFAULT_TOKEN]))


if __name__ == "__main__":
    main()
