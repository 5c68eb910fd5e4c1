"""Logging for every command: the project's own lines at HUHUQING_LOG_LEVEL, the libraries' at
HUHUQING_LIBRARY_LOG_LEVEL (WARNING), no SQL parameters ever, and no bot token in any line."""

from __future__ import annotations

import logging
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bot.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROJECT_LOGGERS = ("bot", "handlers", "knowledge", "grievances", "db", "tools")
# The lowest level at which these libraries still log no user data: aiosqlite's DEBUG lines carry
# every SQL parameter, SQLAlchemy's carry result rows (its INFO lines show SQL, never parameters:
# db/session.py hides them).
FLOORS = {"aiosqlite": logging.WARNING, "sqlalchemy.engine": logging.INFO}
# A Bot API URL carries a token, whoever's it is: .../bot123456:ABC-def/getMe
_TOKEN_IN_URL = re.compile(r"(?<![a-z0-9])bot\d+(?::|%3A)[\w-]+", re.IGNORECASE)
MASK = "***"
# Where `huhuqing chat` logs when its stderr is the terminal the conversation is shown in.
CONSOLE_LOG = Path(tempfile.gettempdir()) / "huhuqing-chat.log"


class RedactSecrets(logging.Filter):
    """Replaces the secrets, and any token in a Bot API URL, with *** in a record's message,
    traceback and stack; on a handler, so that it sees the records of every logger."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # The secret part alone also catches the token's URL-encoded forms.
        parts = {s for secret in secrets if secret for s in (secret, secret.partition(":")[2])}
        self.secrets = sorted((s for s in parts if len(s) >= 6), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return _TOKEN_IN_URL.sub("bot" + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: the handler reports it
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secrets_of(settings: Settings) -> list[str]:
    return [
        secret.get_secret_value()
        for secret in (settings.bot_token, settings.webhook_secret)
        if secret is not None
    ]


def configure_logging(
    settings: Settings, console: bool = False, quiet: bool = False
) -> RedactSecrets:
    """Set the levels, log to stderr (unless the root logger has handlers already, as under
    pytest) and put the redaction filter on every root handler; returns the filter.

    ``console``: `huhuqing chat` prints the conversation, so routine lines stay out of it, and
    when stderr is that same terminal the lines go to :data:`CONSOLE_LOG` instead.
    ``quiet``: a command whose output is its answer (`ask`): warnings and errors only.
    """
    root = logging.getLogger()
    if not root.handlers:
        handler: logging.Handler = logging.StreamHandler()
        if console and sys.stderr.isatty():
            handler = logging.FileHandler(CONSOLE_LOG, encoding="utf-8")
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    redactor = RedactSecrets(secrets_of(settings))
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    library = logging.getLevelNamesMapping()[settings.library_log_level]
    root.setLevel(library)
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(library, floor))
    own = logging.getLevelNamesMapping()[settings.log_level]
    if (console or quiet) and own > logging.DEBUG:
        own = max(own, logging.WARNING)
    for name in PROJECT_LOGGERS:
        logging.getLogger(name).setLevel(own)
    return redactor
