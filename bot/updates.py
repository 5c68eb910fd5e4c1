"""Build the updates a user's actions would produce: for the console and for tests."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.local_session import BOT_USER


class UpdateFactory:
    """Numbers updates and messages the way Telegram does, one factory per conversation run."""

    def __init__(self) -> None:
        # From a random point: a new console session, or a second one started at the same
        # moment, does not reuse another session's update ids, which the database and the
        # dedupe keys remember (a confirmed report keeps its update id).
        self._update_ids = itertools.count(random.randrange(2**31 - 2**24))
        self._message_ids = itertools.count(1_000_000)

    @staticmethod
    def user(user_id: int, language_code: str | None = "zh-hans", name: str = "Test") -> User:
        return User(id=user_id, is_bot=False, first_name=name, language_code=language_code)

    def text(self, user: User, text: str, chat: Chat | None = None) -> Update:
        chat = chat or Chat(id=user.id, type="private")
        return Update(
            update_id=next(self._update_ids),
            message=Message(
                message_id=next(self._message_ids),
                date=datetime.now(UTC),
                chat=chat,
                from_user=user,
                text=text,
            ),
        )

    def press(
        self,
        user: User,
        data: str,
        message_id: int,
        chat: Chat | None = None,
        shown_at: datetime | None = None,
    ) -> Update:
        """The user pressed an inline button with ``data`` under the bot's message (sent at
        ``shown_at``, as Telegram says; now if unknown)."""
        chat = chat or Chat(id=user.id, type="private")
        update_id = next(self._update_ids)
        return Update(
            update_id=update_id,
            callback_query=CallbackQuery(
                id=str(update_id),
                from_user=user,
                chat_instance=str(chat.id),
                data=data,
                message=Message(
                    message_id=message_id,
                    date=shown_at or datetime.now(UTC),
                    chat=chat,
                    from_user=User.model_validate(BOT_USER),
                    text="",
                ),
            ),
        )
