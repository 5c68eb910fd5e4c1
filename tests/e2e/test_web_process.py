"""`huhuqing web` as an operator starts it: it serves the console until SIGTERM, and a port in
use is one line."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.e2e.conftest import ROOT, huhuqing
from tests.e2e.test_setup_errors import assert_one_line, free_port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_until_served(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the console did not start within 30 s")


def test_the_console_serves_until_stopped(cli_env: dict[str, str]) -> None:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    port = free_port()
    env = {**cli_env, "HUHUQING_WEB_LISTEN": f"127.0.0.1:{port}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_until_served(f"http://127.0.0.1:{port}/healthz", process)
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok")
        status, page = _get(f"http://127.0.0.1:{port}/cases")
        assert status == 401
        assert "请在 Telegram 里给机器人发送 /web" in page
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr


def test_a_port_in_use_is_one_line(cli_env: dict[str, str]) -> None:
    assert huhuqing("db", "upgrade", env=cli_env).returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**cli_env, "HUHUQING_WEB_LISTEN": f"127.0.0.1:{port}"}
        assert_one_line(huhuqing("web", env=env), "HUHUQING_WEB_LISTEN", str(port))
