"""A bad setting stops the command with one line naming the variable, exit code 2."""

from __future__ import annotations

import pytest

from bot.__main__ import main


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HUHUQING_BOT_TOKEN", "not-a-token", "HUHUQING_BOT_TOKEN: must look like 123456:ABC"),
        ("HUHUQING_DATABASE_URL", "mysql://x/y", "HUHUQING_DATABASE_URL: must start with"),
        ("HUHUQING_DATABASE_URL", "::::", "HUHUQING_DATABASE_URL: is not a database URL"),
        ("HUHUQING_DEFAULT_LOCALE", "fr", "HUHUQING_DEFAULT_LOCALE: Input should be"),
        ("HUHUQING_LOG_LEVEL", "LOUD", "HUHUQING_LOG_LEVEL: must be DEBUG"),
    ],
)
def test_invalid_setting_is_one_clear_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path,
    variable,
    value,
    message,
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv(variable, value)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err
    if variable == "HUHUQING_BOT_TOKEN":
        assert value not in err  # secrets are never echoed


def test_run_without_a_token_points_to_the_console(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUHUQING_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    assert "huhuqing chat" in capsys.readouterr().err


def test_env_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from bot.config import load_settings

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HUHUQING_DEFAULT_LOCALE=en\nHUHUQING_BOT_TOKEN=1:abc\n")
    settings = load_settings()
    assert settings.default_locale == "en"
    assert settings.bot_token is not None
    assert "abc" not in repr(settings)
