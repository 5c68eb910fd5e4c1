"""The in-process Bot API refuses what Telegram refuses, with Telegram's own description."""

from __future__ import annotations

import io

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.local_session import LocalSession
from bot.runners.console import Console
from bot.telegram_limits import NOT_MODIFIED, parse_html

CHAT = 5


@pytest.fixture
def session() -> LocalSession:
    return LocalSession()


@pytest.fixture
def bot(session: LocalSession) -> Bot:
    return Bot("1:TEST", session=session, default=DefaultBotProperties(parse_mode="HTML"))


def keyboard(rows: int, per_row: int, data: str = "x") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=f"{row}.{col}", callback_data=data)
                for col in range(per_row)
            ]
            for row in range(rows)
        ]
    )


async def refusal(call: object) -> str:
    with pytest.raises(TelegramBadRequest) as raised:
        await call  # type: ignore[misc]
    return raised.value.message


async def test_a_text_counts_what_the_user_sees_up_to_4096(bot: Bot) -> None:
    await bot.send_message(CHAT, "<b>" + "水" * 4096 + "</b>")  # tags do not count
    await bot.send_message(CHAT, "&amp;" * 4096)  # an entity is one character
    await bot.send_message(CHAT, "😀" * 4096)  # an emoji is one character
    too_long = await refusal(bot.send_message(CHAT, "水" * 4097))
    assert too_long == "Bad Request: message is too long"
    assert await refusal(bot.send_message(CHAT, "&amp;" * 4097)) == too_long


async def test_an_empty_text_is_refused(bot: Bot) -> None:
    assert await refusal(bot.send_message(CHAT, "<b> </b>\n")) == (
        "Bad Request: message text is empty"
    )


async def test_a_caption_is_at_most_1024(bot: Bot) -> None:
    photo = BufferedInputFile(b"png", "chart.png")
    await bot.send_photo(CHAT, photo, caption="图" * 1024)
    assert await refusal(bot.send_photo(CHAT, photo, caption="图" * 1025)) == (
        "Bad Request: message caption is too long"
    )


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("水价 < 5 元", 'Unsupported start tag "" at byte offset 7'),
        ("a<b", "Unclosed start tag at byte offset 1"),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>粗", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_html_telegram_cannot_parse_is_refused(bot: Bot, text: str, description: str) -> None:
    assert await refusal(bot.send_message(CHAT, text)) == (
        f"Bad Request: can't parse entities: {description}"
    )


def test_html_telegram_accepts_is_parsed_into_entities() -> None:
    text, entities = parse_html(
        '<b>粗</b> &lt;5&gt; A&B <a href="https://x.cn">链</a> <tg-spoiler>秘</tg-spoiler>'
    )
    assert text == "粗 <5> A&B 链 秘"
    assert [entity["type"] for entity in entities] == ["bold", "text_link", "spoiler"]


async def test_callback_data_is_1_to_64_bytes(bot: Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(1, 1, "数" * 21))  # 63 bytes
    for data in ("数" * 22, ""):  # 66 bytes; empty
        assert await refusal(bot.send_message(CHAT, "x", reply_markup=keyboard(1, 1, data))) == (
            "Bad Request: BUTTON_DATA_INVALID"
        )


async def test_at_most_100_buttons_and_8_per_row(bot: Bot) -> None:
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(12, 8))  # 96
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(100, 1))
    for markup in (keyboard(101, 1), keyboard(1, 9)):
        assert await refusal(bot.send_message(CHAT, "x", reply_markup=markup)) == (
            "Bad Request: BUTTONS_TOO_MUCH"
        )


async def test_an_edit_that_changes_nothing_is_not_modified(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "<b>第 1 页</b>", reply_markup=keyboard(1, 2))
    same = bot.edit_message_text(
        "<b>第 1 页</b>", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard(1, 2)
    )
    assert await refusal(same) == f"Bad Request: {NOT_MODIFIED}"
    markup = bot.edit_message_reply_markup(
        chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard(1, 2)
    )
    assert await refusal(markup) == f"Bad Request: {NOT_MODIFIED}"
    # A change of formatting, of text or of buttons is an edit.
    await bot.edit_message_text(
        "第 1 页", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard(1, 2)
    )
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id)


async def test_a_callback_answer_is_at_most_200_characters(bot: Bot) -> None:
    await bot.answer_callback_query("q1", text="已" * 200, show_alert=True)
    assert await refusal(bot.answer_callback_query("q2", text="已" * 201)) == (
        "Bad Request: MESSAGE_TOO_LONG"
    )


async def test_the_console_shows_a_refused_message_as_an_error(
    bot: Bot, session: LocalSession
) -> None:
    out = io.StringIO()
    Console(None, bot, session, user_id=CHAT, language_code="zh-hans", out=out)  # type: ignore[arg-type]
    await bot.send_message(CHAT, "好的")
    await refusal(bot.send_message(CHAT, "水" * 4097))
    assert out.getvalue() == (
        "bot> 好的\n  ✗ sendMessage refused: Bad Request: message is too long\n"
    )
