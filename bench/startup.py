"""Time from `huhuqing run` process start to the first answered update, and memory after start;
the same for `huhuqing chat` (a piped `/start` → the first line of its answer), and its CPU time.

Run: `.venv/bin/python -m bench.startup [--runs N]` (uses a temporary SQLite database and the fake
Bot API server of the tests, on 127.0.0.1). The machine's load changes the wall-clock times a lot
(two cores shared): the CPU time of the console's process is the steadier figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
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
            await asyncio.to_thread(process.wait, 15)  # the fake API answers its last calls


def console_run(env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds from `chat`'s start to its first answer line, and its CPU seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"], cwd=ROOT, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write("/start\n")
    process.stdin.flush()
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdin.close()
    process.stdout.read()
    process.wait(timeout=60)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, usage.ru_utime + usage.ru_stime


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
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_so_far = cpu_before.ru_utime + cpu_before.ru_stime
        console = []
        for _ in range(runs):
            elapsed, cpu_total = console_run(env)
            console.append((elapsed, cpu_total - cpu_so_far))
            cpu_so_far = cpu_total
    times = [elapsed for elapsed, _ in results]
    memory = [rss for _, rss in results]
    print(f"runs: {runs}")
    print(f"start → first answered update: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f} s, max {max(times):.2f} s")  # fmt: skip
    print(f"RSS after start: median {statistics.median(memory):.0f} MiB")
    walls = [elapsed for elapsed, _ in console]
    cpus = [cpu for _, cpu in console]
    print(f"console: start → answer to a piped /start: median {statistics.median(walls):.2f} s, "
          f"min {min(walls):.2f} s; CPU a run: median {statistics.median(cpus):.2f} s")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
