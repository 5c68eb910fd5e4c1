"""The `huhuqing` command line (stable: scripts and operators rely on it)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, load_settings
from bot.logging_setup import configure_logging

CONSOLE_USER = 10001  # the console's default user; `users grant 10001 cadre` makes it a cadre


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="huhuqing", description="户户清 Huhuqing bot")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="receive updates at WEBHOOK_URL")
    run.add_argument(
        "--web", action="store_true", help="also serve the web console (HUHUQING_WEB_LISTEN)"
    )
    commands.add_parser(
        "web",
        help="the county office's web console on HUHUQING_WEB_LISTEN; cadres and admins sign "
        "in with the link the bot's /web sends",
    )

    chat = commands.add_parser(
        "chat",
        help="talk to the bot in the terminal, no token needed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="language codes (--lang): zh-hans 简体中文, zh-hant 繁體中文, en English;\n"
        "Telegram's other codes work too (zh-cn, zh-tw, zh-hk...). /language changes it.",
    )
    chat.add_argument(
        "--user",
        type=int,
        default=CONSOLE_USER,
        metavar="ID",
        help=f"act as this Telegram user id (default {CONSOLE_USER}; give a cadre's id to act "
        "as that cadre)",
    )
    chat.add_argument(
        "--lang", default="zh-hans", metavar="CODE", help="the user's language (default zh-hans)"
    )

    db = commands.add_parser("db", help="database schema and backups")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the migrations")
    backup = db_commands.add_parser(
        "backup", help="online backup: a copy of the SQLite file, or pg_dump for PostgreSQL"
    )
    backup.add_argument("file", type=Path)

    regions = commands.add_parser("regions", help="the region registry")
    region_commands = regions.add_subparsers(dest="regions_command", required=True)
    region_import = region_commands.add_parser("import", help="import a CSV or YAML registry")
    region_import.add_argument("file", type=Path)

    households = commands.add_parser("households", help="the household registry")
    household_commands = households.add_subparsers(dest="households_command", required=True)
    household_import = household_commands.add_parser(
        "import", help="validate, then import a CSV or XLSX registry (db/household_template.py)"
    )
    household_import.add_argument("file", type=Path)
    household_export = household_commands.add_parser(
        "export", help="write the registry as CSV or XLSX (by the file's extension)"
    )
    household_export.add_argument("file", type=Path)
    household_list = household_commands.add_parser("list", help="one household number a line")
    for command in (household_export, household_list):
        command.add_argument("--region", help="only households at or below this region")
    bindcode = household_commands.add_parser(
        "bindcode", help="a one-time code (7 days) that links a member's account to a household"
    )
    bindcode.add_argument("number", help="the household's number")
    bindcode.add_argument("--qr", type=Path, help="also write the link's QR code to this PNG")

    ask = commands.add_parser("ask", help="answer one question (or JSON lines with --jsonl)")
    ask.add_argument("question", nargs="?", help="the question, as a villager would type it")
    ask.add_argument("--region", help="region code or name (长春市, 云南省, a village)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--jsonl", action="store_true", help='read {"q", "region"} lines on stdin, one answer each'
    )

    kb = commands.add_parser("kb", help="policy answers: import and export YAML")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    kb_import = kb_commands.add_parser("import", help="validate, then import entries from YAML")
    kb_import.add_argument("files", type=Path, nargs="+")
    kb_export = kb_commands.add_parser("export", help="write the current entries as YAML")
    kb_export.add_argument("directory", type=Path)

    users = commands.add_parser("users", help="roles of users")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    grant = user_commands.add_parser("grant", help="give a user a role and an area")
    grant.add_argument("telegram_id", type=int)
    grant.add_argument("role", choices=["villager", "cadre", "admin"])
    grant.add_argument(
        "--region",
        help="the area a cadre or admin handles, by code or name (以古镇, 镇雄县): a township or "
        "above; an admin without it handles everything",
    )
    revoke = user_commands.add_parser("revoke", help="take a cadre's or admin's role away")
    revoke.add_argument("telegram_id", type=int)
    users_list = user_commands.add_parser("list", help="the cadres and admins, one a line")
    users_list.add_argument("--role", choices=["villager", "cadre", "admin"], help="only this role")
    users_list.add_argument("--region", help="only those whose area is at or below this region")

    cases = commands.add_parser("cases", help="grievance cases: statistics and routing")
    case_commands = cases.add_subparsers(dest="cases_command", required=True)
    stats = case_commands.add_parser("stats", help="per-township statistics")
    stats.add_argument("--days", type=int, default=30, help="the period: the last N days")
    stats.add_argument("--region", help="only townships under this region (code or name)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    route = case_commands.add_parser("route", help="set which level handles cases")
    route.add_argument("--region", help="region (code or name) the rule applies to (default: all)")
    route.add_argument("--category", help="category code (default: all)")
    route.add_argument("--level", required=True, choices=["township", "county", "city", "province"])
    case_commands.add_parser("routes", help="list the routing rules, retired ones included")
    anonymise = case_commands.add_parser(
        "anonymise", help="clear the reporter and texts of cases closed long ago (retention)"
    )
    anonymise.add_argument(
        "--older-than-months",
        type=int,
        metavar="N",
        help="cases closed more than N months ago (default HUHUQING_RETENTION_MONTHS, 24)",
    )
    anonymise.add_argument(
        "--dry-run", action="store_true", help="only count the cases; change nothing"
    )

    audit = commands.add_parser("audit", help="who viewed which household, newest first")
    audit.add_argument("--region", help="only households at or below this region (code or name)")
    audit.add_argument("--household", help="only this household number")
    audit.add_argument("--since", help="from this day on (YYYY-MM-DD, China time)")
    audit.add_argument("--limit", default="100", help="at most this many lines (default 100)")

    commands.add_parser("demo", help="load the sample regions and fictional households")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"huhuqing: configuration error: {error}", file=sys.stderr)
        return 2
    redactor = configure_logging(
        settings, console=args.command == "chat", quiet=args.command == "ask"
    )
    from bot import cli

    try:
        return asyncio.run(cli.dispatch(args, settings))
    except KeyboardInterrupt:  # Ctrl-C: the database is closed already, nothing to say
        return 130
    except BrokenPipeError:  # `huhuqing households list | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except cli.CommandError as error:
        print(redactor.redact(f"huhuqing: {error}"), file=sys.stderr)
        return error.exit_code
    except Exception as error:  # an outage or a bug: told without the bot token
        print(redactor.redact(_failure(error)), file=sys.stderr)
        return 1


def _failure(error: Exception) -> str:
    """One line when the Bot API cannot be reached or refuses; the traceback of a bug."""
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    if isinstance(error, TelegramNetworkError):
        return f"huhuqing: cannot reach the Telegram Bot API: {error}"
    if isinstance(error, TelegramAPIError):
        return f"huhuqing: the Telegram Bot API refused: {error}"
    return "".join(traceback.format_exception(error)).rstrip()


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
