"""Write requirements.lock: the exact, hashed versions the Docker image installs.

`make lock` runs it after a change to pyproject.toml's dependencies or build requirements;
tests/unit/test_lock.py fails until it has. The lock is resolved with uv (`uv pip compile`) for
the image's Python 3.11 on any platform (`--universal`), whatever machine runs this, and holds
the build requirements too (setuptools, Babel), so the image builds the project offline. Its
first line is a digest of the requirements it was made from, which the test recomputes.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
DIGEST_PREFIX = "# requirements digest: "
PYTHON_VERSION = "3.11"  # the Dockerfile's base image


def requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The runtime dependencies and the build requirements, as pyproject.toml writes them."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [*data["project"]["dependencies"], *data["build-system"]["requires"]]


def digest(reqs: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(reqs)).encode()).hexdigest()


def compile_lock(reqs: list[str]) -> str:
    """The lock uv resolves for these requirements (its own header and annotations kept)."""
    try:
        from uv import find_uv_bin
    except ImportError:
        sys.exit("uv is not installed in this environment: run `make lock`, which installs it")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "requirements.in")
        source.write_text("\n".join(reqs) + "\n", encoding="utf-8")
        result = subprocess.run(
            [find_uv_bin(), "pip", "compile", str(source), "--universal",
             "--python-version", PYTHON_VERSION, "--generate-hashes", "--no-annotate",
             "--custom-compile-command", "make lock", "--quiet", "--no-config"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"uv pip compile failed:\n{result.stderr}")
    return result.stdout


def main() -> None:
    reqs = requirements()
    LOCK.write_text(f"{DIGEST_PREFIX}{digest(reqs)}\n{compile_lock(reqs)}", encoding="utf-8")
    print(f"wrote {LOCK.relative_to(ROOT)} for {len(reqs)} requirements")


if __name__ == "__main__":
    main()
