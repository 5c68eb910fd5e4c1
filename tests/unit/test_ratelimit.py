"""Outbound messages wait for the chat's budget instead of hitting Telegram's 429."""

from __future__ import annotations

import asyncio
import time

from aiogram import Bot

from bot.local_session import LocalSession
from bot.ratelimit import Limits, RateLimiter


def limited_bot(limits: Limits) -> tuple[Bot, LocalSession]:
    session = LocalSession()
    session.middleware(RateLimiter(limits))
    return Bot("1:test", session=session), session


async def send_many(bot: Bot, chats: list[int]) -> float:
    started = time.monotonic()
    await asyncio.gather(*(bot.send_message(chat, "hi") for chat in chats))
    return time.monotonic() - started


async def test_one_chat_is_paced_and_other_chats_are_not_held_up() -> None:
    bot, session = limited_bot(Limits(per_chat=(2, 0.4), per_group=(2, 0.4), overall=(100, 1)))
    assert await send_many(bot, [1, 1, 1, 1]) >= 0.3  # the 3rd and 4th waited
    assert len(session.sent("sendMessage")) == 4
    assert await send_many(bot, [11, 12, 13, 14]) < 0.2


async def test_groups_have_their_own_budget() -> None:
    bot, _ = limited_bot(Limits(per_chat=(100, 1), per_group=(1, 0.4), overall=(100, 1)))
    assert await send_many(bot, [-100, -100]) >= 0.3
    assert await send_many(bot, [5, 5]) < 0.2


async def test_methods_without_a_chat_are_not_limited() -> None:
    bot, _ = limited_bot(Limits(per_chat=(1, 10), per_group=(1, 10), overall=(1, 10)))
    started = time.monotonic()
    for _ in range(3):
        await bot.get_me()
    assert time.monotonic() - started < 0.2
