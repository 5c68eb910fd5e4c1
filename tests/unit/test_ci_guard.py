"""In CI the suite refuses to run without PostgreSQL and Redis instead of skipping their tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("variable", "value", "service"),
    [
        (
            "HUHUQING_TEST_POSTGRES_URL",
            "postgresql+asyncpg://postgres@127.0.0.1:1/test",
            "postgres",
        ),
        ("HUHUQING_TEST_REDIS_URL", "redis://127.0.0.1:1/15", "redis"),
    ],
)
def test_ci_fails_loudly_when_a_service_is_unreachable(variable, value, service) -> None:
    env = {**os.environ, "CI": "true", variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit/test_config.py", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "required services are unreachable" in result.stdout + result.stderr
    assert service in result.stdout + result.stderr
