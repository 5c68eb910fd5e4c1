"""Factories for everything a runner needs: database, bot and dispatcher. Nothing at import time."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.conversation_data import expire_untimed
from bot.i18n import UserLocaleMiddleware, create_i18n
from bot.middlewares.database import CommitBeforeSending, DatabaseMiddleware
from bot.middlewares.dedupe import DedupeMiddleware
from bot.middlewares.flood import FloodMiddleware
from bot.outbox import SendNow
from bot.ratelimit import RateLimiter, RedisBuckets
from db.session import Database
from handlers import create_routers
from handlers.notices import NoticeRenderer
from knowledge.service import KnowledgeBase


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    """The bot; a session given (the console's, the tests') is used without the rate limiter."""
    paced = session is None
    if session is None:
        api = settings.telegram_api_url
        session = AiohttpSession(api=TelegramAPIServer.from_base(api)) if api else AiohttpSession()
    session.middleware(CommitBeforeSending())  # first: no connection waits on the limiter
    if paced:
        session.middleware(create_rate_limiter(settings))
    token = settings.bot_token.get_secret_value() if settings.bot_token else "1:local-console"
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_rate_limiter(settings: Settings) -> RateLimiter:
    """Telegram's limits, kept together by every instance when Redis is configured."""
    pace = settings.outbound_pacing
    if settings.redis_url and pace:
        from redis.asyncio import Redis

        return RateLimiter(buckets=RedisBuckets(Redis.from_url(settings.redis_url)))
    return RateLimiter(pace=pace)


def create_storage(settings: Settings) -> BaseStorage:
    """Conversation state: in Redis when configured (shared by replicas, forgotten after
    HUHUQING_CONVERSATION_TTL_DAYS idle), else in memory."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        ttl = timedelta(days=settings.conversation_ttl_days)
        return RedisStorage.from_url(settings.redis_url, state_ttl=ttl, data_ttl=ttl)
    return MemoryStorage()


def create_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """One update at a time per user and chat, so that quick messages keep their order.

    Polling handles updates concurrently; without this, "/start" and the village typed right
    after it can race. With Redis the lock is shared by every replica, and a lock left by a
    killed instance expires within seconds (bot/isolation.py).
    """
    from aiogram.fsm.storage.redis import RedisStorage

    if isinstance(storage, RedisStorage):
        from bot.isolation import RenewedRedisIsolation

        return RenewedRedisIsolation(storage.redis, key_builder=storage.key_builder)
    return SimpleEventIsolation()


def create_dispatcher(
    settings: Settings, database: Database, storage: BaseStorage, i18n: I18n | None = None
) -> Dispatcher:
    """The one Dispatcher every runner (polling, console, tests) drives."""
    i18n = i18n or create_i18n(settings.default_locale)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=create_isolation(storage),
        settings=settings,
        knowledge=KnowledgeBase(database.sessionmaker),
        render=NoticeRenderer(i18n),
        send_now=SendNow(database.sessionmaker, settings),
    )
    dispatcher.update.outer_middleware(DedupeMiddleware(storage))
    dispatcher.update.outer_middleware(FloodMiddleware(settings.updates_per_minute, i18n, storage))
    dispatcher.update.outer_middleware(DatabaseMiddleware(database.sessionmaker))
    UserLocaleMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*create_routers())
    return dispatcher


async def prepare(dispatcher: Dispatcher) -> None:
    """Work before the first update: give old conversation keys an expiry, seed an empty
    knowledge base and build the search index."""
    ttl = timedelta(days=dispatcher["settings"].conversation_ttl_days)
    await expire_untimed(dispatcher.storage, ttl)
    knowledge: KnowledgeBase = dispatcher["knowledge"]
    await knowledge.seed()
    await knowledge.index()
