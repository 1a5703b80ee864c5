"""Reads an import's CSV file (UTF-8, a header row, RFC 4180) into lines that know where
they start in the file, refusing a header the import cannot use."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from backend.errors import BAD_FORMAT, DUPLICATE, NOT_ALLOWED, REQUIRED
from backend.imports.outcome import Problem
from backend.spreadsheet_cells import unguarded

HEADER = 1


@dataclass(frozen=True)
class Columns:
    """A file format: the columns the header must have and every column it may have."""

    name: str
    known: tuple[str, ...]
    required: frozenset[str]


@dataclass(frozen=True)
class Line:
    """One row: its first line in the file and its cells by column, stripped; a column
    missing from the header is missing here too."""

    number: int
    cells: dict[str, str]

    def value(self, column: str) -> str | None:
        """The cell's text, or None when it is empty (an empty cell is null)."""
        text = self.cells.get(column)
        return text if text else None


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    lines: list[Line]
    # The file's own problems (encoding, quoting, header) and misshapen rows.
    problems: list[Problem]
    # Data rows, misshapen ones included (empty rows are none).
    rows: int = 0
    # Whether the file could be read as rows under a usable header at all.
    readable: bool = True


def read(path: Path, columns: Columns) -> Table:
    raw = path.read_bytes()
    try:
        # Spreadsheet programs often start UTF-8 files with a byte order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problem = Problem(line, None, BAD_FORMAT, "Not UTF-8 text; save the file as CSV UTF-8.")
        return Table((), [], [problem], readable=False)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        start = 1
        for record in reader:
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        problem = Problem(start, None, BAD_FORMAT, f"Not RFC 4180 CSV: {error}.")
        return Table((), [], [problem], readable=False)
    if not records:
        return Table((), [], [_header_needed(columns)], readable=False)
    header = tuple(name.strip() for name in records[0][1])
    problems = _check_header(header, columns)
    # Spreadsheets leave empty rows behind; they hold nothing to import.
    data = [(number, record) for number, record in records[1:] if any(map(str.strip, record))]
    if problems:
        return Table(header, [], problems, rows=len(data), readable=False)
    lines = []
    for number, record in data:
        if len(record) != len(header):
            message = f"{len(record)} cells where the header has {len(header)} columns."
            problems.append(Problem(number, None, BAD_FORMAT, message))
            continue
        # A text the exports kept from running as a formula loses its apostrophe.
        cells = {name: unguarded(cell.strip()) for name, cell in zip(header, record, strict=True)}
        lines.append(Line(number, cells))
    return Table(header, lines, problems, rows=len(data))


def _header_needed(columns: Columns) -> Problem:
    needed = ", ".join(name for name in columns.known if name in columns.required)
    return Problem(HEADER, None, REQUIRED, f"The file is empty; it needs a header row ({needed}).")


def _check_header(header: tuple[str, ...], columns: Columns) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(HEADER, name, DUPLICATE, "This column appears twice."))
        seen.add(name)
        if name not in columns.known:
            message = f"Not a column of {columns.name}; its columns are {', '.join(columns.known)}."
            problems.append(Problem(HEADER, name or "(empty)", NOT_ALLOWED, message))
    for name in columns.known:
        if name in columns.required and name not in seen:
            problems.append(Problem(HEADER, name, REQUIRED, "The header needs this column."))
    return problems
