"""Each role finds its commands: /help, the Telegram command menu of the person's chat (in each
language, changed when a role is granted or taken back) and a cadre's /start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.memory import MemoryStorage
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import create_bot, create_dispatcher, prepare
from bot.config import Settings
from bot.i18n import create_i18n
from bot.outbox import OutboxWorker
from bot.role_notice import RoleAnnouncer
from bot.updates import UpdateFactory
from db.models import OutboxMessage, Role, User
from db.session import Database
from db.users import UserRepo
from grievances import roles
from handlers.keyboards import LanguagePick
from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer
from tests.harness import BotHarness, texts_of

ADMIN = 901  # 镇雄县 (530627)
CADRE = 902  # to be made a cadre of 以古镇 (530627101)
COUNTY_CADRE = 903


@dataclass
class Live:
    telegram: FakeTelegramServer
    bot: Bot
    dispatcher: Dispatcher
    updates: UpdateFactory

    async def send(self, user: int, text: str, lang: str = "zh-hans") -> list[str]:
        since = self.telegram.mark()
        update = self.updates.text(UpdateFactory.user(user, lang), text)
        await self.dispatcher.feed_update(self.bot, update)
        return [call.params.get("text", "") for call in self.telegram.calls[since:]]

    def menu(self, user: int, language: str = "") -> set[str]:
        scope = {"type": "chat", "chat_id": user}
        return {item["command"] for item in self.telegram.commands_for(scope, language)}

    def descriptions(self, user: int, language: str = "") -> str:
        scope = {"type": "chat", "chat_id": user}
        return " ".join(item["description"] for item in self.telegram.commands_for(scope, language))


@pytest.fixture
async def live(settings: Settings, database: Database) -> AsyncIterator[Live]:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(ADMIN, Role.ADMIN, "530627")
    async with FakeTelegramServer() as telegram:
        bot = create_bot(
            settings.model_copy(update={"bot_token": SecretStr(DEFAULT_TOKEN)}),
            session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url)),
        )
        dispatcher = create_dispatcher(settings, database, MemoryStorage())
        await prepare(dispatcher)
        yield Live(telegram, bot, dispatcher, UpdateFactory())
        await bot.session.close()


CADRE_COMMANDS = {"cases", "case", "households", "household", "bindcode"}
ADMIN_COMMANDS = {"grant", "revoke", "linkgroup", "stats", "unanswered", "audit"}


async def test_a_grant_gives_the_chat_its_roles_menu_in_each_language_and_revoke_takes_it(
    live: Live, database: Database
) -> None:
    assert "is now" in " ".join(await live.send(ADMIN, "/grant 902 cadre 530627101", lang="en"))
    for language, word in (("", "诉求"), ("zh", "诉求"), ("en", "cases")):
        menu = live.menu(CADRE, language)
        assert menu >= CADRE_COMMANDS | {"start", "report", "help"}
        assert not menu & ADMIN_COMMANDS  # a township cadre has no /stats either
        assert word in live.descriptions(CADRE, language)

    revoked = " ".join(await live.send(ADMIN, "/revoke 902", lang="en"))
    assert "no longer cadre" in revoked
    for language in ("", "zh", "en"):
        assert live.menu(CADRE, language) == set()  # the menus for everyone apply again
    async with database.sessionmaker() as session:
        user = await session.get(User, CADRE)
        assert (user.role, user.area_code) == ("villager", None)


async def deliver(live: Live, database: Database) -> list[str]:
    """What the bot's outbox worker sends now, to the CADRE's chat."""
    worker = OutboxWorker(live.bot, database.sessionmaker, i18n=create_i18n("zh_Hans"))
    since = live.telegram.mark()
    await worker.send_due()
    return [
        call.params["text"]
        for call in live.telegram.calls[since:]
        if call.params.get("chat_id") == CADRE
    ]


async def test_a_role_given_in_the_console_or_from_the_command_line_reaches_the_person(
    live: Live, database: Database
) -> None:
    """The web console and `huhuqing users` have no Telegram of their own: the person's notice
    goes through the outbox, and the bot that sends it gives them the role's menu."""
    announce = RoleAnnouncer("zh_Hans")
    async with database.sessionmaker() as session:
        admin = await session.get(User, ADMIN)
        await roles.grant(session, admin, "web 127.0.0.1", CADRE, "cadre", "530627101", announce)
    assert live.menu(CADRE) == set()  # nothing has reached Telegram yet
    [told] = await deliver(live, database)
    assert told.startswith("您现在是云南省昭通市镇雄县以古镇的干部。")
    assert "/cases" in told
    assert live.menu(CADRE) >= CADRE_COMMANDS
    assert "诉求" in live.descriptions(CADRE, "zh")

    async with database.sessionmaker() as session:
        await roles.revoke(session, None, "cli", CADRE, announce)
    [told] = await deliver(live, database)
    assert told.startswith("您已不再是干部")
    assert live.menu(CADRE) == set()


async def test_a_role_notice_the_person_cannot_get_goes_to_nobody_else(
    live: Live, database: Database
) -> None:
    """Someone who never opened the bot (403) gets the role anyway; their notice is not passed
    on to the unit's cadres or the admins, and is tried no more."""
    live.telegram.block_user(CADRE)
    async with database.sessionmaker() as session:
        admin = await session.get(User, ADMIN)
        announce = RoleAnnouncer("zh_Hans")
        await roles.grant(session, admin, "web 127.0.0.1", CADRE, "cadre", "530627101", announce)
    since = live.telegram.mark()
    await OutboxWorker(live.bot, database.sessionmaker, i18n=create_i18n("zh_Hans")).send_due()
    assert [
        call.params["chat_id"]
        for call in live.telegram.calls[since:]
        if call.method == "sendMessage"
    ] == [CADRE]
    async with database.sessionmaker() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
        assert row.failed_at is not None
        assert (await session.get(User, CADRE)).role == Role.CADRE


async def test_a_cadre_who_chose_traditional_gets_one_menu_in_it(
    live: Live, database: Database
) -> None:
    async with database.sessionmaker() as session:
        (await UserRepo(session).touch(CADRE)).locale = "zh_Hant"
        await session.commit()
    await live.send(ADMIN, "/grant 902 cadre 530627", lang="en")  # a county: /stats too
    assert live.menu(CADRE) >= CADRE_COMMANDS | {"stats"}
    assert "轄區" in live.descriptions(CADRE)
    assert live.menu(CADRE, "zh") == set()  # nothing in simplified wins over the chosen one


async def test_an_admins_start_refreshes_their_menu_in_the_language_they_use(
    live: Live,
) -> None:
    await live.send(ADMIN, "/start", lang="zh-hk")
    assert live.menu(ADMIN, "zh") >= CADRE_COMMANDS | ADMIN_COMMANDS
    assert "轄區" in live.descriptions(ADMIN, "zh")
    assert "cases" in live.descriptions(ADMIN, "en")


async def test_a_cadres_start_shows_their_role_and_work_not_a_village_picker(
    harness: BotHarness, database: Database
) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(CADRE, Role.CADRE, "530627101")
    reply = texts_of(await harness.send(CADRE, "/start", lang="en"))
    assert "You are a cadre of 云南省昭通市镇雄县以古镇" in reply
    assert "No open cases in your area." in reply
    assert "province" not in reply
    zh = texts_of(await harness.send(CADRE, "/start", lang="zh-hans"))
    assert "您是云南省昭通市镇雄县以古镇的干部" in zh


async def test_help_lists_each_roles_commands(harness: BotHarness, database: Database) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(CADRE, Role.CADRE, "530627101")
        await UserRepo(session).grant(COUNTY_CADRE, Role.CADRE, "530627")
        await UserRepo(session).grant(ADMIN, Role.ADMIN, "530627")
    township = texts_of(await harness.send(CADRE, "/help", lang="en"))
    county = texts_of(await harness.send(COUNTY_CADRE, "/help", lang="en"))
    admin = texts_of(await harness.send(ADMIN, "/help", lang="en"))
    assert "/cases" in township
    assert "/stats" not in township
    assert "/stats" in county
    assert "/grant" not in county
    for command in ("/grant", "/revoke", "/linkgroup", "/stats", "/unanswered", "/cases"):
        assert command in admin


async def test_a_cadre_changing_language_keeps_the_cadres_menu(live: Live) -> None:
    await live.send(ADMIN, "/grant 902 cadre 530627101", lang="en")
    await live.send(CADRE, "/language")
    [offer] = [c for c in live.telegram.calls_of("sendMessage") if c.params["chat_id"] == CADRE]
    picked = LanguagePick(locale="en").pack()
    update = live.updates.press(
        UpdateFactory.user(CADRE, "zh-hans"), picked, offer.result["message_id"]
    )
    await live.dispatcher.feed_update(live.bot, update)
    assert live.menu(CADRE) >= CADRE_COMMANDS
    assert "cases" in live.descriptions(CADRE)
    assert live.menu(CADRE, "zh") == set()  # the chosen language's menu is the one shown
