"""Ways to run the bot: Telegram long polling, and the local console."""
