"""/start, the village choice, /language and /help, as a villager sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Role, User
from db.session import Database
from db.users import UserRepo
from handlers.keyboards import RegionNav, RegionPick
from tests.harness import BotHarness, alerts_of, texts_of

VILLAGER = 501


async def account(database: Database, user_id: int = VILLAGER) -> User | None:
    async with database.sessionmaker() as session:
        return await session.scalar(select(User).where(User.telegram_id == user_id))


SIMPLIFIED_PATH = ("云南省", "昭通市", "以古镇", "红星村", "云南省昭通市镇雄县以古镇红星村")
TRADITIONAL_PATH = ("雲南省", "昭通市", "以古鎮", "紅星村", "雲南省昭通市鎮雄縣以古鎮紅星村")


@pytest.mark.parametrize(
    ("lang", "greeting", "province_prompt", "saved", "path"),
    [
        ("zh-hans", "您好", "请选择您所在的省", "已保存", SIMPLIFIED_PATH),
        ("zh-TW", "您好", "請選擇您所在的省", "已保存", TRADITIONAL_PATH),  # names as read there
        ("en-US", "Hello", "Choose your province", "Saved", SIMPLIFIED_PATH),
    ],
)
async def test_first_start_picks_village_with_buttons(
    harness: BotHarness, database: Database, lang, greeting, province_prompt, saved, path
) -> None:
    province, city, township, village, full = path
    reply = texts_of(await harness.send(VILLAGER, "/start", lang=lang))
    assert greeting in reply
    assert province_prompt in reply

    await harness.press(VILLAGER, province)
    await harness.press(VILLAGER, city)
    # 镇雄县 is the only county of 昭通市 in the sample: the bot skips that level.
    reply = texts_of(await harness.press(VILLAGER, township))
    assert township in reply
    reply = texts_of(await harness.press(VILLAGER, village))

    assert saved in reply
    assert full in reply
    assert (await account(database)).region_code == "530627101201"


async def test_back_button_returns_to_the_level_above(harness: BotHarness) -> None:
    await harness.send(VILLAGER, "/start")
    await harness.press(VILLAGER, "吉林省")
    reply = await harness.press(VILLAGER, "返回")
    assert "请选择您所在的省" in texts_of(reply)
    assert {label for label, _ in reply[0].buttons} >= {"云南省", "吉林省", "内蒙古自治区"}


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("红星村", "530627101201"),
        ("紅星村", "530627101201"),  # traditional characters
        ("红星", "530627101201"),  # without 村
        ("凉水井", "530627102201"),  # an alias
        ("  陈家店村！ ", "220122101201"),  # spaces and full-width punctuation
    ],
)
async def test_typed_village_name_is_found(
    harness: BotHarness, database: Database, typed: str, code: str
) -> None:
    await harness.send(VILLAGER, "/start")
    reply = texts_of(await harness.send(VILLAGER, typed))
    assert "已保存" in reply
    assert (await account(database)).region_code == code


async def test_a_typo_is_suggested_and_saved_once_confirmed(
    harness: BotHarness, database: Database
) -> None:
    await harness.send(VILLAGER, "/start")
    [reply] = await harness.send(VILLAGER, "洪星村")  # one wrong character, as pinyin input makes
    assert "您是说下面哪一个" in reply.text or "是下面" in reply.text
    assert (await account(database)).region_code is None  # not saved on a guess
    await harness.press(VILLAGER, "红星村")
    assert (await account(database)).region_code == "530627101201"


async def test_typed_township_lists_its_villages(harness: BotHarness) -> None:
    await harness.send(VILLAGER, "/start")
    calls = await harness.send(VILLAGER, "塘房镇")
    assert "请选择您所在的村" in texts_of(calls)
    assert [label for label, _ in calls[0].buttons][:2] == ["凉水井村", "沙坝村"]


async def test_unknown_place_is_answered_politely_and_nothing_changes(
    harness: BotHarness, database: Database
) -> None:
    await harness.send(VILLAGER, "/start")
    reply = texts_of(await harness.send(VILLAGER, "<b>火星</b>"))
    assert "没有找到叫“&lt;b&gt;火星&lt;/b&gt;”的地方" in reply  # HTML shown literally
    assert (await account(database)).region_code is None


async def test_start_again_shows_the_village_and_lets_the_user_change_it(
    harness: BotHarness, database: Database
) -> None:
    await harness.send(VILLAGER, "/start")
    await harness.send(VILLAGER, "红星村")
    reply = texts_of(await harness.send(VILLAGER, "/start"))
    assert "您所在的村：云南省昭通市镇雄县以古镇红星村" in reply

    await harness.press(VILLAGER, "更换所在村")
    await harness.send(VILLAGER, "永丰村")
    assert (await account(database)).region_code == "150821101201"


async def test_forged_or_stale_callbacks_change_nothing(
    harness: BotHarness, database: Database
) -> None:
    await harness.send(VILLAGER, "/start")
    for data in (
        RegionPick(code="999999").pack(),  # no such region
        RegionPick(code="530627101").pack(),  # a township, not a village
        RegionNav(code="nope").pack(),
    ):
        calls = await harness.press_data(VILLAGER, data)
        assert alerts_of(calls) == ["这个选项已经失效了。"]
    assert (await account(database)).region_code is None


@pytest.mark.parametrize(
    ("choice", "locale", "confirmation", "help_word"),
    [
        ("English", "en", "Language: English", "Commands"),
        ("繁體中文", "zh_Hant", "語言：繁體中文", "命令"),
        ("简体中文", "zh_Hans", "语言：简体中文", "命令"),
    ],
)
async def test_language_choice_is_remembered_over_telegram_language(
    harness: BotHarness, database: Database, choice, locale, confirmation, help_word
) -> None:
    await harness.send(VILLAGER, "/language", lang="en")
    calls = await harness.press(VILLAGER, choice)
    assert confirmation in texts_of(calls)
    # The menu follows the user's own choice, in their chat.
    menu = [call for call in calls if call.method == "setMyCommands"]
    assert menu[0].params["scope"] == {"type": "chat", "chat_id": VILLAGER}
    assert (await account(database)).locale == locale

    # Later updates say another language; the hand-picked one still wins, /start included.
    assert help_word in texts_of(await harness.send(VILLAGER, "/help", lang="zh-hk"))
    start = texts_of(await harness.send(VILLAGER, "/start", lang="zh-hk"))
    assert ("Hello" in start) == (locale == "en")


async def test_help_and_cancel(harness: BotHarness) -> None:
    assert "/language" in texts_of(await harness.send(VILLAGER, "/help"))
    await harness.send(VILLAGER, "/start")
    assert "已取消" in texts_of(await harness.send(VILLAGER, "/cancel"))
    # After /cancel a typed place name is no longer taken as a village choice.
    calls = await harness.send(VILLAGER, "红星村")
    assert "已保存" not in texts_of(calls)


async def test_help_shows_each_role_its_own_commands(
    harness: BotHarness, database: Database
) -> None:
    async with database.sessionmaker() as session:
        await UserRepo(session).grant(801, Role.CADRE, "530627101")
        await UserRepo(session).grant(901, Role.ADMIN, "530627")
    villager = texts_of(await harness.send(VILLAGER, "/help"))
    cadre = texts_of(await harness.send(801, "/help"))
    admin = texts_of(await harness.send(901, "/help", lang="en"))
    assert "/mycard" in villager
    assert "/households" not in villager
    assert "/audit" not in villager
    assert "/households" in cadre
    assert "/bindcode" in cadre
    assert "/audit" not in cadre
    assert "/households" in admin
    assert "For administrators" in admin
    assert "/audit" in admin


async def test_a_redelivered_update_is_handled_once(harness: BotHarness) -> None:
    update = harness.updates.text(harness._user(VILLAGER, "en"), "/help")
    await harness.dispatcher.feed_update(harness.bot, update)
    await harness.dispatcher.feed_update(harness.bot, update)
    assert len(harness.session.sent("sendMessage")) == 1


async def test_updates_without_a_human_sender_are_ignored(harness: BotHarness) -> None:
    from aiogram.types import Chat, Message, Update, User

    anonymous_admin = User(id=1087968824, is_bot=True, first_name="Group")
    update = Update(
        update_id=99,
        message=Message(
            message_id=5, date=0, chat=Chat(id=-1001, type="supergroup", title="g"),
            from_user=anonymous_admin, text="/cases",
        ),
    )  # fmt: skip
    await harness.dispatcher.feed_update(harness.bot, update)
    channel_post = Update(
        update_id=100,
        channel_post=Message(message_id=6, date=0, chat=Chat(id=-1002, type="channel"), text="x"),
    )
    await harness.dispatcher.feed_update(harness.bot, channel_post)
    assert harness.session.calls == []
