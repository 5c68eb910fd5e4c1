"""The bot token never reaches a log line, a traceback or the command line's error output."""

from __future__ import annotations

import io
import logging

import pytest
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import GetMe

import bot.cli
from bot.__main__ import main
from bot.config import Settings
from bot.logging_setup import configure_logging

TOKEN = "123456789:AAE-secretPart_0123456789abcdefghijk"
SECRET = TOKEN.partition(":")[2]
OTHER = "987654:ZZ_other-token_0123456789"  # not ours, but in a Bot API URL all the same


def with_token(**values: object) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, **values)  # type: ignore[call-arg]


def test_messages_arguments_and_tracebacks_are_redacted(logged: io.StringIO) -> None:
    configure_logging(with_token())
    library = logging.getLogger("aiogram.dispatcher")  # propagated to the root's handler
    library.error("GET https://api.telegram.org/bot%s/getMe failed", TOKEN)
    library.error(f"the token itself: {TOKEN}, and its secret part: {SECRET}")
    try:
        try:
            raise OSError(f"cannot open http://127.0.0.1:9/bot{TOKEN}/getMe")
        except OSError as error:
            raise RuntimeError("wrapped", TOKEN) from error
    except RuntimeError:
        library.exception("request failed")
    logging.getLogger("bot.outbox").error("GET http://x/bot%s/x", OTHER.replace(":", "%3A"))
    logging.getLogger("handlers.ask").error("GET http://x/bot%s/x", OTHER)

    out = logged.getvalue()
    assert SECRET not in out
    assert OTHER.partition(":")[2] not in out
    assert "https://api.telegram.org/bot***/getMe failed" in out
    assert "the token itself: ***, and its secret part: ***" in out
    assert "RuntimeError: ('wrapped', '***')" in out  # the exception's args
    assert "OSError: cannot open http://127.0.0.1:9/bot***/getMe" in out  # its cause
    assert out.count("GET http://x/bot***/x") == 2


def test_words_that_merely_contain_bot_are_left_alone(logged: io.StringIO) -> None:
    configure_logging(with_token())
    logging.getLogger("bot").warning("robot12:arm moved; chatbot 3:1")
    assert "robot12:arm moved; chatbot 3:1" in logged.getvalue()


def test_a_malformed_api_url_stops_with_one_line_and_no_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("HUHUQING_BOT_TOKEN", TOKEN)
    for url in ("localhost:8081", "http://[::1", "ftp://x", "http://x:8081/?token=1"):
        monkeypatch.setenv("HUHUQING_TELEGRAM_API_URL", url)
        assert main(["run"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "HUHUQING_TELEGRAM_API_URL: must be" in err
        assert SECRET not in err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("failure", "told"),
    [
        (RuntimeError(f"GET http://x/bot{TOKEN}/getMe"), "RuntimeError: GET http://x/bot***/getMe"),
        (
            TelegramNetworkError(GetMe(), f"ClientError: http://[::1/bot{TOKEN}/getMe"),
            "huhuqing: cannot reach the Telegram Bot API: HTTP Client says - "
            "ClientError: http://[::1/bot***/getMe",
        ),
    ],
)
def test_an_error_out_of_a_command_is_told_without_the_token(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path,
    logged: io.StringIO,
    failure: Exception,
    told: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUHUQING_BOT_TOKEN", TOKEN)

    async def fails(*_args: object) -> int:
        raise failure

    monkeypatch.setattr(bot.cli, "dispatch", fails)
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert told in err
    assert SECRET not in err
    assert ("Traceback" in err) == isinstance(failure, RuntimeError)  # a bug keeps its trace
