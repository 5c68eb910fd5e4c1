"""繁體 readers see the Taiwan standard forms (吃, 為, 裡, 著), not OpenCC's 喫, 爲, 裏, 着."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from knowledge.normalize import to_traditional
from tools.hant_from_hans import converted

HANT = Path(__file__).resolve().parents[2] / "locales" / "zh_Hant" / "LC_MESSAGES" / "messages.po"
NOT_TAIWAN = "喫爲裏着羣覈纔"


def test_conversion_gives_taiwan_forms() -> None:
    assert to_traditional("吃饭为什么住在村里，等着") == "吃飯為什麼住在村裡，等著"
    assert to_traditional("红星村") == "紅星村"
    # Characters only: the documents' words stay (no 信息 → 資訊).
    assert to_traditional("信息") == "信息"


def test_no_zh_hant_string_has_the_mainland_traditional_forms() -> None:
    with HANT.open("rb") as file:
        catalog = read_po(file, locale="zh_Hant")
    wrong = [
        message.string
        for message in catalog
        if message.id and any(char in NOT_TAIWAN for char in "".join(message.string))
    ]
    assert wrong == []


def test_refresh_converts_machine_strings_again_and_keeps_hand_wording() -> None:
    machine = Message("Your home", "家裏")
    assert converted(machine, "家里", refresh=True) == "家裡"
    assert converted(machine, "家里", refresh=False) is None
    hand = Message("Stay here", "留在這裏吧")  # worded by hand, not OpenCC's 家裏
    assert converted(hand, "待在这里", refresh=True) == "留在這裡吧"
    assert converted(Message("New", ""), "为了", refresh=False) == "為了"
