"""`huhuqing run`: long polling against Telegram (or the Bot API server in the settings)."""

from __future__ import annotations

from bot.config import Settings
from bot.runners.common import running_bot


async def run_polling(settings: Settings) -> None:
    async with running_bot(settings) as (bot, dispatcher):
        await bot.delete_webhook(drop_pending_updates=False)
        await dispatcher.start_polling(bot, handle_signals=True)
