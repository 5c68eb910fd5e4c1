"""`huhuqing households import | export | list | bindcode`: the county's registry from the command
line."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from bot.bind_links import bind_link, qr_png
from db import audit
from db.audit import ViewAction
from db.bindings import BindingRepo
from db.household_import import ImportReport, export_households, import_households
from db.households import HouseholdRepo
from db.models import Role
from db.regions import RegionRepo


async def area_of(session: AsyncSession, region: str | None) -> str | None:
    """The code path of a region given by code or exact name; ValueError when not one region."""
    if not region:
        return None
    repo = RegionRepo(session)
    found = await repo.get(region)
    if found is None:
        lookup = await repo.lookup(region)
        matches = lookup.regions if lookup.exact else []
        if len(matches) > 1:
            codes = ", ".join(match.code for match in matches)
            raise ValueError(f"{region} names several regions ({codes}); give the code")
        if not matches:
            raise ValueError(f"no region has the code or name {region}")
        found = matches[0]
    return await HouseholdRepo(session).area_path(found.code)


async def import_file(session: AsyncSession, path: Path, out: TextIO) -> ImportReport:
    report = await import_households(session, path, f"import {path.name} by {_operator()}")
    print(
        f"{report.added} added, {report.changed} changed, {report.unchanged} unchanged from {path}",
        file=out,
    )
    return report


async def export_file(session: AsyncSession, path: Path, region: str | None, out: TextIO) -> None:
    area = await area_of(session, region)
    count = await export_households(session, path, area)
    await audit.record_area(session, area, f"cli:{_operator()}", Role.ADMIN, ViewAction.EXPORT)
    print(f"exported {count} households to {path}", file=out)


async def list_households(session: AsyncSession, region: str | None, out: TextIO) -> None:
    """One household a line, its number first: number, village, masked head, status."""
    for row in await HouseholdRepo(session).numbers(await area_of(session, region)):
        print("\t".join(row), file=out)


async def bind_code(
    session: AsyncSession, number: str, bot_username: str | None, qr: Path | None, out: TextIO
) -> None:
    """The code on the first line, then the deep link when the bot's username is known."""
    household = await HouseholdRepo(session).get(number.strip())
    if household is None:
        raise ValueError(f"no household has the number {number}")
    viewer = f"cli:{_operator()}"
    await audit.record(session, [household], viewer, Role.ADMIN, ViewAction.BINDCODE)
    code, _ = await BindingRepo(session).create_code(household, viewer)
    print(code, file=out)
    if bot_username:
        link = bind_link(bot_username, code)
        print(link, file=out)
        if qr is not None:
            await asyncio.to_thread(qr.write_bytes, qr_png(link))
            print(f"QR code written to {qr}", file=out)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"
