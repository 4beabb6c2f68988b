"""CSV written a batch of rows at a time (a download of a million rows holds one batch in memory), with
every text cell a spreadsheet would run as a formula neutralised: a cell starting with =, +, -, @, tab
or carriage return gets a leading apostrophe (OWASP's advice), which spreadsheets show as typed text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from enum import Enum

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500
Value = str | int | float | datetime | Enum | None


def safe_cell(value: Value) -> str | int | float:
    """A cell as written: numbers as numbers, times in ISO 8601 (UTC), text neutralised."""
    if type(value) is str:  # most cells: checked first (a million-row export writes 14 million)
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = value.value if isinstance(value, Enum) else value
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Value]], *, byte_order_mark: bool = False
) -> Iterator[str]:
    """The CSV text in chunks of ROWS_PER_CHUNK rows. The byte order mark tells Excel it is UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if byte_order_mark:
        buffer.write("\ufeff")
    writer.writerow([safe_cell(name) for name in header])
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        pending += 1
        if pending == ROWS_PER_CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
