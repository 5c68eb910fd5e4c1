"""Import and export the household registry (db/household_template.py describes the file):
every row is checked first, then all are written in one transaction, or none."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.household_template import (
    COLUMNS,
    HEADER,
    HouseholdData,
    Visit,
    column_for,
    format_row,
    id_like,
    id_like_header,
    parse_row,
    template_notes,
)
from db.households import HouseholdRepo, data_of, path_of
from db.models import (
    Household,
    HouseholdBenefit,
    HouseholdHelper,
    HouseholdIncome,
    HouseholdMeasure,
    HouseholdMember,
    HouseholdVersion,
    HouseholdVisit,
    Region,
    RegionLevel,
    utcnow,
)
from db.regions import RegionRepo
from db.spreadsheets import open_table, write_table
from knowledge.households import MemberFlag

DATA = Path(__file__).with_name("data")
SAMPLE_HOUSEHOLDS = DATA / "sample_households.csv"
TEMPLATE_CSV = DATA / "households_template.csv"
TEMPLATE_XLSX = DATA / "households_template.xlsx"
_CHUNK = 500


def _bulk_insert(model: type) -> Insert:
    """An ORM bulk insert whose rows all go in a few statements: NULLs are written as NULL
    (by default a row's None values are left out, and each set of them is a statement apart)."""
    return insert(model).execution_options(render_nulls=True)


class HouseholdImportError(Exception):
    """The file has bad rows; ``problems`` holds one "FILE:ROW: column: reason" per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


class _Checker:
    """Checks a file's header, then its rows one at a time; the problems are kept in the order
    they are reported: the header, the rows, cells like ID or bank numbers, the villages."""

    def __init__(self, path: Path, header: list[str], header_row: int) -> None:
        self.path = path
        self.header = header
        self.problems: list[str] = []
        self.village_problems: list[str] = []
        self.id_cells: dict[int, list[tuple[int, str]]] = defaultdict(list)  # column → (row, cell)
        self.seen: dict[str, int] = {}  # number → its first row
        names: list[str | None] = []
        for text in header:
            column = column_for(text) if text else None
            where = f"{path}:{header_row}: {text or '(empty)'}"
            if text and id_like_header(text):
                self.problems.append(
                    f"{where}: a column of ID-card or bank numbers is refused; "
                    "such numbers are never stored"
                )
            elif column is None and text:
                self.problems.append(
                    f"{where}: unknown column (the template's: {', '.join(HEADER)})"
                )
            elif column is not None and column.name in names:
                self.problems.append(f"{where}: the column appears twice")
            names.append(column.name if column is not None and column.name not in names else None)
        for column in COLUMNS:
            if column.required and column.name not in names:
                self.problems.append(f"{path}:{header_row}: {column.name}: required column missing")
        self.names = names
        self.labels = {name: text for name, text in zip(names, header, strict=True) if name}

    def row(self, row: int, cells: list[str]) -> HouseholdData | None:
        """The row's household, or None when it has problems (recorded)."""
        id_like_row = False
        for index, cell in enumerate(cells):
            if cell and id_like(cell):
                self.id_cells[index].append((row, cell))
                id_like_row = True
        if id_like_row:
            return None  # reported once per column, at the end
        record = {
            name: cells[index] if index < len(cells) else ""
            for index, name in enumerate(self.names)
            if name
        }
        household, row_problems = parse_row(record)
        for name, reason in row_problems:
            self.problems.append(f"{self.path}:{row}: {self.labels.get(name, name)}: {reason}")
        if household is None:
            return None
        if household.number in self.seen:
            self.problems.append(
                f"{self.path}:{row}: {self.labels['number']}: {household.number} repeats row "
                f"{self.seen[household.number]}"
            )
            return None
        self.seen[household.number] = row
        return household

    def village(self, row: int, reason: str) -> None:
        label = self.labels.get("village", "village")
        self.village_problems.append(f"{self.path}:{row}: {label}: {reason}")

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.village_problems or self.id_cells)

    def all_problems(self) -> list[str]:
        found = list(self.problems)
        for index, cells in sorted(self.id_cells.items()):
            header = self.header[index] if index < len(self.header) else ""
            (row, cell), more = cells[0], len(cells) - 1
            also = f" (and {more} more rows)" if more else ""
            found.append(
                f"{self.path}:{row}: {header or f'column {index + 1}'}: {id_like(cell)}{also}"
            )
        return found + self.village_problems


class _Villages:
    """The region paths of the file's village codes, looked up once each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.paths: dict[str, str] = {}
        self.refused: dict[str, str] = {}  # code → why it is not a village

    async def look_up(self, codes: set[str]) -> None:
        unknown = sorted(codes - self.paths.keys() - self.refused.keys())
        for start in range(0, len(unknown), _CHUNK):
            chunk = unknown[start : start + _CHUNK]
            found = {
                region.code: region
                for region in await self.session.scalars(
                    select(Region).where(Region.code.in_(chunk))
                )
            }
            for code in chunk:
                region = found.get(code)
                if region is None:
                    self.refused[code] = f"no region has the code {code}"
                elif region.level != RegionLevel.VILLAGE:
                    self.refused[code] = (
                        f"{code} is a {region.level} ({region.name}), not a village"
                    )
                else:
                    self.paths[code] = path_of(await RegionRepo(self.session).path(code))


async def import_households(
    session: AsyncSession,
    path: Path,
    changed_by: str,
    *,
    sample: bool = False,
    commit: bool = True,
) -> ImportReport:
    """Check every row and add or update every household by number, in one transaction; when any
    row is wrong nothing is kept (with ``commit`` False, the caller commits or rolls back, with
    what it writes beside). The file is read once, a batch of rows at a time, and each
    batch is written before the next is read: memory does not grow with the file.

    Raises HouseholdImportError (nothing written) or db.spreadsheets.SpreadsheetError.
    """
    report = ImportReport()
    try:
        with open_table(path) as table:
            checker = _Checker(path, table.header, table.header_row)
            villages = _Villages(session)
            # A first import need not look for the households it is adding.
            registry_empty = await session.scalar(select(Household.id).limit(1)) is None
            while batch := list(islice(table.rows, _CHUNK)):
                households = [
                    (row, household)
                    for row, cells in batch
                    if (household := checker.row(row, cells)) is not None
                ]
                await villages.look_up({household.village for _, household in households})
                for row, household in households:
                    if household.village in villages.refused:
                        checker.village(row, villages.refused[household.village])
                if not checker.failed:  # after the first problem, the rest is only checked
                    batch_data = [household for _, household in households]
                    existing = {} if registry_empty else await _existing(session, batch_data)
                    await _write_batch(
                        session, batch_data, existing, villages.paths, changed_by, sample, report
                    )
        if checker.failed:
            raise HouseholdImportError(checker.all_problems())
    except BaseException:
        await session.rollback()
        raise
    if commit:
        await session.commit()
    return report


async def _write_batch(
    session: AsyncSession,
    batch: list[HouseholdData],
    existing: dict[str, Household],
    paths: dict[str, str],
    changed_by: str,
    sample: bool,
    report: ImportReport,
) -> None:
    """Add or update the batch's households (``existing``: those stored, by number), each with a
    version; new ones in a few statements."""
    now = utcnow()
    new = [data for data in batch if data.number not in existing]
    report.added += len(new)
    versions = await _insert(session, new, paths, sample, now)
    for data in batch:
        household = existing.get(data.number)
        if household is None:
            continue
        before = data_of(household)
        added = tuple(visit for visit in data.visits if visit not in before.visits)
        visits = sorted(before.visits + added, key=lambda visit: visit.on)
        data = replace(data, visits=tuple(visits))
        if before == data:  # the sample flag alone is no new content
            report.unchanged += 1
            continue
        report.changed += 1
        _update(household, data, before, paths[data.village], sample)
        household.version += 1
        household.updated_at = now
        versions.append((household.id, household.version, data))
    await session.flush()
    if versions:
        await session.execute(
            _bulk_insert(HouseholdVersion),
            [
                {
                    "household_id": household_id,
                    "version": version,
                    "content": format_row(data),
                    "changed_by": changed_by[:120],
                    "changed_at": now,
                }
                for household_id, version, data in versions
            ],
        )
    for household in existing.values():  # written: the session need not hold them any longer
        session.expunge(household)


async def _insert(
    session: AsyncSession,
    batch: list[HouseholdData],
    paths: dict[str, str],
    sample: bool,
    now: datetime,
) -> list[tuple[int, int, HouseholdData]]:
    """Insert new households and their lists as rows, a statement a table; (id, version 1, data)
    of each."""
    if not batch:
        return []
    rows = [
        {
            "number": d.number,
            "version": 1,
            "updated_at": now,
            **_columns(d, paths[d.village], sample),
        }
        for d in batch
    ]
    returned = await session.execute(
        _bulk_insert(Household).returning(Household.id, Household.number), rows
    )
    ids = {number: household_id for household_id, number in returned}
    children: dict[type, list[dict[str, Any]]] = defaultdict(list)
    for data in batch:
        household_id = ids[data.number]
        for model, items in _lists(data).items():
            children[model] += [{"household_id": household_id, **item} for item in items]
    for model, items in children.items():
        if items:
            await session.execute(_bulk_insert(model), items)
    return [(ids[data.number], 1, data) for data in batch]


async def _existing(session: AsyncSession, batch: list[HouseholdData]) -> dict[str, Household]:
    query = select(Household).where(Household.number.in_([data.number for data in batch]))
    return {household.number: household for household in await session.scalars(query)}


def _columns(data: HouseholdData, region_path: str, sample: bool) -> dict[str, Any]:
    """The household's own columns, as stored."""
    return {
        "region_code": data.village,
        "region_path": region_path,
        "head_name": data.head_name,
        "status": data.status,
        "status_year": data.status_year,
        "monitor_kind": data.monitor_kind,
        "follow_up": data.follow_up,
        "identified_year": data.identified_year,
        "planned_exit_year": data.planned_exit_year,
        "actual_exit_year": data.actual_exit_year,
        "main_cause": data.main_cause,
        "other_causes": list(data.other_causes),
        "land_mu": data.land_mu,
        "livestock": data.livestock,
        "housing_safe": data.housing_safe,
        "safe_water": data.safe_water,
        "medical_insurance": data.medical_insurance,
        "work": data.work,
        "is_sample": sample,
    }


def _lists(data: HouseholdData, visits: tuple[Visit, ...] | None = None) -> dict[type, list[dict]]:
    """The rows of the household's lists, by table (``visits``: only these visits)."""
    return {
        HouseholdMember: [
            {"relation": m.relation, "age_band": m.age_band, "flags": _flags(m.flags)}
            for m in data.members
        ],
        HouseholdMeasure: [
            {
                "kind": m.kind,
                "project": m.project,
                "year": m.year,
                "amount": m.amount,
                "target": m.target,
                "responsible": m.responsible,
                "status": m.status,
            }
            for m in data.measures
        ],
        HouseholdBenefit: [
            {"kind": b.kind, "amount": b.amount, "start": b.start, "due": b.due}
            for b in data.benefits
        ],
        HouseholdIncome: [{"year": year, "per_capita": amount} for year, amount in data.incomes],
        HouseholdHelper: [{"role": x.role, "name": x.name, "phone": x.phone} for x in data.helpers],
        HouseholdVisit: [
            {
                "visited_on": v.on,
                "checklist": list(v.checklist),
                "visited_by": v.by,
                "note": v.note,
            }
            for v in (data.visits if visits is None else visits)
        ],
    }


def _update(
    household: Household, data: HouseholdData, before: HouseholdData, region_path: str, sample: bool
) -> None:
    """Copy the data onto a stored household; a list is rebuilt only when it changed, incomes
    are updated by year, and visits are only added."""
    h = household
    for name, value in _columns(data, region_path, sample).items():
        setattr(h, name, value)
    rows = _lists(data, visits=tuple(v for v in data.visits if v not in before.visits))
    if before.members != data.members:
        h.members = [HouseholdMember(**row) for row in rows[HouseholdMember]]
    if before.measures != data.measures:
        h.measures = [HouseholdMeasure(**row) for row in rows[HouseholdMeasure]]
    if before.benefits != data.benefits:
        h.benefits = [HouseholdBenefit(**row) for row in rows[HouseholdBenefit]]
    if before.incomes != data.incomes:
        kept = {income.year: income for income in h.incomes}
        h.incomes = [_income(kept.get(year), year, amount) for year, amount in data.incomes]
    if before.helpers != data.helpers:
        h.helpers = [HouseholdHelper(**row) for row in rows[HouseholdHelper]]
    h.visits = [*h.visits, *(HouseholdVisit(**row) for row in rows[HouseholdVisit])]


def _income(row: HouseholdIncome | None, year: int, amount: int) -> HouseholdIncome:
    # The same (household, year) key is updated in place, never deleted and inserted in one flush.
    row = row or HouseholdIncome(year=year)
    row.per_capita = amount
    return row


def _flags(flags: frozenset[MemberFlag]) -> list[str]:
    return [flag.value for flag in MemberFlag if flag in flags]


async def export_households(session: AsyncSession, path: Path, area_path: str | None) -> int:
    """Write the area's households in the template's form (names kept: this is the office's
    file); return how many."""
    rows = [
        [format_row(data_of(household))[name] for name in HEADER]
        async for household in HouseholdRepo(session).in_area(area_path)
    ]
    notes = template_notes() if path.suffix.lower() == ".xlsx" else ()
    write_table(path, HEADER, rows, notes=notes)
    return len(rows)


def write_xlsx_template(path: Path = TEMPLATE_XLSX) -> None:
    """The XLSX template: the CSV template's lines (comments too), the guide on a 说明 sheet."""
    with TEMPLATE_CSV.open(encoding="utf-8-sig", newline="") as file:
        lines = list(csv.reader(file))
    write_table(path, lines[0], lines[1:], notes=template_notes())


if __name__ == "__main__":  # python -m db.household_import: regenerate the XLSX template
    write_xlsx_template()
    print(f"written {TEMPLATE_XLSX}")
