"""Message filters shared by routers."""

from aiogram import F

# Text that is not a command: what a conversation step may take as its answer. Commands keep
# working in the middle of a step (/cancel, /help, /language, ...).
PLAIN_TEXT = F.text & ~F.text.startswith("/")

# Villagers' conversations (questions, reports, their cases) happen in private chats only: in a
# township's group the bot must not answer every cadre's remark as a policy question.
PRIVATE = F.chat.type == "private"
PRIVATE_CALLBACK = F.message.chat.type == "private"
