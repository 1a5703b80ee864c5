"""How values are written in the hub's CSV files (UTF-8, a header row, RFC 4180).

Decimals are plain strings (no exponent, no thousands separator, no trailing zeros), dates
ISO 8601, instants ISO 8601 in UTC with `Z`, lists `;`-separated; an empty cell is null; a
text a spreadsheet would run as a formula starts with an apostrophe (backend/spreadsheet_cells).
The importer reads exactly this back.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from backend.spreadsheet_cells import guarded

# Basis points in a whole (10000 = 100 %).
WHOLE_BP = 10000


def decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def day(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def instant(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def listed(values: Sequence[str] | None) -> str:
    return ";".join(values or ())


def text(value: Any) -> str:
    """Text, a code or an enum member (as its value); an integer as digits."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def percent(basis_points: int | None) -> str:
    """A share in basis points as a percent (exact: two places at most); null stays null."""
    if basis_points is None:
        return ""
    return decimal(Decimal(basis_points) / 100)


class Encoder:
    """CSV rows to UTF-8 bytes, a chunk at a time."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        # RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line end.
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def encode(self, rows: Iterable[Sequence[str]]) -> bytes:
        self._writer.writerows([guarded(cell) for cell in row] for row in rows)
        chunk = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return chunk
