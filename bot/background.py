"""Background loops of a running bot: the deadline watcher (the outbox has bot/outbox.py)."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import utcnow
from grievances.deadlines import check_deadlines
from grievances.service import Renderer

log = logging.getLogger(__name__)
DEADLINE_CHECK_SECONDS = 60


async def watch_deadlines(
    sessionmaker: async_sessionmaker[AsyncSession],
    render: Renderer,
    default_locale: str,
    every: float = DEADLINE_CHECK_SECONDS,
) -> None:
    while True:
        try:
            await check_deadlines(sessionmaker, render, utcnow(), default_locale)
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed round must not stop the watcher
            log.exception("deadline check failed")
        await asyncio.sleep(every)
