"""Outbound messages keep to Telegram's limits from the first second, and a 429 is waited out."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.local_session import LocalSession
from bot.ratelimit import Limits, MemoryBuckets, Rate, RateLimiter


class FakeClock:
    """Time that passes only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def clocked_bot(
    limits: Limits | None = None, pace: bool = True
) -> tuple[Bot, LocalSession, FakeClock, list[float]]:
    """A limited bot on a fake clock, and the time each request reached Telegram."""
    clock = FakeClock()
    sent_at: list[float] = []
    session = LocalSession(on_call=lambda _: sent_at.append(clock()))
    limiter = RateLimiter(
        limits, buckets=MemoryBuckets(clock), sleep=clock.sleep, clock=clock, pace=pace
    )
    session.middleware(limiter)
    return Bot("1:test", session=session), session, clock, sent_at


def most_in_any_window(times: list[float], width: float) -> int:
    return max(sum(1 for other in times if start <= other < start + width) for start in times)


async def test_no_more_than_30_messages_in_the_first_second_or_any_other() -> None:
    bot, session, _, sent_at = clocked_bot()
    for chat in range(1, 101):
        await bot.send_message(chat, "hi")
    assert len(session.sent("sendMessage")) == 100
    assert sum(1 for at in sent_at if at < 1) <= 30
    assert most_in_any_window(sent_at, 1) <= 30
    assert sent_at[-1] < 100 / 28 + 0.1  # and not slower than the spacing of 28 a second


async def test_a_private_chat_gets_a_short_burst_then_one_a_second() -> None:
    bot, _, _, sent_at = clocked_bot()
    for _ in range(10):
        await bot.send_message(7, "hi")
    assert sent_at[2] < 0.1  # an answer and its follow-ups go out at once (at the overall pace)
    assert all(at >= index - 2 for index, at in enumerate(sent_at))  # then one a second
    assert all(later - earlier >= 1 - 1e-9 for earlier, later in itertools.pairwise(sent_at[3:]))
    assert most_in_any_window(sent_at, 1) <= 3


async def test_a_group_gets_no_more_than_20_a_minute() -> None:
    bot, _, _, sent_at = clocked_bot()
    for _ in range(45):
        await bot.send_message(-100123, "新案件")
    assert sum(1 for at in sent_at if at < 60) <= 20
    assert most_in_any_window(sent_at, 60) <= 20
    assert sent_at[-1] < 140


async def test_the_first_second_holds_30_messages_in_real_time_too() -> None:
    """The old limiter let a full bucket through at once and refilled it: ~60 in a second."""
    started = time.monotonic()
    sent_at: list[float] = []
    session = LocalSession(on_call=lambda _: sent_at.append(time.monotonic() - started))
    session.middleware(RateLimiter())
    bot = Bot("1:test", session=session)
    await asyncio.gather(*(bot.send_message(chat, "hi") for chat in range(1, 46)))
    assert len(sent_at) == 45
    assert sum(1 for at in sent_at if at < 1) <= 30


async def test_one_chat_is_paced_and_other_chats_are_not_held_up() -> None:
    limits = Limits(per_chat=Rate(1, 0.2, burst=2), overall=Rate(100, 1), spacing=0.01)
    bot, _, clock, sent_at = clocked_bot(limits)
    for _ in range(4):
        await bot.send_message(1, "hi")
    assert sent_at == pytest.approx([0, 0.01, 0.2, 0.4])
    before = clock.now
    for chat in (11, 12, 13, 14):
        await bot.send_message(chat, "hi")
    assert clock.now - before == pytest.approx(0.04)  # the overall pace only


async def test_methods_without_a_chat_are_not_limited() -> None:
    bot, _, clock, _ = clocked_bot(Limits(overall=Rate(1, 10)))
    for _ in range(3):
        await bot.get_me()
    assert clock.slept == []


async def test_a_429_is_waited_out_and_the_message_sent_again() -> None:
    bot, session, clock, _ = clocked_bot()
    session.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    message = await bot.send_message(5, "已收到")
    assert message.text == "已收到"
    assert 3 in clock.slept
    assert [call.result is not None for call in session.sent("sendMessage")] == [False, True]


async def test_a_long_or_repeated_429_is_raised_for_the_caller_to_reschedule() -> None:
    bot, session, clock, _ = clocked_bot()
    session.fail_next("sendMessage", 429, "Too Many Requests: retry after 600", retry_after=600)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(5, "hi")
    assert 600 not in clock.slept
    for _ in range(3):
        session.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(5, "hi")
    assert len(session.sent("sendMessage")) == 4  # once, then once and two more times


async def test_pacing_switched_off_sends_at_once_but_still_waits_out_a_429() -> None:
    bot, session, clock, sent_at = clocked_bot(pace=False)
    for chat in (7, 7, 7, 7, 8, -100123):
        await bot.send_message(chat, "hi")
    assert sent_at == [0.0] * 6
    session.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    await bot.send_message(7, "hi")
    assert clock.slept == [3]


async def test_sends_woken_late_together_still_leave_spaced() -> None:
    """The event loop is blocked now and then (a long computation): the sends that fell due
    meanwhile leave spaced out afterwards, not all at once (real time, about 2.5 s)."""
    left: list[float] = []
    session = LocalSession(on_call=lambda _: left.append(time.monotonic()))
    session.middleware(RateLimiter())
    bot = Bot("1:test", session=session)

    async def block_the_loop() -> None:
        for _ in range(4):
            await asyncio.sleep(0.3)
            time.sleep(0.3)  # noqa: ASYNC251 - the point: nothing runs meanwhile

    await asyncio.gather(block_the_loop(), *(bot.send_message(c, "hi") for c in range(1, 61)))
    assert most_in_any_window(left, 1) <= 30
