"""Waiting for an event never swallows a cancellation (Python 3.11's wait_for does)."""

from __future__ import annotations

import asyncio

import pytest

from bot.waiting import wait_set


async def test_a_cancellation_in_the_turn_the_event_is_set_still_cancels() -> None:
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_set(event, 10))
    await asyncio.sleep(0)  # the waiter is waiting on the event
    event.set()  # a handler finishes...
    waiter.cancel()  # ...as the loop around the wait is cancelled
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    event.set()
    assert await wait_set(event, 10) is True
