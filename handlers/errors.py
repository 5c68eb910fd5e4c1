"""The last resort: an update whose handler failed gets an apology, and the log gets no content."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ErrorEvent, Message
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent) -> bool:
    """Log the update id and the exception type only: messages may hold complaints or phone
    numbers, and database errors repeat the statement's parameters.

    Nothing here reads the database or the ORM objects of the failed update: after a failed
    commit they are expired and their session is closed.
    """
    update = event.update
    if _not_modified(event.exception):
        # A double tap re-sent what the message already shows: nothing went wrong.
        log.info("update %s: message not modified", update.update_id)
        if update.callback_query is not None:
            await _quietly(update.update_id, update.callback_query.answer())
        return True
    where = "".join(traceback.format_tb(event.exception.__traceback__))  # frames, no message
    log.error("update %s failed: %s\n%s", update.update_id, type(event.exception).__name__, where)
    sorry = _("Sorry, something went wrong. Please try again in a moment.")
    query = update.callback_query
    if query is not None:
        answered = await _quietly(update.update_id, query.answer(sorry, show_alert=True))
        if not answered and isinstance(query.message, Message):
            # Already answered (or too old): say it in the chat instead.
            await _quietly(update.update_id, query.message.answer(sorry))
    elif update.message is not None:
        await _quietly(update.update_id, update.message.answer(sorry))
    return True


def _not_modified(error: BaseException) -> bool:
    return isinstance(error, TelegramBadRequest) and "message is not modified" in error.message


async def _quietly(update_id: int, call: Awaitable[object]) -> bool:
    """Make a Bot API call from the error path; False when it failed (nothing more to do)."""
    try:
        await call
    except Exception as error:
        log.warning("update %s: could not answer (%s)", update_id, type(error).__name__)
        return False
    return True
