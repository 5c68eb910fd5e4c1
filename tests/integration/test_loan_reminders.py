"""Loan reminders: 30 days before a loan falls due, each bound member who wants reminders gets one
message in their language with their region's rules; /notify turns them off and on. Queued once
per household and due date, however often and on however many instances the job runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.i18n import create_i18n
from bot.loan_reminders import LoanReminders
from db import migrate
from db.bindings import BindingRepo
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.households import HouseholdRepo
from db.loan_reminders import LoanReminderRepo
from db.models import LoanReminder, OutboxMessage, User, utcnow
from db.region_import import SAMPLE_REGIONS, import_regions
from db.session import Database, open_database
from db.users import UserRepo
from handlers.notify import NotifySet
from knowledge.entries import Entry
from knowledge.loader import bundled_files, load_files
from tests.harness import BotHarness, alerts_of, texts_of

BAYANNUR = "SAMPLE-150821101201-02"  # 永丰村 梁长顺, 巴彦淖尔市: 30000 yuan due 2028-03-09
BAYANNUR_DUE = date(2028, 3, 9)
YUNNAN = "SAMPLE-530627101201-01"  # 红星村 张三明, 云南省: 50000 yuan due 2026-12-20
YUNNAN_DUE = date(2026, 12, 20)
VILLAGER, SPOUSE, SON = 720, 721, 722
RENEWAL = "不先还本金就办理续贷"  # Bayannur's 续贷 rule (microcredit.renewal)
EPIDEMIC_DELAY = "延长还款期限"  # Bayannur's COVID-period delay (microcredit.epidemic_delay)
OFF_LINE = "/notify off — 不再收这类提醒"


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return load_files(bundled_files())


@pytest.fixture
async def households(database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)


async def bind(database: Database, user_id: int, number: str, locale: str | None = None) -> None:
    async with database.sessionmaker() as session:
        user = await UserRepo(session).touch(user_id)
        user.locale = locale
        household = await HouseholdRepo(session).get(number)
        repo = BindingRepo(session)
        code, _ = await repo.create_code(household, "test")
        assert (await repo.bind(user, code)).household is not None


async def remind(database: Database, entries: list[Entry], today: date) -> int:
    return await LoanReminders(database.sessionmaker, create_i18n("zh_Hans"), "zh_Hans").queue(
        entries, today
    )


async def outbox(database: Database) -> list[OutboxMessage]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(rows.all())


async def test_each_bound_member_gets_one_message_in_their_language(
    harness: BotHarness, database: Database, households: None, entries: list[Entry]
) -> None:
    await bind(database, VILLAGER, BAYANNUR)  # no language chosen: the default, 简体
    await bind(database, SPOUSE, BAYANNUR, "en")
    await bind(database, SON, BAYANNUR, "zh_Hant")
    assert await remind(database, entries, BAYANNUR_DUE - timedelta(days=30)) == 3
    await harness.deliver()

    [hans] = harness.texts(VILLAGER)
    assert hans.startswith("<b>⏰ 你家的小额贷款快到期了</b>")
    assert "永丰村 梁*顺" in hans
    assert "梁长顺" not in hans
    assert "小额信贷：30000元，2025-03-10借，2028-03-09到期。" in hans
    assert "还有30天到期。" in hans
    assert RENEWAL in hans
    assert "📄 来源：" in hans
    assert "2020-02" in hans
    assert hans.endswith(OFF_LINE)

    [english] = harness.texts(SPOUSE)
    assert "Small loan: 30000 yuan, from 2025-03-10, due 2028-03-09." in english
    assert "30 days left." in english
    assert "From the Chinese policy documents" in english
    assert RENEWAL in english
    assert english.endswith("/notify off — no more reminders like this")

    [hant] = harness.texts(SON)
    assert "你家的小額貸款快到期了" in hant
    assert "不先還本金就辦理續貸" in hant
    assert hant.endswith("/notify off — 不再收這類提醒")


async def test_a_yunnan_household_hears_no_bayannur_rule(
    harness: BotHarness, database: Database, households: None, entries: list[Entry]
) -> None:
    await bind(database, VILLAGER, YUNNAN)
    await bind(database, SPOUSE, BAYANNUR)
    await remind(database, entries, YUNNAN_DUE - timedelta(days=30))
    await remind(database, entries, BAYANNUR_DUE - timedelta(days=30))
    await harness.deliver()

    [yunnan] = harness.texts(VILLAGER)
    assert "红星村 张*明" in yunnan
    assert "50000元" in yunnan
    assert "3年以内" in yunnan  # the general rule on the term, with its source
    assert "📄 来源：" in yunnan
    assert RENEWAL not in yunnan
    assert "巴彦淖尔市的通知" not in yunnan
    assert EPIDEMIC_DELAY not in yunnan
    [bayannur] = harness.texts(SPOUSE)
    assert RENEWAL in bayannur
    assert EPIDEMIC_DELAY in bayannur


async def test_only_within_30_days_and_never_past_due(
    database: Database, households: None, entries: list[Entry]
) -> None:
    await bind(database, VILLAGER, BAYANNUR)
    assert await remind(database, entries, BAYANNUR_DUE - timedelta(days=31)) == 0
    assert await remind(database, entries, BAYANNUR_DUE + timedelta(days=1)) == 0
    assert await outbox(database) == []
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(LoanReminder)) == 0
    assert await remind(database, entries, BAYANNUR_DUE - timedelta(days=30)) == 1


async def test_notify_off_stops_one_member_and_not_the_other(
    harness: BotHarness, database: Database, households: None, entries: list[Entry]
) -> None:
    await bind(database, VILLAGER, BAYANNUR)
    await bind(database, SPOUSE, BAYANNUR)
    assert "提醒已关闭" in texts_of(await harness.send(SPOUSE, "/notify off"))
    await remind(database, entries, BAYANNUR_DUE - timedelta(days=20))
    assert [m.chat_id for m in await outbox(database)] == [VILLAGER]
    await harness.deliver()
    assert harness.texts(SPOUSE) == ["提醒已关闭。想再打开，发 /notify on。"]
    assert "还有20天到期。" in harness.texts(VILLAGER)[0]


async def test_unbound_and_blocked_members_get_no_row(
    database: Database, households: None, entries: list[Entry]
) -> None:
    for member in (VILLAGER, SPOUSE, SON):
        await bind(database, member, BAYANNUR)
    async with database.sessionmaker() as session:
        repo = BindingRepo(session)
        await repo.unbind(await repo.active(VILLAGER))
        await session.execute(
            update(User).where(User.telegram_id == SPOUSE).values(blocked_at=utcnow())
        )
        await session.commit()
    assert await remind(database, entries, BAYANNUR_DUE - timedelta(days=30)) == 1
    assert [m.chat_id for m in await outbox(database)] == [SON]


async def test_once_per_due_date_and_a_new_due_date_makes_a_new_reminder(
    harness: BotHarness, database: Database, households: None, entries: list[Entry], tmp_path: Path
) -> None:
    await bind(database, VILLAGER, BAYANNUR)
    today = BAYANNUR_DUE - timedelta(days=30)
    assert await remind(database, entries, today) == 1
    assert await remind(database, entries, today) == 0
    assert await remind(database, entries, today + timedelta(days=1)) == 0
    # A member who binds after the reminder was queued is not told again.
    await bind(database, SPOUSE, BAYANNUR)
    assert await remind(database, entries, today + timedelta(days=2)) == 0
    assert [m.chat_id for m in await outbox(database)] == [VILLAGER]

    # The county re-imports the household with a new due date: one new reminder for it.
    lines = SAMPLE_HOUSEHOLDS.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith(BAYANNUR))
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "\n".join([*lines[:3], row.replace(":2028-03-09;", ":2028-03-01;")]), encoding="utf-8"
    )
    async with database.sessionmaker() as session:
        assert (await import_households(session, changed, "test")).changed == 1
    assert await remind(database, entries, today + timedelta(days=2)) == 2
    assert await remind(database, entries, today + timedelta(days=3)) == 0
    await harness.deliver()
    [_, renewed] = harness.texts(VILLAGER)
    assert "2028-03-01到期" in renewed
    assert "还有20天到期。" in renewed
    assert "2028-03-01到期" in harness.texts(SPOUSE)[0]


async def test_a_household_nobody_listens_to_is_told_once_someone_does(
    database: Database, households: None, entries: list[Entry]
) -> None:
    today = YUNNAN_DUE - timedelta(days=30)
    assert await remind(database, entries, today) == 0
    await bind(database, VILLAGER, YUNNAN)
    async with database.sessionmaker() as session:
        villager = await session.get_one(User, VILLAGER)
        villager.household_notices = False
        await session.commit()
    assert await remind(database, entries, today) == 0
    async with database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(LoanReminder)) == 0
        villager = await session.get_one(User, VILLAGER)
        villager.household_notices = True
        await session.commit()
    assert await remind(database, entries, today + timedelta(days=10)) == 1
    [message] = await outbox(database)
    assert "还有20天到期。" in message.text


# /notify


async def notices(database: Database, user_id: int) -> bool:
    async with database.sessionmaker() as session:
        return (await session.get_one(User, user_id)).household_notices


async def test_notify_on_off_and_a_bad_argument(harness: BotHarness, database: Database) -> None:
    assert texts_of(await harness.send(VILLAGER, "/notify off")) == (
        "提醒已关闭。想再打开，发 /notify on。"
    )
    assert await notices(database, VILLAGER) is False
    assert "提醒已打开" in texts_of(await harness.send(VILLAGER, "/notify ON"))
    assert await notices(database, VILLAGER) is True
    assert "提醒已关闭" in texts_of(await harness.send(VILLAGER, "/notify 关"))
    assert await notices(database, VILLAGER) is False

    bad = texts_of(await harness.send(VILLAGER, "/notify maybe"))
    assert bad == "没看懂。请发 /notify on（打开提醒）或 /notify off（关闭提醒）。"
    assert await notices(database, VILLAGER) is False
    english = texts_of(await harness.send(SPOUSE, "/notify of", lang="en"))
    assert english == "Sorry, I did not understand. Send /notify on or /notify off."
    assert await notices(database, SPOUSE) is True


async def test_notify_alone_shows_the_setting_with_two_buttons(
    harness: BotHarness, database: Database
) -> None:
    [shown] = await harness.send(VILLAGER, "/notify")
    assert shown.text == "你家的提醒（比如贷款快到期）现在是打开的。"
    assert [label for label, _ in shown.buttons] == ["🔔 打开提醒", "🔕 关闭提醒"]
    pressed = await harness.press(VILLAGER, "关闭提醒")
    assert "提醒已关闭" in texts_of(pressed)
    assert await notices(database, VILLAGER) is False
    [shown] = await harness.send(VILLAGER, "/notify")
    assert shown.text == "你家的提醒（比如贷款快到期）现在是关闭的。"
    await harness.press(VILLAGER, "打开提醒")
    assert await notices(database, VILLAGER) is True


async def test_forged_notify_buttons_change_nothing(
    harness: BotHarness, database: Database
) -> None:
    await harness.send(VILLAGER, "/notify off")
    for forged in ("ntf:maybe", "ntf:", "ntf:1:2"):
        calls = await harness.press_data(VILLAGER, forged)
        # Answered (or the client spins), and nothing changed.
        assert alerts_of(calls) == ["这个选项已经失效了。"]
        assert [call.method for call in calls] == ["answerCallbackQuery"]
    assert await notices(database, VILLAGER) is False
    await harness.press_data(VILLAGER, NotifySet(on=True).pack())
    assert await notices(database, VILLAGER) is True


# Exactly once on SQLite and PostgreSQL, also with two instances at once


@pytest.fixture
async def two_instances(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    await migrate.upgrade_async(database_url)
    first, second = await open_database(database_url), await open_database(database_url)
    async with first.sessionmaker() as session:
        await import_regions(session, SAMPLE_REGIONS)
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
    yield first, second
    await first.close()
    await second.close()


async def test_two_instances_at_once_queue_each_message_once(
    two_instances: tuple[Database, Database], entries: list[Entry]
) -> None:
    first, second = two_instances
    for member in (VILLAGER, SPOUSE):
        await bind(first, member, BAYANNUR)
    await bind(first, SON, YUNNAN)
    await bind(first, 723, "SAMPLE-150821101201-01")  # 永丰村: no loan
    day = date(2026, 11, 20)  # 30 days before 红星村's loan; 永丰村's is far off
    runs = await asyncio.gather(remind(first, entries, day), remind(second, entries, day))
    assert sum(runs) == 1
    later = BAYANNUR_DUE - timedelta(days=10)
    runs = await asyncio.gather(
        *(remind(instance, entries, later) for instance in (first, second, first, second))
    )
    assert sum(runs) == 2
    assert sorted(m.chat_id for m in await outbox(first)) == [VILLAGER, SPOUSE, SON]
    async with first.sessionmaker() as session:
        reminded = (
            await session.execute(select(LoanReminder.household_id, LoanReminder.due))
        ).all()
    assert sorted(due for _, due in reminded) == [YUNNAN_DUE, BAYANNUR_DUE]


async def test_a_second_record_of_the_same_reminder_writes_nothing(
    two_instances: tuple[Database, Database],
) -> None:
    first, second = two_instances
    async with first.sessionmaker() as session:
        household = await HouseholdRepo(session).get(YUNNAN)
    async with first.sessionmaker() as one, second.sessionmaker() as other:
        assert await LoanReminderRepo(one).queue(household.id, YUNNAN_DUE, [(1, "a")], utcnow())
        late = LoanReminderRepo(other)
        assert not await late.queue(household.id, YUNNAN_DUE, [(2, "b"), (3, "c")], utcnow())
    assert [(m.chat_id, m.text) for m in await outbox(first)] == [(1, "a")]
