"""Read and write one-sheet tables as CSV or XLSX (openpyxl is imported only for XLSX).

Rows keep their number in the file (the CSV line, the Excel row), so that errors can name
them. Blank rows, and rows whose first cell starts with ``#`` (comments), are skipped.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
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


@dataclass
class TableStream:
    """A table read as it is iterated: the header, and the numbered rows after it."""

    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]


@contextmanager
def open_table(path: Path) -> Iterator[TableStream]:
    """The first sheet (or the CSV), its rows read one at a time while the file stays open: a
    file of any size is read in constant memory."""
    check_suffix(path)
    if not path.is_file():
        raise SpreadsheetError(f"no such file: {path}")
    with ExitStack() as stack:
        if path.suffix.lower() == ".xlsx":
            lines = _xlsx_rows(path, stack)
        else:
            lines = _csv_rows(path, stack)
        rows = (
            (number, cells)
            for number, cells in lines
            if any(cells) and not cells[0].startswith("#")
        )
        first = next(rows, None)
        if first is None:
            raise SpreadsheetError(f"{path}: the file is empty (no header row)")
        yield TableStream(header=first[1], header_row=first[0], rows=rows)


def read_table(path: Path) -> Table:
    """The first sheet (or the CSV) as a header and numbered rows of stripped strings."""
    with open_table(path) as stream:
        return Table(stream.header, stream.header_row, list(stream.rows))


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GBK as Excel in China saves CSV; checked in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        try:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        file.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "gb18030"
        except UnicodeDecodeError:
            raise SpreadsheetError(f"{path}: neither UTF-8 nor GBK text") from None


def _csv_rows(path: Path, stack: ExitStack) -> Iterator[tuple[int, list[str]]]:
    file = stack.enter_context(path.open(encoding=_csv_encoding(path), newline=""))
    reader = csv.reader(file)
    try:
        for row in reader:
            yield reader.line_num, [cell.strip() for cell in row]
    except csv.Error as error:
        raise SpreadsheetError(f"{path}:{reader.line_num}: not valid CSV ({error})") from None


def _xlsx_rows(path: Path, stack: ExitStack) -> Iterator[tuple[int, list[str]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise SpreadsheetError(f"{path}: not a readable XLSX file") from None
    stack.callback(workbook.close)
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    for number, values in enumerate(rows, start=1):
        yield number, [_cell_text(value) for value in values]


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
