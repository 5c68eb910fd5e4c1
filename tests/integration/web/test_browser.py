"""The console in a real browser: Debian's headless Chromium driven by Playwright (no browser
download). An admin signs in through the link the bot sent, edits a policy answer, previews it,
saves it, and the bot then answers with the new text. Screenshots of the main pages are written
to build/screenshots/ (HUHUQING_SCREENSHOTS overrides it)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from db.household_import import SAMPLE_HOUSEHOLDS, import_households
from db.models import Role, UnansweredQuestion
from db.session import Database
from tests import services
from tests.harness import BotHarness, texts_of
from tests.integration.conftest import villager_and_cadre
from tests.integration.web.conftest import give_role, make_case

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("HUHUQING_SCREENSHOTS", ROOT / "build" / "screenshots"))
LINK = re.compile(r'href="([^"]+/signin/[^"]+)"')
ADMIN, VILLAGER, CADRE = 7901, 7902, 7903
ENTRY = "medical.family_doctor"  # 云南省
PHRASING = "家庭医生必须签吗"
NEW_ANSWER = "家庭医生签约不再要求签约人数和全覆盖，不用为了凑数硬签。有病先找村医。"
TANGFANG_VILLAGE = "530627102201"  # 凉水井村
PAGES = ("cases", "stats", "households", "unanswered", "users", "audit")
# Flags a root process in a closed network needs (see the machine's notes): no sandbox, no
# calls home.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return "Debian's chromium is not installed (tools/ensure_test_packages.sh installs it)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make install installs the dev extras)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The console on a port of its own; the bot's links point at it."""
    port = _free_port()
    return settings.model_copy(
        update={"web_url": f"http://127.0.0.1:{port}", "web_listen": f"127.0.0.1:{port}"}
    )


@pytest.fixture
async def browser_page() -> AsyncIterator[object]:
    if reason := _browser_missing():
        if services.IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page = await context.new_page()
        try:
            yield page
        finally:
            await browser.close()


@pytest.fixture
async def web_server(settings: Settings, database: Database) -> AsyncIterator[str]:
    from web.app import serving

    async with serving(settings):
        yield settings.web_url


async def _shoot(page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_an_admin_edits_an_answer_in_the_browser_and_the_bot_answers_with_it(
    harness: BotHarness, database: Database, web_server: str, browser_page
) -> None:
    page = browser_page
    await give_role(database, ADMIN, Role.ADMIN, None)
    await villager_and_cadre(database, VILLAGER, CADRE)
    await _sample_data(database)
    assert NEW_ANSWER not in await _bot_answer(harness)

    [reply] = await harness.send(ADMIN, "/web")
    [link] = LINK.findall(reply.params["text"])
    await page.goto(link)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{web_server}/")
    assert await page.get_by_role("heading", name="概览").is_visible()
    await _shoot(page, "overview")

    await page.get_by_role("link", name="政策问答").click()
    await page.get_by_label("搜索").fill("家庭医生")
    await page.get_by_role("button", name="显示").click()
    await _shoot(page, "knowledge")
    await page.get_by_role("link", name=ENTRY).first.click()
    await page.get_by_role("link", name="修改").first.click()
    await page.locator("textarea[name=answer]").fill(NEW_ANSWER)
    await page.get_by_role("button", name="预览").click()
    preview = page.locator("section.preview")
    await preview.wait_for()
    assert NEW_ANSWER in await preview.inner_text()
    assert "（本条）" in await preview.inner_text()  # the phrasings still pick this entry
    await _shoot(page, "preview")

    await page.locator("input[name=why]").fill("说得更明白")
    await page.get_by_role("button", name="保存").click()
    await page.wait_for_url(f"{web_server}/knowledge/{ENTRY}")
    assert NEW_ANSWER in await page.locator("main").inner_text()

    for name in PAGES:  # every main page opens, and its picture is kept
        await page.goto(f"{web_server}/{name}")
        assert await page.locator("h1").count() == 1, name
        await _shoot(page, name)
    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    for name in (*PAGES, "knowledge", f"knowledge/{ENTRY}/edit"):
        await page.goto(f"{web_server}/{name}")
        overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"/{name} is wider than a phone's screen by {overflow}px"
    await _shoot(page, "phone-edit")

    answered = await _bot_answer(harness, wait_for=NEW_ANSWER)
    assert NEW_ANSWER in answered


async def _sample_data(database: Database) -> None:
    """The demo households, a few reports and a question nobody answered: pages with content."""
    async with database.sessionmaker() as session:
        await import_households(session, SAMPLE_HOUSEHOLDS, "test", sample=True)
        session.add(UnansweredQuestion(text="村里啥时候通班车", decision="unknown"))
        await session.commit()
    await make_case(database, description="村里的自来水停了三天")
    await make_case(database, category="medical", description="先诊疗后付费，卫生院还要押金")
    await make_case(database, TANGFANG_VILLAGE, "housing", description="危房改造没人来看")


async def _bot_answer(harness: BotHarness, wait_for: str | None = None) -> str:
    """What the bot answers the villager; with ``wait_for``, asked again until that text is in
    it (a running bot takes up a change within seconds) or 20 s have passed."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        answer = texts_of(await harness.send(VILLAGER, PHRASING))
        if wait_for is None or wait_for in answer:
            return answer
        if asyncio.get_running_loop().time() > deadline:
            return answer
        await asyncio.sleep(0.5)
