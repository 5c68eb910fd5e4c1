"""Search latency, index build time and memory, with the real KB and replicated to 5,000 entries;
cold start of `huhuqing ask`. Run: `.venv/bin/python -m bench.kb_speed`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.percentiles import nearest_rank
from knowledge.entries import Entry
from knowledge.loader import bundled_files, load_files
from knowledge.search import KnowledgeIndex

ROOT = Path(__file__).resolve().parent.parent
NEGATIVES = Path(__file__).with_name("data") / "out_of_scope.txt"


def replicate(entries: list[Entry], total: int) -> list[Entry]:
    """Copies of the entries, each copy's phrasings given a distinct place name, up to total."""
    copies = list(entries)
    round_ = 0
    while len(copies) < total:
        round_ += 1
        for entry in entries:
            if len(copies) == total:
                break
            place = f"第{round_}片区"
            copies.append(
                entry.model_copy(
                    update={
                        "id": f"{entry.id}.copy{round_}",
                        "questions": tuple(f"{place}{q}" for q in entry.questions),
                    }
                )
            )
    return copies


def latencies(index: KnowledgeIndex, questions: list[str], repeat: int = 5) -> list[float]:
    timings = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            index.search(question)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def cold_start(runs: int = 5) -> float:
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUHUQING_")}
        env["HUHUQING_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/bench.db"
        command = [sys.executable, "-m", "bot"]
        subprocess.run([*command, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run([*command, "ask", "seed"], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([*command, "ask", "小额信贷能贷多少钱"], env=env, cwd=ROOT,
                           check=True, capture_output=True)  # fmt: skip
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def memory_after_loading(total: int) -> float:
    """Peak RSS (MiB) of a fresh process that loads the KB and builds an index of ``total``."""
    code = (
        "import resource; from bench.kb_speed import replicate; "
        "from knowledge.loader import bundled_files, load_files; "
        "from knowledge.search import KnowledgeIndex; "
        f"KnowledgeIndex(replicate(load_files(bundled_files()), {total})); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return int(out.stdout) / 1024


def main() -> None:
    entries = load_files(bundled_files())
    questions = [q for entry in entries for q in entry.questions]
    questions += [line for line in NEGATIVES.read_text().splitlines() if line[:1] != "#"]
    for total in (len(entries), 5000):
        corpus = replicate(entries, total)
        started = time.perf_counter()
        index = KnowledgeIndex(corpus)
        build_ms = (time.perf_counter() - started) * 1000
        timings = latencies(index, questions)
        print(
            f"{total:>5} entries: build {build_ms:6.0f} ms; per question "
            f"p50 {nearest_rank(timings, 0.5):.2f} ms, p99 {nearest_rank(timings, 0.99):.2f} ms "
            f"({len(timings)} searches); peak RSS after loading "
            f"{memory_after_loading(total):.0f} MiB"
        )
    print(f"cold start of `huhuqing ask` (median of 5): {cold_start():.2f} s")


if __name__ == "__main__":
    main()
