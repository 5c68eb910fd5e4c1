"""Import and export the household registry (db/household_template.py describes the file):
every row is checked first, then all are written in one transaction, or none."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.household_template import (
    COLUMNS,
    HEADER,
    HouseholdData,
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
from db.spreadsheets import Table, read_table, write_table
from knowledge.households import MemberFlag

DATA = Path(__file__).with_name("data")
SAMPLE_HOUSEHOLDS = DATA / "sample_households.csv"
TEMPLATE_CSV = DATA / "households_template.csv"
TEMPLATE_XLSX = DATA / "households_template.xlsx"
_CHUNK = 500


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


@dataclass
class CheckedFile:
    households: list[tuple[int, HouseholdData]]  # (row, household)
    labels: dict[str, str]  # column name → its header in the file
    problems: list[str]


def check_table(path: Path, table: Table) -> CheckedFile:
    """Parse every row; the households, and every problem as "FILE:ROW: column: reason"."""
    problems: list[str] = []
    names: list[str | None] = []
    for header in table.header:
        column = column_for(header) if header else None
        where = f"{path}:{table.header_row}: {header or '(empty)'}"
        if header and id_like_header(header):
            problems.append(
                f"{where}: a column of ID-card or bank numbers is refused; "
                "such numbers are never stored"
            )
        elif column is None and header:
            problems.append(f"{where}: unknown column (the template's: {', '.join(HEADER)})")
        elif column is not None and column.name in names:
            problems.append(f"{where}: the column appears twice")
        names.append(column.name if column is not None and column.name not in names else None)
    for column in COLUMNS:
        if column.required and column.name not in names:
            problems.append(f"{path}:{table.header_row}: {column.name}: required column missing")

    labels = {name: header for name, header in zip(names, table.header, strict=True) if name}
    id_cells: dict[int, list[tuple[int, str]]] = defaultdict(list)  # column → (row, cell)
    households: list[tuple[int, HouseholdData]] = []
    seen: dict[str, int] = {}
    for row, cells in table.rows:
        id_like_row = False
        for index, cell in enumerate(cells):
            if cell and id_like(cell):
                id_cells[index].append((row, cell))
                id_like_row = True
        if id_like_row:
            continue  # reported below, once per column
        record = {
            name: cells[index] if index < len(cells) else ""
            for index, name in enumerate(names)
            if name
        }
        household, row_problems = parse_row(record)
        for name, reason in row_problems:
            problems.append(f"{path}:{row}: {labels.get(name, name)}: {reason}")
        if household is None:
            continue
        if household.number in seen:
            problems.append(
                f"{path}:{row}: {labels['number']}: {household.number} repeats row "
                f"{seen[household.number]}"
            )
        seen.setdefault(household.number, row)
        households.append((row, household))
    for index, found in sorted(id_cells.items()):
        header = table.header[index] if index < len(table.header) else f"column {index + 1}"
        (row, cell), more = found[0], len(found) - 1
        also = f" (and {more} more rows)" if more else ""
        problems.append(f"{path}:{row}: {header or f'column {index + 1}'}: {id_like(cell)}{also}")
    return CheckedFile(households, labels, problems)


async def import_households(
    session: AsyncSession, path: Path, changed_by: str, *, sample: bool = False
) -> ImportReport:
    """Check the whole file, then add or update every household by number, in one transaction.

    Raises HouseholdImportError (nothing written) or db.spreadsheets.SpreadsheetError.
    """
    checked = check_table(path, read_table(path))
    problems = checked.problems
    villages = await _villages(session, {h.village for _, h in checked.households})
    for row, household in checked.households:
        region = villages.get(household.village)
        if region is None:
            reason = f"no region has the code {household.village}"
        elif region.level != RegionLevel.VILLAGE:
            reason = f"{household.village} is a {region.level} ({region.name}), not a village"
        else:
            continue
        problems.append(f"{path}:{row}: {checked.labels.get('village', 'village')}: {reason}")
    if problems:
        raise HouseholdImportError(problems)

    report = ImportReport()
    paths: dict[str, str] = {}
    repo = RegionRepo(session)
    existing = await _existing(session, [h.number for _, h in checked.households])
    now = utcnow()
    for _, data in checked.households:
        if data.village not in paths:
            paths[data.village] = path_of(await repo.path(data.village))
        household = existing.get(data.number)
        if household is None:
            household = Household(number=data.number, version=0, other_causes=[])
            session.add(household)
            before = None
            report.added += 1
        else:
            before = data_of(household)
            added = tuple(visit for visit in data.visits if visit not in before.visits)
            visits = sorted(before.visits + added, key=lambda visit: visit.on)
            data = replace(data, visits=tuple(visits))
            if before == data:  # the sample flag alone is no new content
                report.unchanged += 1
                continue
            report.changed += 1
        _write(household, data, before, paths[data.village], sample)
        household.version += 1
        household.updated_at = now
        await session.flush()
        session.add(
            HouseholdVersion(
                household_id=household.id,
                version=household.version,
                content=format_row(data),
                changed_by=changed_by[:120],
                changed_at=now,
            )
        )
    await session.commit()
    return report


async def _villages(session: AsyncSession, codes: set[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        for region in await session.scalars(select(Region).where(Region.code.in_(chunk))):
            found[region.code] = region
    return found


async def _existing(session: AsyncSession, numbers: list[str]) -> dict[str, Household]:
    found: dict[str, Household] = {}
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        query = select(Household).where(Household.number.in_(chunk))
        for household in await session.scalars(query):
            found[household.number] = household
    return found


def _write(
    household: Household,
    data: HouseholdData,
    before: HouseholdData | None,
    region_path: str,
    sample: bool,
) -> None:
    """Copy the data onto the stored household; a child list is rebuilt only when it changed."""
    h = household
    h.region_code = data.village
    h.region_path = region_path
    h.head_name = data.head_name
    h.status = data.status
    h.status_year = data.status_year
    h.monitor_kind = data.monitor_kind
    h.follow_up = data.follow_up
    h.identified_year = data.identified_year
    h.planned_exit_year = data.planned_exit_year
    h.actual_exit_year = data.actual_exit_year
    h.main_cause = data.main_cause
    h.other_causes = list(data.other_causes)
    h.land_mu = data.land_mu
    h.livestock = data.livestock
    h.housing_safe = data.housing_safe
    h.safe_water = data.safe_water
    h.medical_insurance = data.medical_insurance
    h.work = data.work
    h.is_sample = sample
    if before is None or before.members != data.members:
        h.members = [
            HouseholdMember(relation=m.relation, age_band=m.age_band, flags=_flags(m.flags))
            for m in data.members
        ]
    if before is None or before.measures != data.measures:
        h.measures = [
            HouseholdMeasure(
                kind=m.kind,
                project=m.project,
                year=m.year,
                amount=m.amount,
                target=m.target,
                responsible=m.responsible,
                status=m.status,
            )
            for m in data.measures
        ]
    if before is None or before.benefits != data.benefits:
        h.benefits = [
            HouseholdBenefit(kind=b.kind, amount=b.amount, start=b.start, due=b.due)
            for b in data.benefits
        ]
    if before is None or before.incomes != data.incomes:
        kept = {income.year: income for income in h.incomes} if before else {}
        h.incomes = [_income(kept.get(year), year, amount) for year, amount in data.incomes]
    if before is None or before.helpers != data.helpers:
        h.helpers = [HouseholdHelper(role=x.role, name=x.name, phone=x.phone) for x in data.helpers]
    known = before.visits if before else ()
    h.visits = [
        *(h.visits if before else []),
        *(
            HouseholdVisit(
                visited_on=v.on, checklist=list(v.checklist), visited_by=v.by, note=v.note
            )
            for v in data.visits
            if v not in known
        ),
    ]


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
