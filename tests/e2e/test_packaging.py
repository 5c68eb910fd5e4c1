"""`pip install .` and `pip install -e .`, without `make`, give a `huhuqing` answering in Chinese.

The project's files (as git would check them out: no compiled `.mo` catalogs, no `.venv`) are
copied to a temporary directory and installed into a fresh venv, with neither `make` nor
`pybabel compile` run. The new venv reaches this venv's site-packages through a `.pth` line, so
the dependencies are not downloaded again and the install takes seconds (`--no-deps`,
`--no-build-isolation`, `--no-index`: nothing is fetched).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ("zh_Hans", "zh_Hant", "en")


def project_files() -> list[str]:
    """The files a fresh clone of the working tree would have (tracked or new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_project(target: Path) -> Path:
    for name in project_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    assert not list(target.glob("locales/*/LC_MESSAGES/*.mo")), "a clone has no compiled catalogs"
    return target


def fresh_venv(path: Path) -> Path:
    """A venv without pip whose imports fall back on this venv's packages; its bin/ directory."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    own = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, check=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(own, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return path / "bin"


def pip_install(bin_dir: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--quiet",
         "--no-deps", "--no-build-isolation", "--no-index", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def run(bin_dir: Path, tmp_path: Path, *args: str, stdin: str = "") -> str:
    """Run the installed `huhuqing` outside the source tree, on a database of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUHUQING_", "PYTHON"))}
    env["HUHUQING_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    result = subprocess.run(
        [bin_dir / "huhuqing", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.mark.parametrize("editable", [False, True], ids=["pip install .", "pip install -e ."])
def test_a_plain_pip_install_chats_in_chinese(tmp_path: Path, editable: bool) -> None:
    source = copy_project(tmp_path / "clone")
    bin_dir = fresh_venv(tmp_path / "venv")
    pip_install(bin_dir, *(["--editable"] if editable else []), str(source))

    run(bin_dir, tmp_path, "db", "upgrade")
    simplified = run(bin_dir, tmp_path, "chat", stdin="贷款要抵押吗\n")
    traditional = run(bin_dir, tmp_path, "chat", "--lang", "zh-tw", stdin="/start\n")

    assert "抵押" in simplified  # the answer, in the words of the knowledge base
    assert "📄 来源：" in simplified  # its label, from the zh_Hans catalog
    assert "您好！我是“戶戶清”，幫您弄清扶貧政策的小助手。" in traditional
    if editable:  # compiled in place, where the editable install runs from
        assert all((source / f"locales/{c}/LC_MESSAGES/messages.mo").is_file() for c in CATALOGS)
