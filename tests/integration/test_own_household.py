""" "我家" questions over the bot: a bound villager gets their household's own answer, in their
language; an unbound one is told how to bind; general questions still reach the knowledge base."""

from __future__ import annotations

import re
from datetime import date

import pytest

from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.models import Role
from db.session import Database
from db.users import UserRepo
from tests.harness import BotHarness, texts_of

VILLAGER = 710
CADRE = 810  # 隆兴昌镇, 五原县, 巴彦淖尔市
HOUSEHOLD = "SAMPLE-150821101201-02"  # 永丰村 梁长顺: a loan due 2028-03-09, helpers, measures
LABEL = "永丰村 梁*顺"
NEIGHBOUR = 711
GAPS_HOUSEHOLD = "SAMPLE-150821101202-02"  # 新丰村 宋文军: may lack 医疗救助 and 防贫保
POOR_HOUSEHOLD = "SAMPLE-150821101202-01"  # 新丰村 谢*花: 未脱贫, exit planned for 2019


async def bind(harness: BotHarness, user: int, number: str) -> None:
    calls = await harness.send(CADRE, f"/bindcode {number}")
    code = re.search(r"<b>(\w{4}-\w{4})</b>", texts_of(calls)).group(1)
    assert "已绑定" in texts_of(await harness.send(user, f"/bind {code}"))


@pytest.fixture
async def bound(harness: BotHarness, database: Database) -> None:
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        await UserRepo(session).grant(CADRE, Role.CADRE, "150821101")
    await bind(harness, VILLAGER, HOUSEHOLD)


async def test_the_loan_due_date_and_bayannurs_renewal_rule(
    harness: BotHarness, bound: None
) -> None:
    text = texts_of(await harness.send(VILLAGER, "俺家贷款啥时候到期"))
    assert LABEL in text
    assert "梁长顺" not in text
    assert "30000元" in text
    assert "2028-03-09到期" in text
    assert re.search(r"还有\d+天到期", text)
    assert "不先还本金就办理续贷" in text  # microcredit.renewal, Bayannur's
    assert "来源：" in text
    assert "2020-02" in text


async def test_the_days_left_count_from_the_day_in_china(
    harness: BotHarness, bound: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2028-03-01 in China, whatever day the server's clock (UTC) still shows at night there.
    monkeypatch.setattr("handlers.own_household.local_today", lambda: date(2028, 3, 1))
    assert "还有8天到期" in texts_of(await harness.send(VILLAGER, "俺家贷款啥时候到期"))


async def test_the_helpers_with_their_phones(harness: BotHarness, bound: None) -> None:
    text = texts_of(await harness.send(VILLAGER, "我家的帮扶干部是谁"))
    assert "包保干部 刘志强：13800000022" in text
    assert "第一书记 冯德福：13800000121" in text


async def test_the_policies_that_apply_and_a_gap(harness: BotHarness, bound: None) -> None:
    await bind(harness, NEIGHBOUR, GAPS_HOUSEHOLD)
    text = texts_of(await harness.send(NEIGHBOUR, "我家还能享受啥"))
    assert "新丰村 宋*军" in text
    assert "你家能享受的政策和原因：" in text
    assert "📄 来源：" in text
    assert "可能还没享受：医疗救助、防贫保。" in text
    assert "杨三明：13800000024" in text  # whom to ask
    english = texts_of(await harness.send(NEIGHBOUR, "What is my household missing?", lang="en"))
    assert "You may not have these yet: 医疗救助, 防贫保." in english
    assert "• 包保干部 杨三明: 13800000024" in english
    # A household with nothing missing is told so.
    assert "没看到你家漏掉的待遇" in texts_of(await harness.send(VILLAGER, "我家还能享受啥"))


async def test_measures_and_overview(harness: BotHarness, bound: None) -> None:
    measures = texts_of(await harness.send(VILLAGER, "俺们家有啥帮扶措施"))
    assert "花椒种植" in measures
    assert "进行中" in measures
    overview = texts_of(await harness.send(VILLAGER, "我家是啥户"))
    for label in ("家底", "致贫原因", "帮扶措施", "收入", "帮扶责任", "脱贫时序"):
        assert label in overview
    assert "2025年人均15250元" in overview
    assert "已脱贫（2019）" in overview


async def test_a_household_still_poor_is_never_told_it_left_poverty(
    harness: BotHarness, bound: None
) -> None:
    await bind(harness, NEIGHBOUR, POOR_HOUSEHOLD)
    overview = texts_of(await harness.send(NEIGHBOUR, "我家是啥户"))
    assert "未脱贫，2015年识别，计划2019年脱贫" in overview
    assert "，2019年脱贫" not in overview
    # In English the bot's own labels and separators are English: no "：" or "，" between them.
    english = texts_of(await harness.send(NEIGHBOUR, "What is my household's status?", lang="en"))
    assert "<b>Basics</b>: 4 people, land 2.0 mu, safe housing: yes" in english
    assert "<b>Timeline</b>: 未脱贫, identified 2015, planned to leave poverty 2019" in english
    assert "<b>Helpers</b>: 包保干部 陈兰芳: 13800000023; 第一书记" in english
    assert "left poverty 2019" not in english.replace("to leave poverty 2019", "")
    measures = texts_of(await harness.send(NEIGHBOUR, "What are my household's measures?"))
    assert "• 产业帮扶 (玉米良种, 2025, 4000 yuan): 已完成" in measures


async def test_traditional_and_english_readers(harness: BotHarness, bound: None) -> None:
    hant = texts_of(await harness.send(VILLAGER, "我家的幫扶幹部是誰", lang="zh-TW"))
    assert "你家的幫扶幹部" in hant
    assert "13800000022" in hant
    english = texts_of(await harness.send(VILLAGER, "When is my family's loan due?", lang="en"))
    assert "Small loan: 30000 yuan" in english
    assert "2028-03-09" in english
    assert "From the Chinese policy documents" in english


async def test_an_unbound_user_is_told_how_to_bind(harness: BotHarness, database: Database) -> None:
    text = texts_of(await harness.send(VILLAGER, "我家的帮扶干部是谁"))
    assert "绑定" in text
    assert "/bind" in text
    # A question naming a general rule still reaches the knowledge base.
    general = texts_of(await harness.send(VILLAGER, "俺家能贷多少"))
    assert "/bind" not in general


async def test_a_bound_users_general_question_reaches_the_knowledge_base(
    harness: BotHarness, bound: None
) -> None:
    text = texts_of(await harness.send(VILLAGER, "小额信贷能贷多少"))
    assert "5万元" in text
    assert "梁*顺" not in text


async def test_a_bound_users_complaint_about_their_household_goes_to_the_report_flow(
    harness: BotHarness, bound: None
) -> None:
    [reply] = await harness.send(VILLAGER, "我家的补助为啥被村会计领走了？")
    assert reply.buttons[0][1] == "rs:start"  # the report flow, not the household's record
    assert "梁*顺" not in reply.text
