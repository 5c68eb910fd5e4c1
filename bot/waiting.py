"""Waiting for an event with a time limit, without losing a cancellation.

On Python 3.11, ``asyncio.wait_for`` swallows a cancellation that arrives in the same loop turn as
the awaited result (python/cpython#86296, fixed in 3.12): a loop that waits on an event that is
set often — the polling loop while handlers finish, the outbox worker while lanes close — then
runs on after it was cancelled, and whoever awaits it waits for ever.
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``event``; whether it is set. A cancellation always propagates."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
