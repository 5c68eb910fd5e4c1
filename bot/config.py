"""Configuration from the environment and `.env`, prefix ``HUHUQING_``."""

from __future__ import annotations

import logging
import re
import socket
from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, TypeAdapter, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LOCALES = ("zh_Hans", "zh_Hant", "en")
Locale = Literal["zh_Hans", "zh_Hant", "en"]


class ConfigError(Exception):
    """A setting is invalid; the message names the variable and the problem in one line."""


class StartupError(Exception):
    """A service a setting names cannot be used (down, refused, unknown): the message names the
    setting and what to do, in one line; the command exits with code 2."""


class Settings(BaseSettings):
    """Every setting of the bot; names are the environment variables without the prefix."""

    model_config = SettingsConfigDict(
        env_prefix="HUHUQING_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = Field(default=None, description="Telegram bot token")
    database_url: str = "sqlite+aiosqlite:///./data/huhuqing.db"
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="database connections an instance keeps open; a handler holds one only "
        "while it reads or writes, never while it waits on Telegram",
    )
    database_pool_overflow: int = Field(
        default=10, ge=0, le=200, description="extra connections opened for a burst"
    )
    database_pool_timeout: float = Field(
        default=10,
        gt=0,
        le=120,
        description="seconds a handler waits for a free connection before it apologises",
    )
    redis_url: str | None = None
    telegram_api_url: str | None = Field(
        default=None, description="base URL of a local or fake Bot API server"
    )
    webhook_url: str | None = Field(
        default=None, description="public HTTPS URL Telegram posts updates to (run --webhook)"
    )
    webhook_secret: SecretStr | None = None
    webhook_listen: str = Field(
        default="0.0.0.0:8080", pattern=r"^[\w.\-\[\]:]*:\d+$", description="host:port"
    )
    default_locale: Locale = "zh_Hans"
    log_level: str = "INFO"
    library_log_level: str = Field(
        default="WARNING",
        description="the libraries' log level (aiogram, SQLAlchemy...); SQL parameters never",
    )
    conversation_ttl_days: int = Field(
        default=7, ge=1, le=90, description="an idle conversation's state is forgotten after it"
    )
    question_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 7, description="how long a 👎 can still name its question"
    )
    hotline: str = Field(default="12317", description="complaint hotline shown to users")
    bot_username: str | None = Field(
        default=None,
        description="the bot's @username, for the links `households bindcode` prints",
    )
    instance_name: str = Field(
        default_factory=lambda: socket.gethostname()[:100] or "huhuqing",
        description="this instance's name, stable across its restarts and unique among the "
        "instances: a restarted instance takes back at once the notifications it was sending",
    )
    outbox_give_up_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="how many days a notification is retried before it is given up",
    )
    updates_per_minute: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="messages and taps one user may send a minute; the rest are dropped",
    )
    outbound_pacing: bool = Field(
        default=True,
        description="pace outgoing messages to Telegram's limits (30/s, 1/s a private chat, "
        "20/min a group); off only to measure processing speed in a benchmark",
    )
    reports_per_day: int = Field(
        default=5, ge=1, le=1000, description="reports one user may submit in 24 hours"
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="serve /metrics and /healthz on this port (off when unset; the webhook's "
        "port serves them too)",
    )
    startup_retry_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="how long `run` keeps trying to reach Telegram at start-up before it gives up",
    )
    retention_months: int = Field(
        default=24,
        ge=1,
        le=1200,
        description="`cases anonymise` clears closed cases closed more than this many months ago",
    )

    web_url: str = Field(
        default="http://127.0.0.1:8082",
        description="the web console's address as cadres' browsers reach it: the bot's /web "
        "sign-in links start with it",
    )
    web_listen: str = Field(
        default="127.0.0.1:8082",
        pattern=r"^[\w.\-\[\]:]*:\d+$",
        description="host:port the web console listens on (put HTTPS in front of it)",
    )
    web_secret: SecretStr | None = Field(
        default=None,
        description="the key that signs the console's cookies; the same on every instance "
        "(when unset, one is made and kept in the database)",
    )
    web_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="a console session idle this long ends"
    )

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or len(secret) < 1:
            raise ValueError("must look like 123456:ABC... (from @BotFather)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError("is not a database URL") from error
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("log_level", "library_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("bot_username", mode="before")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        name = value.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
            raise ValueError("must be the bot's username, like huhuqing_bot")
        return name

    @field_validator("instance_name")
    @classmethod
    def _instance_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", value):
            raise ValueError("must be 1-100 letters, digits, '.', '-' or '_'")
        return value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _empty_port(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("redis_url", "telegram_api_url", "webhook_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        """The token is put into this URL: a bad one must stop here, not in a traceback."""
        if value is None:
            return None
        try:
            url = TypeAdapter(HttpUrl).validate_python(value)
        except ValidationError:
            raise ValueError(
                "must be an http:// or https:// URL, like http://127.0.0.1:8081"
            ) from None
        if url.query or url.fragment:
            raise ValueError("must be the server's base URL, without ? or #")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"(rediss?|unix)://", value):
            raise ValueError(
                "must start with redis://, rediss:// or unix://, like redis://127.0.0.1:6379/0"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        """Telegram posts only to a public https:// address."""
        if value is None:
            return None
        try:
            url = TypeAdapter(HttpUrl).validate_python(value)
        except ValidationError:
            url = None
        if url is None or url.scheme != "https" or not url.host:
            raise ValueError(
                "must be the public https:// address Telegram posts to, like "
                "https://bot.example.org/telegram"
            ) from None
        return value

    @field_validator("web_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        """The sign-in links are built on it: a bad one must stop here."""
        try:
            url = TypeAdapter(HttpUrl).validate_python(value)
        except ValidationError:
            url = None
        if url is None or not url.host or url.query or url.fragment:
            raise ValueError(
                "must be the console's http:// or https:// address, like "
                "https://huhuqing.example.gov.cn"
            ) from None
        return value.rstrip("/")

    @field_validator("web_secret")
    @classmethod
    def _web_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters, like `openssl rand -hex 32` prints")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 letters, digits, '_' or '-' (Telegram's rule)")
        return value

    @field_validator("hotline")
    @classmethod
    def _hotline(cls, value: str) -> str:
        """Shown to every user who needs a person: it must be a number they can dial."""
        value = value.strip()
        if not re.fullmatch(r"\+?[0-9][0-9 -]{2,30}", value):
            raise ValueError("must be the complaint hotline's number, like 12317")
        return value

    def database_pool(self) -> dict[str, float]:
        """The connection pool as SQLAlchemy takes it (see open_database)."""
        return {
            "pool_size": self.database_pool_size,
            "max_overflow": self.database_pool_overflow,
            "pool_timeout": self.database_pool_timeout,
        }


def check_listen(listen: str, setting: str) -> None:
    """Before anything is started: an address in use or not of this machine is one line."""
    host, _, port = listen.rpartition(":")
    try:
        with socket.create_server((host.strip("[]") or "0.0.0.0", int(port))):
            pass
    except OSError as error:
        raise StartupError(
            f"{setting}: cannot listen on {listen} ({error.strerror or error}); "
            "choose a free port or an address of this machine"
        ) from None


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = "HUHUQING_" + str(item["loc"][0]).upper() if item["loc"] else "HUHUQING_?"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError("; ".join(problems)) from None
