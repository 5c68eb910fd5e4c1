"""Self-test of the fake Bot API server, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from .telegram_server import DEFAULT_TOKEN, Call, FakeTelegramServer, UploadedFile

USER = 1001
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="选村", callback_data="rn:"),
            InlineKeyboardButton(text="Help", url="https://example.org/help"),
        ]
    ]
)


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as fake:
        yield fake


class LocalAiohttpSession(AiohttpSession):
    """aiogram's own HTTP session, minus the 250 ms pause ``close()`` makes for TLS connections.

    There is no TLS to localhost, and that pause per bot would be most of this file's run time.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: FakeTelegramServer, token: str = DEFAULT_TOKEN) -> Bot:
    """A real aiogram Bot talking HTTP to the fake server."""
    session = LocalAiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(token=token, session=session)


def dump(value: Any) -> Any:
    """aiogram objects as plain data (objects bound to a bot never equal fresh ones)."""
    if isinstance(value, list):
        return [dump(item) for item in value]
    return value.model_dump(exclude_none=True) if value is not None else None


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    bot = make_bot(server)
    yield bot
    await bot.session.close()


# ------------------------------------------------------------------------------- basics


async def test_get_me(bot: Bot, server: FakeTelegramServer) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.first_name, me.username) == (42, True, "Huhuqing", "huhuqing_bot")
    assert me.can_join_groups is True
    [call] = server.calls_of("getme")
    assert (call.token, call.method, call.params, call.ok) == (DEFAULT_TOKEN, "getMe", {}, True)


async def test_send_message_records_the_decoded_keyboard(
    bot: Bot, server: FakeTelegramServer
) -> None:
    first = await bot.send_message(USER, "选择你的村", reply_markup=KEYBOARD)
    second = await bot.send_message(USER, "again")
    in_group = await bot.send_message(-1001234, "大家好")

    call = server.calls_of("sendMessage")[0]
    assert call.params == {
        "chat_id": USER,
        "text": "选择你的村",
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "选村", "callback_data": "rn:"},
                    {"text": "Help", "url": "https://example.org/help"},
                ]
            ]
        },
    }
    assert (first.message_id, second.message_id, in_group.message_id) == (1, 2, 1)
    assert first.from_user is not None
    assert first.from_user.username == "huhuqing_bot"
    assert (first.chat.id, first.chat.type) == (USER, "private")
    assert (in_group.chat.type, in_group.chat.title) == ("supergroup", "Test Group")
    assert dump(first.reply_markup) == dump(KEYBOARD)
    assert second.reply_markup is None
    assert server.sent_texts() == ["选择你的村", "again", "大家好"]
    assert server.sent_texts(chat_id=USER) == ["选择你的村", "again"]


async def test_edit_message_text(bot: Bot, server: FakeTelegramServer) -> None:
    sent = await bot.send_message(USER, "old", reply_markup=KEYBOARD)

    edited = await bot.edit_message_text(
        "new", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert isinstance(edited, Message)
    assert (edited.message_id, edited.text) == (sent.message_id, "new")
    assert dump(edited.reply_markup) == dump(KEYBOARD)
    assert edited.edit_date is not None

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "new", chat_id=USER, message_id=sent.message_id, reply_markup=KEYBOARD
        )
    without_keyboard = await bot.edit_message_text("newer", chat_id=USER, message_id=1)
    assert isinstance(without_keyboard, Message)
    assert without_keyboard.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=99)
    assert server.get_message(USER, 1)["text"] == "newer"
    assert server.sent_texts() == ["old", "new", "newer"]


async def test_html_parse_mode_is_parsed_and_checked(bot: Bot, server: FakeTelegramServer) -> None:
    sent = await bot.send_message(
        USER, "<b>户户清</b> &amp; <a href='https://x.org'>x</a>", parse_mode="HTML"
    )

    assert sent.text == "户户清 & x"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 3),
        ("text_link", 6, 1),
    ]
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br" at byte offset 1'):
        await bot.send_message(USER, "a<br>b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start tag"):
        await bot.send_message(USER, "<i>open", parse_mode="HTML")


async def test_my_commands_per_scope_and_language(bot: Bot, server: FakeTelegramServer) -> None:
    menu = [
        BotCommand(command="start", description="开始"),
        BotCommand(command="help", description="帮助"),
    ]
    assert await bot.set_my_commands(menu, language_code="zh")
    assert await bot.set_my_commands(menu[:1], scope=BotCommandScopeChat(chat_id=USER))

    assert dump(await bot.get_my_commands(language_code="zh")) == dump(menu)
    assert await bot.get_my_commands() == []
    chat_scope = BotCommandScopeChat(chat_id=USER)
    assert dump(await bot.get_my_commands(scope=chat_scope)) == dump(menu[:1])
    call = server.calls_of("setMyCommands")[0]
    assert call.params["commands"] == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    assert server.commands_for(language_code="zh") == call.params["commands"]

    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == []


# ------------------------------------------------------------------------------- updates


async def test_long_poll_returns_as_soon_as_an_update_is_pushed(
    bot: Bot, server: FakeTelegramServer
) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for("getUpdates")
    pushed_at = time.monotonic()
    server.send_text(USER, "/start", first_name="阿明")

    updates = await asyncio.wait_for(polling, 2)

    assert time.monotonic() - pushed_at < 1
    [update] = updates
    assert update.update_id == 1
    message = update.message
    assert message is not None
    assert message.text == "/start"
    assert message.from_user is not None
    assert message.from_user.first_name == "阿明"
    assert message.from_user.language_code == "zh-hans"
    assert message.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bot_command", 0, 6)]


async def test_long_poll_returns_nothing_after_its_timeout(bot: Bot) -> None:
    started = time.monotonic()

    assert await bot.get_updates(timeout=1) == []

    assert 0.9 < time.monotonic() - started < 2


async def test_stopping_the_server_ends_a_pending_long_poll(
    bot: Bot, server: FakeTelegramServer
) -> None:
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for("getUpdates")
    started = time.monotonic()

    await server.stop()

    assert await asyncio.wait_for(polling, 1) == []
    assert time.monotonic() - started < 0.5


async def test_offset_confirms_updates(bot: Bot, server: FakeTelegramServer) -> None:
    for text in ("one", "two", "three"):
        server.send_text(USER, text)

    assert [u.update_id for u in await bot.get_updates(limit=2)] == [1, 2]
    assert [u.update_id for u in await bot.get_updates()] == [1, 2, 3]  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=3)] == [3]
    assert await bot.get_updates(offset=4) == []
    assert server.pending_updates == []

    again = server.send_text(USER, "four")
    server.push_update(again, keep_id=True)  # Telegram delivering the same update twice
    assert [u.update_id for u in await bot.get_updates(offset=4)] == [4, 4]
    assert await bot.get_updates(offset=5) == []


async def test_webhook_and_get_updates_conflict(bot: Bot, server: FakeTelegramServer) -> None:
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == []


async def test_press_button_carries_the_sent_message(bot: Bot, server: FakeTelegramServer) -> None:
    sent = await bot.send_message(USER, "选择你的村", reply_markup=KEYBOARD)
    server.press_button(USER, "rn:", message_id=sent.message_id)

    [update] = await bot.get_updates()

    query = update.callback_query
    assert query is not None
    assert query.data == "rn:"
    assert isinstance(query.message, Message)
    assert query.message.text == "选择你的村"
    assert dump(query.message.reply_markup) == dump(KEYBOARD)
    assert await bot.answer_callback_query(query.id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


# ------------------------------------------------------------------------------- failures


async def test_429_surfaces_as_retry_after(bot: Bot, server: FakeTelegramServer) -> None:
    rule = server.fail_next("sendMessage", 429, retry_after=3)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "hi")

    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in caught.value.message
    assert server.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert rule.hits == 1
    await bot.send_message(USER, "hi")  # only the next call failed
    assert server.sent_texts() == ["hi"]


async def test_403_when_the_user_blocked_the_bot(bot: Bot, server: FakeTelegramServer) -> None:
    server.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=7)

    await bot.send_message(USER, "not this chat")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(7, "this one")

    server.block_user(8)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(8, "blocked for good")


async def test_text_over_4096_characters_is_rejected(bot: Bot, server: FakeTelegramServer) -> None:
    await bot.send_message(USER, "字" * 4096)

    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "字" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, " ")
    assert [call.status for call in server.calls_of("sendMessage")] == [200, 400, 400]


async def test_the_shared_telegram_limits_are_enforced_over_http(
    bot: Bot, server: FakeTelegramServer
) -> None:
    """The rules of bot.telegram_limits, answered over the wire as Telegram answers them."""
    wide = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=str(n), callback_data="x") for n in range(9)]]
    )
    refused = {
        "Bad Request: BUTTONS_TOO_MUCH": bot.send_message(USER, "x", reply_markup=wide),
        "Bad Request: message caption is too long": bot.send_photo(
            USER, BufferedInputFile(b"png", "a.png"), caption="图" * 1025
        ),
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2': (
            bot.send_message(USER, "a < b", parse_mode="HTML")
        ),
    }
    for description, request in refused.items():
        with pytest.raises(TelegramBadRequest) as raised:
            await request
        assert raised.value.message == description
    sent = await bot.send_message(USER, "选", reply_markup=KEYBOARD)
    query_id = server.press_button(USER, "rn:", message_id=sent.message_id)["callback_query"]["id"]
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="已" * 201)
    await bot.send_message(USER, "😀" * 4096)  # Telegram counts characters, not UTF-16 units


async def test_unknown_token_is_unauthorized(server: FakeTelegramServer) -> None:
    intruder = make_bot(server, token="13:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    [call] = server.calls
    assert (call.token, call.status, call.response) == (
        "13:WRONG",
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )


async def test_raw_wire_format(server: FakeTelegramServer) -> None:
    api = f"{server.base_url}/bot{DEFAULT_TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{api}/GETME") as response:
            assert response.status == 200
            assert (await response.json())["result"]["username"] == "huhuqing_bot"
        async with http.post(f"{api}/sendPoll", data={"chat_id": "1"}) as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        payload = {"chat_id": "5", "text": "123", "reply_markup": markup}
        async with http.post(f"{api}/sendmessage", json=payload) as response:
            body = await response.json()
            assert body["ok"]
            assert body["result"]["text"] == "123"
        async with http.get(f"{api}/getUpdates", params={"timeout": "0.1"}) as response:
            assert await response.json() == {"ok": True, "result": []}
    sent = server.calls_of("sendMessage")[0]
    assert sent.params == {"chat_id": 5, "text": "123", "reply_markup": markup}


async def test_files_are_accepted_and_recorded(bot: Bot, server: FakeTelegramServer) -> None:
    photo = await bot.send_photo(USER, BufferedInputFile(b"\xff" * 2048, "map.jpg"), caption="地图")
    document = await bot.send_document(USER, BufferedInputFile(b"%PDF" * 10, "policy.pdf"))

    uploaded = server.calls_of("sendPhoto")[0].params["photo"]
    assert isinstance(uploaded, UploadedFile)
    assert (uploaded.file_name, uploaded.size) == ("map.jpg", 2048)
    assert photo.photo
    assert photo.caption == "地图"
    assert document.document is not None
    assert (document.document.file_name, document.document.file_size) == ("policy.pdf", 40)
    again = await bot.send_photo(USER, photo.photo[-1].file_id)  # re-sending by file_id
    assert again.photo
    assert again.photo[-1].file_size == 2048
    assert server.sent_texts() == ["地图"]


async def test_wait_for_times_out_with_the_recent_calls(
    bot: Bot, server: FakeTelegramServer
) -> None:
    await bot.send_message(USER, "hello")
    since = server.mark()
    await bot.get_me()

    assert (await server.wait_for("sendMessage")).params["text"] == "hello"
    with pytest.raises(TimeoutError, match=r"(?s)no a sendMessage call.*#1 getMe\(\) -> ok"):
        await server.wait_for("sendMessage", since=since, timeout=0.05)


# ------------------------------------------------------------------------------- a real bot


async def test_dispatcher_polling_answers_start(bot: Bot, server: FakeTelegramServer) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.from_user.first_name if message.from_user else ""
        await message.answer(f"你好, {name}!")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    await server.wait_for("getUpdates")

    server.send_text(USER, "/start", first_name="阿明")
    reply: Call = await server.wait_for("sendMessage", lambda call: call.ok)

    assert reply.params["chat_id"] == USER
    assert reply.params["text"] == "你好, 阿明!"
    poll = server.calls_of("getUpdates")[0]
    assert poll.params["allowed_updates"] == ["message"]
    await dispatcher.stop_polling()
    await asyncio.wait_for(polling, 5)
