"""The deep link that binds an account to a household, and its QR code for the paper card."""

from __future__ import annotations

import io

import segno

from db.bindings import normalize_code

START_PREFIX = "bind_"  # /start bind_K7MQ4QXA


def bind_link(bot_username: str, code: str) -> str:
    """https://t.me/<bot>?start=bind_<code>: opening it in Telegram sends /start bind_<code>."""
    return f"https://t.me/{bot_username}?start={START_PREFIX}{normalize_code(code)}"


def qr_png(link: str) -> bytes:
    """The link as a QR code PNG, large enough to print (≈400 px, 10 px a module)."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
