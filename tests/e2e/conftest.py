from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def huhuqing(*args: str, env: dict[str, str], stdin: str = "", timeout: float = 60):
    """Run the installed command line as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUHUQING_")}
    env["HUHUQING_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    env["PYTHONUNBUFFERED"] = "1"
    return env
