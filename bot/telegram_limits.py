"""What the Telegram Bot API refuses, answered as Telegram answers it.

One implementation shared by the in-process Bot API (:mod:`bot.local_session`, used by the
console and every integration test) and the HTTP fake (``tests/fakes/telegram_server.py``), so
a message the real Telegram would refuse fails everywhere with Telegram's own description:

* texts of 1–4096 characters, captions of at most 1024, counted as Telegram counts them: after
  the HTML parse mode is applied (tags do not count, ``&amp;`` is one character), in Unicode
  characters (an emoji is one: measured against the real API, 4,096 😀 pass and 4,097 do not,
  though entity offsets are in UTF-16), leading and trailing whitespace left out;
* the HTML parse mode as Telegram (tdlib) parses it: only its tags, properly nested and closed,
  a bare ``<`` refused;
* inline keyboards: callback data of 1–64 bytes, at most 100 buttons and 8 per row;
* an edit that changes neither the content nor the keyboard: "message is not modified";
* callback query answers of at most 200 characters.

The limits are Telegram's documented ones (core.telegram.org/bots/api); the button counts are
not documented there and come from what Telegram answers (tginfo/Telegram-Limits).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_BUTTONS = 100
MAX_INLINE_BUTTONS_PER_ROW = 8

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
INLINE_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


class TelegramRefusal(Exception):
    """A request Telegram answers with ``400 Bad Request: <detail>``."""

    error_code = 400

    def __init__(self, detail: str) -> None:
        self.description = f"Bad Request: {detail}"
        super().__init__(self.description)


def utf16_length(text: str) -> int:
    """Entity offsets and lengths are in UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode (as tdlib's parse_html)
# --------------------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ATTR_RE = re.compile(
    r"\s*([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{1,8});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass
class _OpenTag:
    name: str
    entity: dict[str, Any] | None
    start: int


def _parse_error(detail: str) -> TelegramRefusal:
    return TelegramRefusal(f"can't parse entities: {detail}")


def _html_attrs(source: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _HTML_ATTR_RE.finditer(source.rstrip("/ \t\r\n")):
        name, *values = match.groups()
        attrs[name.lower()] = next((value for value in values if value is not None), "")
    return attrs


def _html_entity(name: str, attrs: Mapping[str, str], stack: list[_OpenTag]) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _HTML_TAGS[name]}
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _parse_error('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        entity["url"] = attrs.get("href", "")
    elif name == "tg-emoji":
        if "emoji-id" not in attrs:
            raise _parse_error('Tag "tg-emoji" must have attribute "emoji-id"')
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "code" and stack and stack[-1].name == "pre" and stack[-1].entity is not None:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].entity["language"] = language.removeprefix("language-")
    return entity


def _decode_html_entity(name: str) -> str | None:
    if name.startswith(("#x", "#X")):
        code = int(name[2:], 16)
    elif name.startswith("#"):
        code = int(name[1:])
    else:
        return _HTML_NAMED.get(name)
    return chr(code) if 0 < code <= 0x10FFFF else None


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML parse mode into plain text and entities (UTF-16 offsets).

    Raises :class:`TelegramRefusal` (``can't parse entities: ...``) where Telegram does: an
    unsupported tag (a bare ``<`` starts a tag named ``""``), an unclosed or mismatched tag.
    A ``&`` that starts no known entity is kept as it is, as Telegram keeps it.
    """
    out: list[str] = []
    offset = 0
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "<":
            byte_offset = len(source[:position].encode())
            closing = source.startswith("</", position)
            name_start = position + (2 if closing else 1)
            name_end = name_start
            while name_end < len(source) and not (
                source[name_end].isspace() or source[name_end] == ">"
            ):
                name_end += 1
            name = source[name_start:name_end].lower()
            end = source.find(">", name_end)
            if closing and not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {byte_offset}")
            if not closing and name_end < len(source) and name not in _HTML_TAGS:
                raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
            if end == -1:
                kind = "end" if closing else "start"
                raise _parse_error(f"Unclosed {kind} tag at byte offset {byte_offset}")
            position = end + 1
            if closing:
                tag = stack.pop()
                if name and name != tag.name:  # "</>" closes whatever is open
                    raise _parse_error(
                        f"Unmatched end tag at byte offset {byte_offset}, "
                        f'expected "</{tag.name}>", found "</{name}>"'
                    )
                if tag.entity is not None and offset > tag.start:
                    entities.append(
                        {**tag.entity, "offset": tag.start, "length": offset - tag.start}
                    )
                continue
            attrs = _html_attrs(source[name_end:end])
            entity: dict[str, Any] | None = _html_entity(name, attrs, stack)
            if name == "code" and stack and stack[-1].name == "pre":
                entity = None  # <pre><code class="language-x"> is one pre entity
            elif name == "a" and not attrs.get("href"):
                entity = None
            stack.append(_OpenTag(name, entity, offset))
            continue
        if char == "&" and (match := _HTML_ENTITY_RE.match(source, position)):
            decoded = _decode_html_entity(match.group(1))
            if decoded is not None:
                out.append(decoded)
                offset += utf16_length(decoded)
                position = match.end()
                continue
        out.append(char)
        offset += utf16_length(char)
        position += 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


# --------------------------------------------------------------------------------------------
# Texts and captions
# --------------------------------------------------------------------------------------------


def formatted(
    params: Mapping[str, Any], text_key: str, entities_key: str
) -> tuple[str, list[dict[str, Any]]]:
    """The text as Telegram stores it: parsed with ``parse_mode`` unless entities are given."""
    text = params.get(text_key)
    if text in (None, ""):
        raise TelegramRefusal("message text is empty")
    text = str(text)
    entities = params.get(entities_key)
    if entities not in (None, ""):
        if not isinstance(entities, list):
            raise TelegramRefusal("can't parse entities JSON object")
        return text, copy.deepcopy(entities)
    parse_mode = params.get("parse_mode") or ""
    parse_mode = str(getattr(parse_mode, "value", parse_mode))  # ParseMode.HTML is "HTML"
    if not parse_mode:
        return text, []
    if parse_mode.lower() == "html":
        return parse_html(text)
    if parse_mode.lower() in ("markdown", "markdownv2"):
        return text, []  # not parsed here: the text is kept as sent
    raise TelegramRefusal(f"unsupported parse_mode {parse_mode!r}")


def message_text(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``text`` (and ``entities``) of sendMessage / editMessageText, or Telegram's refusal."""
    text, entities = formatted(params, "text", "entities")
    if not text.strip():
        raise TelegramRefusal("message text is empty")
    if len(text.strip()) > MAX_TEXT_LENGTH:
        raise TelegramRefusal("message is too long")
    return {"text": text, "entities": entities} if entities else {"text": text}


def message_caption(params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``caption`` (and ``caption_entities``) of a media message; ``{}`` without one."""
    if params.get("caption") in (None, ""):
        return {}
    caption, entities = formatted(params, "caption", "caption_entities")
    if len(caption.strip()) > MAX_CAPTION_LENGTH:
        raise TelegramRefusal("message caption is too long")
    return {"caption": caption, "caption_entities": entities} if entities else {"caption": caption}


# --------------------------------------------------------------------------------------------
# Keyboards, edits, callback answers
# --------------------------------------------------------------------------------------------


def reply_markup(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``reply_markup`` of a request, checked the way Telegram checks inline keyboards."""
    markup = params.get("reply_markup")
    if markup in (None, ""):
        return None
    if not isinstance(markup, dict):
        raise TelegramRefusal("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return copy.deepcopy(markup)
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise TelegramRefusal("can't parse inline keyboard button: InlineKeyboardButton expected")
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise TelegramRefusal("can't parse inline keyboard button: Text must be non-empty")
            if not INLINE_BUTTON_ACTIONS & button.keys():
                raise TelegramRefusal("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise TelegramRefusal("BUTTON_DATA_INVALID")
    too_wide = any(len(row) > MAX_INLINE_BUTTONS_PER_ROW for row in keyboard)
    if too_wide or sum(len(row) for row in keyboard) > MAX_INLINE_BUTTONS:
        raise TelegramRefusal("BUTTONS_TOO_MUCH")
    return copy.deepcopy(markup)


def inline_keyboard(markup: Any) -> dict[str, Any] | None:
    """The part of a markup a message keeps (and Telegram echoes): inline keyboards only."""
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def check_modified(
    message: Mapping[str, Any], changes: Mapping[str, Any], markup: dict[str, Any] | None
) -> None:
    """Refuse an edit that leaves the message's content and keyboard exactly as they are.

    ``changes`` maps the message's fields (``text``, ``entities``, ``caption``...) to their new
    values, ``None`` for absent; ``markup`` is the new inline keyboard (``None`` removes it).
    """
    same_content = all(message.get(key) == (value or None) for key, value in changes.items())
    if same_content and message.get("reply_markup") == inline_keyboard(markup):
        raise TelegramRefusal(NOT_MODIFIED)


def callback_answer(params: Mapping[str, Any]) -> None:
    """answerCallbackQuery: the notification text is 0–200 characters."""
    if len(str(params.get("text") or "")) > MAX_CALLBACK_ANSWER_LENGTH:
        raise TelegramRefusal("MESSAGE_TOO_LONG")
