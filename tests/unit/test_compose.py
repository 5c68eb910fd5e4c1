"""compose.yaml cannot run here: it is kept in step with what does run, deploy/nginx.conf and the
settings tests/e2e/test_two_instances.py gives its two instances, and with the bot's settings
and command line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.__main__ import build_parser
from bot.config import Settings
from bot.isolation import LOCK_SECONDS
from tests.e2e.nginx import CONFIG, TEST_ONLY_SETTINGS, instance_environment, read_config

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "HUHUQING_"
# What compose.yaml asks the operator to put in .env, with values of the right shape.
OPERATOR_VALUES = {
    "HUHUQING_BOT_TOKEN": "123456:ABC",
    "POSTGRES_PASSWORD": "pw",
    "HUHUQING_PUBLIC_HOST": "bot.example.org",
    "HUHUQING_WEBHOOK_SECRET": "s3cret",
}


def interpolate(value: Any) -> Any:
    """Compose's ``${NAME}`` and ``${NAME:?message}``, with the operator's values."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: OPERATOR_VALUES[m[1]], value)


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    return {name: interpolate(value) for name, value in service.get("environment", {}).items()}


def command(service: dict[str, Any]) -> list[str]:
    parts = [*service.get("entrypoint", []), *service.get("command", [])]
    return parts if isinstance(parts, list) else shlex.split(parts)


def bots(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in services.items()
        if command(service)[:3] == ["huhuqing", "run", "--webhook"]
    }


def test_two_bot_instances_with_names_of_their_own(services) -> None:
    names = [environment(bot).get(f"{PREFIX}INSTANCE_NAME") for bot in bots(services).values()]
    assert len(names) == 2
    assert None not in names
    assert len(set(names)) == 2


def test_the_instances_get_the_settings_the_test_gives_its_own(services) -> None:
    tested = instance_environment(
        name="n", listen="l", webhook_url="w", secret="s", token="t",
        database_url="d", redis_url="r", telegram_api_url="a",
    )  # fmt: skip
    for name, bot in bots(services).items():
        assert set(environment(bot)) == set(tested) - TEST_ONLY_SETTINGS, name


def test_every_setting_is_one_the_bot_reads(services) -> None:
    for name, service in services.items():
        for variable, value in environment(service).items():
            if not variable.startswith(PREFIX):
                continue
            field = variable.removeprefix(PREFIX).lower()
            assert field in Settings.model_fields, f"{name}: {variable} is no setting"
            Settings(_env_file=None, **{field: value})  # type: ignore[call-arg]  # valid


def test_postgres_and_redis_are_the_services_of_the_file(services) -> None:
    postgres = services["postgres"]["environment"]
    for name, service in services.items():
        env = environment(service)
        if database := env.get(f"{PREFIX}DATABASE_URL"):
            url = urlsplit(database)
            assert url.scheme == "postgresql+asyncpg", name
            assert (url.hostname, url.path) == ("postgres", f"/{postgres['POSTGRES_DB']}"), name
            assert url.username == postgres["POSTGRES_USER"], name
            assert url.password == interpolate(postgres["POSTGRES_PASSWORD"]), name
        if redis := env.get(f"{PREFIX}REDIS_URL"):
            assert urlsplit(redis).hostname == "redis", name
    for bot in bots(services).values():
        assert environment(bot)[f"{PREFIX}REDIS_URL"], "instances share state through Redis"


def test_the_schema_is_upgraded_before_the_bots_start(services) -> None:
    migrations = [
        name for name, s in services.items() if command(s) == ["huhuqing", "db", "upgrade"]
    ]
    assert len(migrations) == 1
    for name, bot in bots(services).items():
        assert bot["depends_on"][migrations[0]] == {"condition": "service_completed_successfully"}
        assert bot["restart"] == "unless-stopped", f"{name} must come back after a crash"


def test_every_command_is_one_the_command_line_has(services) -> None:
    parser = build_parser()
    for name, service in services.items():
        parts = command(service)
        if parts[:1] == ["huhuqing"]:
            parser.parse_args(parts[1:])  # exits (SystemExit) on an unknown command
        else:
            assert "huhuqing" not in parts, name


def test_nginx_forwards_to_the_instances_on_their_port(services) -> None:
    config = read_config()
    expected = []
    for name, bot in bots(services).items():
        listen = environment(bot)[f"{PREFIX}WEBHOOK_LISTEN"]
        expected.append(f"{name}:{listen.rpartition(':')[2]}")
    assert sorted(config.upstreams) == sorted(expected)


def test_telegram_reaches_nginx_at_the_webhook_url(services) -> None:
    config = read_config()
    nginx = services["nginx"]
    assert f"{config.listen_port}:{config.listen_port}" in nginx["ports"]
    for name, bot in bots(services).items():
        url = urlsplit(environment(bot)[f"{PREFIX}WEBHOOK_URL"])
        assert url.scheme == "https", name
        assert url.port == config.listen_port, name
        assert url.path == config.webhook_path, name


def test_nginx_runs_the_tested_file_with_its_certificates(services) -> None:
    volumes = dict(volume.rsplit(":", 2)[:2] for volume in services["nginx"]["volumes"])
    assert volumes[f"./{CONFIG.relative_to(ROOT)}"] == "/etc/nginx/nginx.conf"
    config = read_config()
    mounted = {Path(target) for target in volumes.values()}
    assert Path(config.certificate).parent in mounted
    assert Path(config.certificate_key).parent in mounted


def test_nginx_passes_updates_on_as_the_bot_expects() -> None:
    config = read_config()
    text = config.text
    assert re.search(
        r"proxy_set_header X-Telegram-Bot-Api-Secret-Token \$http_x_telegram_bot_api_secret_token;",
        text,
    )
    # A dead instance's updates go to the other one (the bot handles a repeated update once);
    # a slow instance's are not sent twice at the same time.
    assert {"error", "non_idempotent"} <= set(config.next_upstream)
    assert "timeout" not in config.next_upstream
    # A repeated update waits for the dead instance's per-user lock to expire: nginx must wait
    # longer than that for the answer.
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", text)[1])  # type: ignore[index]
    assert read_timeout > LOCK_SECONDS * 2
