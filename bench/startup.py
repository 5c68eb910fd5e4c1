"""Time from `huhuqing run` process start to the first answered update, and memory after start.

Run: `.venv/bin/python -m bench.startup [--runs N]` (uses a temporary SQLite database and the fake
Bot API server of the tests, on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.telegram_server import DEFAULT_TOKEN, FakeTelegramServer

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_run(env: dict[str, str]) -> tuple[float, float]:
    async with FakeTelegramServer() as server:
        env = {**env, "HUHUQING_TELEGRAM_API_URL": server.base_url}
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            server.send_text(1, "/start")  # waiting before the bot even asks for updates
            await server.wait_for("sendMessage", timeout=60)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(1)  # settled
            return elapsed, rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=15)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUHUQING_")}
        env |= {
            "HUHUQING_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
            "HUHUQING_BOT_TOKEN": DEFAULT_TOKEN,
            "HUHUQING_LOG_LEVEL": "WARNING",
        }
        for command in (["db", "upgrade"], ["demo"]):
            subprocess.run([sys.executable, "-m", "bot", *command], env=env, cwd=ROOT, check=True,
                           capture_output=True)  # fmt: skip
        results = [await one_run(env) for _ in range(runs)]
    times = [elapsed for elapsed, _ in results]
    memory = [rss for _, rss in results]
    print(f"runs: {runs}")
    print(f"start → first answered update: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s, max {max(times):.2f} s")  # fmt: skip
    print(f"RSS after start: median {statistics.median(memory):.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
