"""Import a region registry (CSV or YAML): validate every row first, then write all or nothing."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Region, RegionAlias, RegionLevel
from db.region_keys import region_key

SAMPLE_REGIONS = Path(__file__).with_name("data") / "sample_regions.yaml"
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
FIELDS = ("code", "name", "level", "parent", "aliases")


class RegionImportError(Exception):
    """The file has bad rows; ``problems`` holds one "file:line: message" per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class RegionRow:
    line: int
    code: str
    name: str
    level: str
    parent: str | None
    aliases: list[str] = field(default_factory=list)
    is_sample: bool = False


def read_rows(path: Path) -> list[RegionRow]:
    """Parse a CSV or YAML registry into rows that remember their line numbers."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_rows(path, text)
    return _csv_rows(text)


def _split_aliases(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [part.strip() for part in re.split(r"[|;；、]", str(value)) if part.strip()]


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


def _csv_rows(text: str) -> list[RegionRow]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    for record in reader:
        rows.append(
            RegionRow(
                line=reader.line_num,
                code=_cell(record.get("code")),
                name=_cell(record.get("name")),
                level=_cell(record.get("level")).lower(),
                parent=_cell(record.get("parent")) or None,
                aliases=_split_aliases(record.get("aliases")),
                is_sample=_cell(record.get("sample")).lower() in ("1", "true", "yes"),
            )
        )
    return rows


def _yaml_rows(path: Path, text: str) -> list[RegionRow]:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise RegionImportError([f"{path}:{line}: not valid YAML"]) from None
    sample = False
    if isinstance(data, dict):  # {sample: true, regions: [...]}
        sample = bool(data.get("sample"))
        nodes = next((v for k, v in root.value if k.value == "regions"), None)
        data = data.get("regions")
        root = nodes
    if not isinstance(data, list) or root is None:
        raise RegionImportError([f"{path}:1: expected a list of regions"])
    rows = []
    for node, record in zip(root.value, data, strict=True):
        line = node.start_mark.line + 1
        if not isinstance(record, dict):
            rows.append(RegionRow(line=line, code="", name="", level="", parent=None))
            continue
        rows.append(
            RegionRow(
                line=line,
                code=_cell(record.get("code")),
                name=_cell(record.get("name")),
                level=_cell(record.get("level")).lower(),
                parent=_cell(record.get("parent")) or None,
                aliases=_split_aliases(record.get("aliases")),
                is_sample=sample or bool(record.get("sample")),
            )
        )
    return rows


async def validate(session: AsyncSession, path: Path, rows: list[RegionRow]) -> None:
    """Raise RegionImportError listing every bad row; return quietly when all are good."""
    problems: list[str] = []
    levels = {level.value: level for level in RegionLevel}
    in_file: dict[str, RegionRow] = {}
    for row in rows:
        if row.code in in_file:
            problems.append(
                f"{path}:{row.line}: code {row.code} repeats line {in_file[row.code].line}"
            )
        elif row.code:
            in_file[row.code] = row
    parents = {row.parent for row in rows if row.parent} - in_file.keys()
    known = {}
    if parents:
        found = await session.scalars(select(Region).where(Region.code.in_(parents)))
        known = {region.code: region.level for region in found}

    for row in rows:
        where = f"{path}:{row.line}:"
        if not _CODE.match(row.code):
            problems.append(f"{where} code must be 1-32 letters, digits, - or _")
        if not row.name or len(row.name) > 100:
            problems.append(f"{where} name is missing or longer than 100 characters")
        level = levels.get(row.level)
        if level is None:
            problems.append(f"{where} level must be one of {', '.join(levels)}")
            continue
        if row.parent is None:
            if level is not RegionLevel.PROVINCE:
                problems.append(f"{where} a {level} needs a parent")
            continue
        parent_level = in_file[row.parent].level if row.parent in in_file else known.get(row.parent)
        if parent_level is None:
            problems.append(f"{where} parent {row.parent} is neither in this file nor imported")
        elif parent_level in levels and levels[parent_level].depth >= level.depth:
            problems.append(f"{where} parent {row.parent} is a {parent_level}, not above a {level}")
    if problems:
        raise RegionImportError(problems)


async def import_regions(session: AsyncSession, path: Path) -> int:
    """Validate and write the registry in one transaction; return the number of regions."""
    rows = read_rows(path)
    await validate(session, path, rows)
    for level in RegionLevel:  # parents are written before their children
        for row in (row for row in rows if row.level == level):
            region = await session.get(Region, row.code) or Region(code=row.code)
            region.name = row.name
            region.level = row.level
            region.parent_code = row.parent
            region.key = region_key(row.name)
            region.is_sample = row.is_sample
            # Keep the alias rows that stay, so that no delete and insert of one key collide.
            kept = {alias.alias: alias for alias in region.aliases}
            region.aliases = [
                kept.get(alias) or RegionAlias(alias=alias, key=region_key(alias))
                for alias in dict.fromkeys(row.aliases)
            ]
            session.add(region)
        await session.flush()
    await session.commit()
    return len(rows)
