"""The last resort: an update whose handler failed gets an apology, and the log gets no content."""

from __future__ import annotations

import logging
import traceback

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent) -> bool:
    """Log the update id and the exception type only: messages may hold complaints or phone
    numbers, and database errors repeat the statement's parameters."""
    where = "".join(traceback.format_tb(event.exception.__traceback__))  # frames, no message
    log.error(
        "update %s failed: %s\n%s", event.update.update_id, type(event.exception).__name__, where
    )
    sorry = _("Sorry, something went wrong. Please try again in a moment.")
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(sorry, show_alert=True)
        elif update.message is not None:
            await update.message.answer(sorry)
    except Exception:  # the apology itself failed: nothing more to do
        log.warning("update %s: could not apologise", update.update_id)
    return True
