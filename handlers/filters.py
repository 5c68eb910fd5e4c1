"""Message filters shared by routers."""

from aiogram import F

# Text that is not a command: what a conversation step may take as its answer. Commands keep
# working in the middle of a step (/cancel, /help, /language, ...).
PLAIN_TEXT = F.text & ~F.text.startswith("/")
