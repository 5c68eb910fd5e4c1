"""The `huhuqing` command line (stable: scripts and operators rely on it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="huhuqing", description="户户清 Huhuqing bot")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="start the bot (long polling)")

    chat = commands.add_parser("chat", help="talk to the bot in the terminal, no token needed")
    chat.add_argument("--user", type=int, default=10001, help="act as this Telegram user id")
    chat.add_argument("--lang", default="zh-hans", help="the user's Telegram language code")

    db = commands.add_parser("db", help="database schema and backups")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the migrations")
    backup = db_commands.add_parser("backup", help="online backup of the SQLite database")
    backup.add_argument("file", type=Path)

    regions = commands.add_parser("regions", help="the region registry")
    region_commands = regions.add_subparsers(dest="regions_command", required=True)
    region_import = region_commands.add_parser("import", help="import a CSV or YAML registry")
    region_import.add_argument("file", type=Path)

    commands.add_parser("demo", help="load the sample regions")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"huhuqing: configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(
        max(logging.WARNING, logging.getLevelName(settings.log_level))
    )
    from bot import cli

    try:
        return asyncio.run(cli.dispatch(args, settings))
    except KeyboardInterrupt:
        return 130
    except cli.CommandError as error:
        print(f"huhuqing: {error}", file=sys.stderr)
        return error.exit_code


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
