"""Binding codes: easy to read over the phone, typed any way; the link and its QR code."""

from __future__ import annotations

import re

from bot.bind_links import bind_link, qr_png
from db.bindings import ALPHABET, code_hash, new_code, normalize_code
from tests.qr_check import assert_qr_of


def test_codes_are_two_groups_of_four_without_look_alike_characters() -> None:
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", code)
    assert not set("01258BILOSZ") & set(ALPHABET)


def test_typed_codes_tolerate_case_spaces_and_dashes() -> None:
    for typed in ("k7mq-4qxa", " K7MQ 4QXA ", "K7MQ4QXA", "k7mq—4qxa"):
        assert normalize_code(typed) == "K7MQ4QXA"
        assert code_hash(typed) == code_hash("K7MQ-4QXA")
    assert code_hash("K7MQ-4QXB") != code_hash("K7MQ-4QXA")
    assert "K7MQ" not in code_hash("K7MQ-4QXA")


def test_the_link_opens_the_bot_with_the_code_and_its_qr_code_shows_the_link() -> None:
    link = bind_link("huhuqing_bot", "k7mq-4qxa")
    assert link == "https://t.me/huhuqing_bot?start=bind_K7MQ4QXA"
    assert_qr_of(qr_png(link), link)
