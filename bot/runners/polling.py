"""`huhuqing run`: long polling against Telegram (or the Bot API server in the settings).

aiogram's own polling confirms an update (the next getUpdates' offset) as soon as it has been
handed to a task, so a crash drops the updates still being handled. This loop handles updates
concurrently too, but confirms only up to the oldest one still being handled: an update whose
handler had not finished when the process died is delivered again on restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.config import Settings
from bot.runners.common import running_bot
from bot.waiting import wait_set

log = logging.getLogger(__name__)
POLL_SECONDS = 10
DRAIN_SECONDS = 10
LIMIT = 100  # updates per getUpdates, Telegram's most
BUSY_POLL_SECONDS = 0.5  # how often to look for new updates while all are being handled
GATHER_SECONDS = 0.02
# An update still being handled after this is given up (and confirmed): one stuck handler must
# not hold the offset, and with it every update after it, for ever.
HANDLER_SECONDS = 120.0
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


async def run_polling(settings: Settings) -> None:
    async with running_bot(settings) as (bot, dispatcher):
        await bot.delete_webhook(drop_pending_updates=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        await poll(bot, dispatcher, stop=stop)


class _Window:
    """The updates taken from Telegram and not yet confirmed to it."""

    def __init__(self) -> None:
        self.running: dict[int, asyncio.Task[Any]] = {}
        self.seen: set[int] = set()  # ids at or above the offset, running or finished
        self.highest = -1
        self.changed = asyncio.Event()

    def offset(self) -> int | None:
        """Everything below the oldest running update has been handled: confirm up to it."""
        if self.running:
            return min(self.running)
        return self.highest + 1 if self.highest >= 0 else None

    def forget_below(self, offset: int) -> None:
        self.seen = {update_id for update_id in self.seen if update_id >= offset}

    def finished(self, update_id: int) -> None:
        self.running.pop(update_id, None)
        self.changed.set()


async def poll(
    bot: Bot,
    dispatcher: Dispatcher,
    stop: asyncio.Event | None = None,
    timeout: int = POLL_SECONDS,
) -> None:
    """Take updates and handle them concurrently; never confirm an unfinished one.

    When ``stop`` is set, the handlers running finish (for up to DRAIN_SECONDS) and what they
    handled is confirmed. Cancelling stops them without confirming anything, as a crash would:
    they are handled again on the next start.
    """
    stop = stop or asyncio.Event()
    window = _Window()
    backoff = Backoff(config=BACKOFF)
    allowed = dispatcher.resolve_used_update_types()
    stopping = asyncio.create_task(stop.wait())
    fetch: asyncio.Task[list[Update]] | None = None
    failing = False
    try:
        while not stop.is_set():
            window.changed.clear()
            offset = window.offset()
            if offset is not None:
                window.forget_below(offset)
            busy = bool(window.running)
            request = GetUpdates(
                offset=offset, limit=LIMIT, timeout=0 if busy else timeout, allowed_updates=allowed
            )
            fetch = asyncio.create_task(bot(request, request_timeout=timeout + 30))
            await asyncio.wait((fetch, stopping), return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                break
            try:
                updates = fetch.result()
            except Exception as error:  # Telegram unreachable: retry, never stop
                if not failing:  # once an outage, not at every retry
                    log.warning(
                        "getUpdates failed (%s); trying again with backoff until Telegram answers",
                        type(error).__name__,
                    )
                failing = True
                await backoff.asleep()
                continue
            if failing:
                log.warning("Telegram answers again; taking updates")
                failing = False
            backoff.reset()
            fresh = [update for update in updates if update.update_id not in window.seen]
            for update in fresh:
                _start(bot, dispatcher, window, update)
            if window.running and (len(updates) < LIMIT or not fresh):
                # Every update within reach is being handled: wait for one to finish (the
                # offset moves) or look again shortly for updates that arrived meanwhile.
                await wait_set(window.changed, BUSY_POLL_SECONDS)
                await asyncio.sleep(GATHER_SECONDS)  # confirm a few finished ones per request
        await _drain(bot, window)
    finally:
        leftovers = [task for task in (stopping, fetch, *window.running.values()) if task]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)


async def _drain(bot: Bot, window: _Window) -> None:
    """On a clean stop: let the running handlers finish, then confirm what was handled."""
    if window.running:
        await asyncio.wait(list(window.running.values()), timeout=DRAIN_SECONDS)
    offset = window.offset()
    if offset is not None:
        with contextlib.suppress(Exception):
            await bot(GetUpdates(offset=offset, limit=1, timeout=0))


def _start(bot: Bot, dispatcher: Dispatcher, window: _Window, update: Update) -> None:
    update_id = update.update_id
    window.seen.add(update_id)
    window.highest = max(window.highest, update_id)
    task = asyncio.create_task(_handle(bot, dispatcher, update))
    window.running[update_id] = task
    task.add_done_callback(lambda _: window.finished(update_id))


async def _handle(bot: Bot, dispatcher: Dispatcher, update: Update) -> None:
    try:
        async with asyncio.timeout(HANDLER_SECONDS):
            answer = await dispatcher.feed_update(bot, update)
            if isinstance(answer, TelegramMethod):  # a handler's "answer as the webhook reply"
                await bot(answer)
    except TimeoutError:
        log.error(
            "update %d: still running after %d s, given up", update.update_id, HANDLER_SECONDS
        )
    except Exception as error:  # the error router already apologised
        log.error("update %d failed: %s", update.update_id, type(error).__name__)
