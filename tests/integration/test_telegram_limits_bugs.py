"""Bugs the strict in-process Bot API revealed: what the user gets now instead of an error."""

from __future__ import annotations

from db.models import Region
from db.region_keys import region_key
from db.session import Database
from handlers.places import MAX_PLACE_BUTTONS
from tests.harness import BotHarness, texts_of

NEWCOMER = 612
TOWNSHIP = "220122101"  # 合隆镇 of the sample regions
SHARED_NAME = "新村"  # thousands of villages in China are called so


async def add_villages_named(database: Database, name: str, count: int) -> None:
    async with database.sessionmaker() as session:
        session.add_all(
            Region(
                code=f"{TOWNSHIP}{900 + number}",
                name=name,
                level="village",
                parent_code=TOWNSHIP,
                key=region_key(name),
            )
            for number in range(count)
        )
        await session.commit()


async def test_a_name_shared_by_over_a_hundred_villages_offers_the_first_ones(
    harness: BotHarness, database: Database
) -> None:
    # Before: one button per match, 120 buttons, refused by Telegram (BUTTONS_TOO_MUCH): the
    # user got "抱歉，出了点问题" and could never choose a village by typing its name.
    await add_villages_named(database, SHARED_NAME, 120)
    await harness.send(NEWCOMER, "/start")
    [offer] = await harness.send(NEWCOMER, SHARED_NAME)
    assert offer.error is None
    assert len(offer.buttons) == MAX_PLACE_BUTTONS
    assert "共 120 个，这里只列出前 20 个" in offer.text
    assert "出了点问题" not in texts_of([offer])
    chosen = await harness.press(NEWCOMER, offer.buttons[0][0])
    assert "已保存" in texts_of(chosen)


async def test_a_report_placed_in_a_shared_village_name_offers_the_first_ones(
    harness: BotHarness, database: Database
) -> None:
    # The same refused keyboard stopped a report whose place was typed by a villager with no
    # village on record.
    await add_villages_named(database, SHARED_NAME, 120)
    await harness.send(NEWCOMER, "/report")
    await harness.press_prefix(NEWCOMER, "rc:water")
    [offer] = await harness.send(NEWCOMER, SHARED_NAME)
    assert offer.error is None
    assert len(offer.buttons) == MAX_PLACE_BUTTONS
    assert "共 120 个，这里只列出前 20 个" in offer.text
