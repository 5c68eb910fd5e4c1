"""Read and write one-sheet tables as CSV or XLSX (openpyxl is imported only for XLSX).

Rows keep their number in the file (the CSV line, the Excel row), so that errors can name
them. Blank rows, and rows whose first cell starts with ``#`` (comments), are skipped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

SUFFIXES = (".csv", ".xlsx")


class SpreadsheetError(Exception):
    """The file cannot be read or written as a table; the message is one line."""


@dataclass
class Table:
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def check_suffix(path: Path) -> None:
    if path.suffix.lower() == ".xls":
        raise SpreadsheetError(f"{path}: old .xls files are not read; save it as .xlsx or .csv")
    if path.suffix.lower() not in SUFFIXES:
        raise SpreadsheetError(f"{path}: expected a .csv or .xlsx file")


def read_table(path: Path) -> Table:
    """The first sheet (or the CSV) as a header and numbered rows of stripped strings."""
    check_suffix(path)
    if not path.is_file():
        raise SpreadsheetError(f"no such file: {path}")
    rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    table: Table | None = None
    for number, cells in rows:
        if not any(cells) or cells[0].startswith("#"):
            continue
        if table is None:
            table = Table(header=cells, header_row=number)
        else:
            table.rows.append((number, cells))
    if table is None:
        raise SpreadsheetError(f"{path}: the file is empty (no header row)")
    return table


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel in China saves CSV as GBK
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise SpreadsheetError(f"{path}: neither UTF-8 nor GBK text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(reader.line_num, [cell.strip() for cell in row]) for row in reader]
    except csv.Error as error:
        raise SpreadsheetError(f"{path}:{reader.line_num}: not valid CSV ({error})") from None


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise SpreadsheetError(f"{path}: not a readable XLSX file") from None
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps every number as a float
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def write_table(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    notes: Sequence[str] = (),
) -> None:
    """Write CSV (UTF-8 with BOM, which Excel reads) or XLSX (``notes`` on a second sheet)."""
    check_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows(rows)
        return
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("households")
    sheet.freeze_panes = "A2"

    def text_cells(values: Sequence[str]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text, never a formula, and "0012" keeps its zeros
            cells.append(cell)
        return cells

    sheet.append(text_cells(header))
    for row in rows:
        sheet.append(text_cells(row))
    if notes:
        notes_sheet = workbook.create_sheet("说明")
        for line in notes:
            notes_sheet.append([line])
    workbook.save(path)
