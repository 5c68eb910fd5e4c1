"""The webhook's aiohttp app, in-process (the process itself: tests/e2e/test_webhook.py): an
update is processed before Telegram gets its 200, so that what the 200 confirms is done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runners.webhook import add_webhook
from tests.harness import BotHarness

PATH, SECRET = "/telegram/hook", "s3cret-token_123"
USER = 42


async def test_an_update_is_answered_before_telegram_gets_its_200(harness: BotHarness) -> None:
    sent_when_answered: list[list[str]] = []

    @web.middleware
    async def note_the_answer(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        # The handler has returned the 200: what has the bot sent by now?
        sent_when_answered.append([call.method for call in harness.session.calls])
        return response

    app = web.Application(middlewares=[note_the_answer])
    add_webhook(app, harness.bot, harness.dispatcher, PATH, SECRET)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1, "date": 0, "text": "/help",
            "chat": {"id": USER, "type": "private"},
            "from": {"id": USER, "is_bot": False, "first_name": "A", "language_code": "en"},
        },
    }  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        refused = await client.post(PATH, json=update)
        assert refused.status == 401
        answered = await client.post(
            PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert answered.status == 200
        assert sent_when_answered == [[], ["sendMessage"]]  # the reply, before the 200
        [reply] = harness.session.calls
    assert reply.params["chat_id"] == USER
    assert "/report" in (reply.text or "")
