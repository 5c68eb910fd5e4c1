"""Bring the catalogs up to date with the code and fill in translations from YAML files, safely
when several people (or tools) run it at once: `python -m tools.catalog [FILE.yaml ...]`.

Each YAML file maps an English msgid to its zh_Hans string, or to {zh_Hans: …, zh_Hant: …} where
OpenCC's character conversion is not right. zh_Hant strings not given are converted from zh_Hans;
English needs nothing (the msgid is the English text). The catalogs are then compiled.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import yaml
from babel.messages.pofile import read_po, write_po

from knowledge.normalize import to_traditional

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LOCK = ROOT / ".catalog.lock"
# Where the strings are: the bot's packages and the web console (its templates by babel.cfg).
SOURCES = ("bot", "handlers", "knowledge", "grievances", "web")


def _run(*command: str) -> None:
    subprocess.run([sys.executable, "-m", *command], cwd=ROOT, check=True, capture_output=True)


def _translations(files: list[Path]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for file in files:
        for msgid, value in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).items():
            strings = value if isinstance(value, dict) else {"zh_Hans": value}
            if "zh_Hant" not in strings:
                strings["zh_Hant"] = to_traditional(strings["zh_Hans"])
            found[msgid] = strings
    return found


def _fill(locale: str, strings: dict[str, dict[str, str]]) -> int:
    path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as file:
        catalog = read_po(file, locale=locale)
    filled = 0
    for message in catalog:
        wanted = strings.get(message.id, {}).get(locale) if message.id else None
        if wanted and (message.string != wanted or message.fuzzy):
            message.string = wanted
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as file:
        write_po(file, catalog, width=100, omit_header=False)
    return filled


def main(arguments: list[str]) -> None:
    files = [Path(argument) for argument in arguments]
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _run(
            "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "__",
            "-k", "lazy_gettext", "--no-location", "--project", "huhuqing",
            "-o", "locales/messages.pot", *SOURCES,
        )  # fmt: skip
        _run(
            "babel.messages.frontend", "update", "-i", "locales/messages.pot", "-d", "locales",
            "-D", "messages", "--no-fuzzy-matching",
        )  # fmt: skip
        strings = _translations(files)
        for locale in ("zh_Hans", "zh_Hant"):
            print(f"{locale}: {_fill(locale, strings)} strings filled")
        _run("babel.messages.frontend", "compile", "-d", "locales", "-D", "messages")


if __name__ == "__main__":
    main(sys.argv[1:])
