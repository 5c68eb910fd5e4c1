"""What each `huhuqing` subcommand does; bot/__main__.py parses the arguments."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.config import Settings, StartupError
from db.region_import import SAMPLE_REGIONS, RegionImportError, import_regions
from db.session import DatabaseUnavailableError, SchemaOutdatedError, open_database


class CommandError(Exception):
    """A command failed in a way the user can fix; the message says how."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return await _COMMANDS[args.command](args, settings)
    except SchemaOutdatedError as error:
        raise CommandError(str(error)) from None
    except (DatabaseUnavailableError, StartupError) as error:  # a setting to fix: one line
        raise CommandError(str(error), exit_code=2) from None


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.bot_token is None:
        raise CommandError(
            "HUHUQING_BOT_TOKEN is not set. Get a token from @BotFather, "
            "or try the bot without one: huhuqing chat",
            exit_code=2,
        )
    if args.webhook and (not settings.webhook_url or not settings.webhook_secret):
        raise CommandError(
            "--webhook needs HUHUQING_WEBHOOK_URL and HUHUQING_WEBHOOK_SECRET", exit_code=2
        )
    if not args.web:
        return await _run_bot(args.webhook, settings)
    from web.app import serving

    async with serving(settings):
        return await _run_bot(args.webhook, settings)


async def _run_bot(webhook: bool, settings: Settings) -> int:
    if webhook:
        from bot.runners.webhook import run_webhook

        url, secret = settings.webhook_url or "", settings.webhook_secret  # checked by _run
        await run_webhook(settings, url, secret.get_secret_value() if secret else "")
        return 0
    from bot.runners.polling import run_polling

    await run_polling(settings)
    return 0


async def _web(args: argparse.Namespace, settings: Settings) -> int:
    from web.app import run_web

    await run_web(settings)
    return 0


async def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runners.lazy_types import import_aiogram_types_deferred

    import_aiogram_types_deferred()  # first: most of the console's start-up otherwise
    from bot.app import create_bot, create_dispatcher, create_storage, prepare
    from bot.local_session import LocalSession
    from bot.outbox import OutboxWorker
    from bot.runners.console import Console

    database = await open_database(settings.database_url)
    session = LocalSession()
    bot = create_bot(settings, session=session)
    storage = create_storage(settings)
    dispatcher = create_dispatcher(settings, database, storage)
    console = Console(
        dispatcher,
        bot,
        session,
        user_id=args.user,
        language_code=args.lang,
        outbox=OutboxWorker(bot, database.sessionmaker),
    )
    try:
        await prepare(dispatcher)
        from bot.logging_setup import CONSOLE_LOG

        await console.run(log_file=str(CONSOLE_LOG) if sys.stderr.isatty() else None)
    finally:
        await storage.close()
        await database.close()
    return 0


async def _db(args: argparse.Namespace, settings: Settings) -> int:
    if args.db_command == "upgrade":
        from db import migrate  # Alembic is needed only here

        print(await migrate.upgrade_and_tell(settings.database_url))
        return 0
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        await _pg_dump(url, args.file)
    elif url.database and url.database != ":memory:":
        await asyncio.to_thread(_sqlite_backup, Path(url.database), args.file)
    else:
        raise CommandError("an in-memory database cannot be backed up")
    print(f"backup written to {args.file}")
    return 0


async def _pg_dump(url: URL, target: Path) -> None:
    """pg_dump's custom format (restore with pg_restore): a consistent snapshot while the bot
    writes. The password goes by the environment, never on the command line."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise CommandError(
            "pg_dump was not found on PATH: install PostgreSQL's client tools "
            "(Debian: apt install postgresql-client)"
        )
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    command = [pg_dump, "--format=custom", f"--file={target}", "--no-password"]
    for option, value in (("host", url.host), ("port", url.port), ("username", url.username)):
        if value:
            command.append(f"--{option}={value}")
    command.append(f"--dbname={url.database or ''}")
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    process = await asyncio.create_subprocess_exec(
        *command, env=environment, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        await asyncio.to_thread(target.unlink, missing_ok=True)
        lines = [line.strip() for line in errors.decode(errors="replace").splitlines()]
        lines = [line for line in lines if line] or ["no message"]
        reason = next((line for line in lines if "error: " in line), lines[-1])
        reason = reason.split("error: ", 1)[-1]
        raise CommandError(f"pg_dump failed (exit {process.returncode}): {reason}")


def _sqlite_backup(source: Path, target: Path) -> None:
    """SQLite's online backup API: consistent even while the bot writes."""
    if not source.exists():
        raise CommandError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def _regions(args: argparse.Namespace, settings: Settings) -> int:
    if not await asyncio.to_thread(args.file.is_file):
        raise CommandError(f"no such file: {args.file}")
    return await _import_region_file(args.file, settings)


async def _import_region_file(path: Path, settings: Settings) -> int:
    database = await open_database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            count = await import_regions(session, path)
    except RegionImportError as error:
        raise CommandError(
            f"nothing imported, {len(error.problems)} problem(s):\n{error}"
        ) from None
    finally:
        await database.close()
    print(f"imported {count} regions from {path}")
    return 0


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    await _import_region_file(SAMPLE_REGIONS, settings)
    from db.household_import import SAMPLE_HOUSEHOLDS, import_households

    database = await open_database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            report = await import_households(
                session, SAMPLE_HOUSEHOLDS, "huhuqing demo", sample=True
            )
    finally:
        await database.close()
    total = report.added + report.changed + report.unchanged
    print(f"imported {total} fictional sample households from {SAMPLE_HOUSEHOLDS}")
    return 0


async def _households(args: argparse.Namespace, settings: Settings) -> int:
    from bot.household_commands import bind_code, export_file, import_file, list_households
    from db.household_import import HouseholdImportError
    from db.spreadsheets import SpreadsheetError, check_suffix

    try:
        if args.households_command in ("import", "export"):
            check_suffix(args.file)
        if args.households_command == "import" and not await asyncio.to_thread(args.file.is_file):
            raise CommandError(f"no such file: {args.file}")
        if args.households_command == "bindcode" and args.qr and not settings.bot_username:
            raise CommandError("--qr needs HUHUQING_BOT_USERNAME, the bot's @username", 2)
        database = await open_database(settings.database_url)
        try:
            async with database.sessionmaker() as session:
                if args.households_command == "import":
                    await import_file(session, args.file, sys.stdout)
                elif args.households_command == "export":
                    await export_file(session, args.file, args.region, sys.stdout)
                elif args.households_command == "bindcode":
                    await bind_code(
                        session, args.number, settings.bot_username, args.qr, sys.stdout
                    )
                else:
                    await list_households(session, args.region, sys.stdout)
        finally:
            await database.close()
    except HouseholdImportError as error:
        raise CommandError(
            f"nothing imported, {len(error.problems)} problem(s):\n{_first(error.problems)}"
        ) from None
    except (SpreadsheetError, ValueError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        if not error.filename:
            raise
        raise CommandError(f"{error.filename}: {error.strerror or error}") from None
    return 0


def _first(problems: list[str], limit: int = 100) -> str:
    """At most ``limit`` problems, and how many more there are."""
    shown = problems[:limit]
    if len(problems) > limit:
        shown.append(f"… and {len(problems) - limit} more")
    return "\n".join(shown)


async def _audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.audit_commands import parse_limit, parse_since, print_views

    try:
        since, limit = parse_since(args.since), parse_limit(args.limit)
        database = await open_database(settings.database_url)
        try:
            async with database.sessionmaker() as session:
                await print_views(session, args.region, args.household, since, limit, sys.stdout)
        finally:
            await database.close()
    except ValueError as error:
        raise CommandError(str(error), exit_code=2) from None
    return 0


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ask import answer_lines, answer_one

    if args.jsonl == bool(args.question):
        raise CommandError("give either a question or --jsonl (questions on stdin)", exit_code=2)
    database = await open_database(settings.database_url)
    try:
        if args.jsonl:
            await answer_lines(database, sys.stdin, sys.stdout)
        else:
            await answer_one(database, args.question, args.region, args.json, sys.stdout)
    finally:
        await database.close()
    return 0


async def _kb(args: argparse.Namespace, settings: Settings) -> int:
    from knowledge.loader import KnowledgeFileError, load_files
    from knowledge.review import review_problems
    from knowledge.service import KnowledgeBase, export_entries, import_entries

    database = await open_database(settings.database_url)
    knowledge = KnowledgeBase(database.sessionmaker)
    try:
        await knowledge.seed()  # imports and exports start from the bundled entries
        if args.kb_command == "import":
            try:
                entries = await asyncio.to_thread(load_files, args.files)
            except KnowledgeFileError as error:
                raise CommandError(
                    f"nothing imported, {len(error.problems)} problem(s):\n{error}"
                ) from None
            # The editorial checks every entry of the console and of the bundled files passes.
            if problems := await asyncio.to_thread(review_problems, entries):
                raise CommandError(
                    f"nothing imported, {len(problems)} problem(s):\n" + "\n".join(problems)
                )
            async with database.sessionmaker() as session:
                names = ", ".join(path.name for path in args.files)
                report = await import_entries(session, entries, f"import {names}"[:120])
            print(
                f"{len(report.added)} added, {len(report.changed)} changed, "
                f"{report.unchanged} unchanged"
            )
            return 0
        index = await knowledge.index()
        written = await asyncio.to_thread(export_entries, index.entries, args.directory)
        print(f"exported {len(index.entries)} entries to {len(written)} files in {args.directory}")
        return 0
    finally:
        await database.close()


async def _users(args: argparse.Namespace, settings: Settings) -> int:
    from bot.role_notice import RoleAnnouncer
    from bot.user_commands import grant, list_users, revoke

    # The person is told in the bot (the outbox), which also gives them their new menu.
    announce = RoleAnnouncer(settings.default_locale)
    database = await open_database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            if args.users_command == "grant":
                await grant(session, args.telegram_id, args.role, args.region, sys.stdout, announce)
            elif args.users_command == "revoke":
                await revoke(session, args.telegram_id, sys.stdout, announce)
            else:
                await list_users(session, args.role, args.region, sys.stdout)
    except ValueError as error:
        raise CommandError(str(error), exit_code=2) from None
    finally:
        await database.close()
    return 0


async def _cases(args: argparse.Namespace, settings: Settings) -> int:
    from bot.case_commands import list_routes, print_stats, set_route

    if args.cases_command == "anonymise":
        return await _anonymise(args, settings)
    database = await open_database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            if args.cases_command == "stats":
                await print_stats(
                    session, args.region, args.days, args.json, settings.default_locale, sys.stdout
                )
            elif args.cases_command == "route":
                await set_route(session, args.region, args.category, args.level, sys.stdout)
            else:
                await list_routes(session, sys.stdout)
    except ValueError as error:
        raise CommandError(str(error), exit_code=2) from None
    finally:
        await database.close()
    return 0


async def _anonymise(args: argparse.Namespace, settings: Settings) -> int:
    from db.models import utcnow
    from grievances.retention import anonymise_closed, count_due, months_before

    months = args.older_than_months
    if months is None:
        months = settings.retention_months
    if months < 1:
        raise CommandError("--older-than-months must be at least 1", exit_code=2)
    cutoff = months_before(utcnow(), months)
    database = await open_database(settings.database_url)
    try:
        async with database.sessionmaker() as session:
            if args.dry_run:
                count = await count_due(session, cutoff)
            else:
                count = await anonymise_closed(session, cutoff)
    finally:
        await database.close()
    what = f"{count} case{'' if count == 1 else 's'} closed before {cutoff:%Y-%m-%d}"
    if args.dry_run:
        print(f"would anonymise {what} ({months} months ago); nothing changed (dry run)")
    else:
        print(f"anonymised {what} ({months} months ago)")
    return 0


_COMMANDS = {
    "users": _users,
    "cases": _cases,
    "ask": _ask,
    "kb": _kb,
    "run": _run,
    "web": _web,
    "chat": _chat,
    "db": _db,
    "regions": _regions,
    "demo": _demo,
    "households": _households,
    "audit": _audit,
}
