"""Reading a CSV file of people (pure: bytes in, rows or a clear refusal out; no database).

Files come from spreadsheets and directories exports, so this reads what they write: UTF-8 with or
without a byte order mark, UTF-16 (Excel's "Unicode text"), Windows-1252 (older Excel), commas,
semicolons (Excel in much of Europe) or tabs, quoted cells, and header names spelt several ways. What it
cannot read is refused for the whole file with a message saying why; what is wrong with one line is
said for that line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_CELL = 1000

# Header names people use, normalised (lower case, spaces and dashes as underscores), to our fields.
HEADER_ALIASES = {
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "full_name": "full_name",
    "name": "full_name",
    "display_name": "full_name",
    "fullname": "full_name",
    "role": "role",
    "teams": "teams",
    "team": "teams",
}
REQUIRED = ("email", "full_name")
TEAM_SEPARATORS = ("|", ";")


class CsvRefused(Exception):
    """The file as a whole cannot be read; the message says why, for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class CsvPerson:
    line: int  # the line of the file it came from (the header is line 1)
    email: str
    full_name: str
    role: str  # as written ("" when the file has no role column or the cell is empty)
    teams: tuple[str, ...] | None  # None when the file has no teams column
    problems: tuple[str, ...] = ()  # what is wrong with the line as text (a cell too many, too long)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    people: list[CsvPerson]
    columns: tuple[str, ...]  # our fields the file has
    ignored: tuple[str, ...] = field(default=())  # header names we do not use


def decode(data: bytes) -> str:
    if not data.strip():
        raise CsvRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise CsvRefused(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into smaller files."
        )
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvRefused("This is a spreadsheet workbook, not CSV: save it as “CSV UTF-8” and upload that.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvRefused("The file says it is UTF-16 but is not: save it as “CSV UTF-8”.") from None
        if "\x00" in text:
            raise CsvRefused("The file is not text: save it as “CSV UTF-8” and upload that.")
        return text
    if b"\x00" in data:
        raise CsvRefused("The file is not text: save it as “CSV UTF-8” and upload that.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise CsvRefused(
            "The file's characters are neither UTF-8 nor Windows-1252: save it as “CSV UTF-8”."
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())


def split_teams(cell: str) -> tuple[str, ...]:
    names = [cell]
    for separator in TEAM_SEPARATORS:
        names = [part for name in names for part in name.split(separator)]
    return tuple(dict.fromkeys(" ".join(n.split()) for n in names if n.strip()))


def parse_people(data: bytes) -> ParsedFile:
    """The people in a CSV file, or CsvRefused with the reason the file cannot be read at all."""
    return parse_text(decode(data))


def parse_text(text: str) -> ParsedFile:
    """The people in a decoded CSV file (see `parse_people`)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise CsvRefused(
                "The first line must name the columns: email, full_name (and role, teams if you like)."
            )
        keys = [HEADER_ALIASES.get(_header_key(cell)) for cell in header]
        missing = [name for name in REQUIRED if name not in keys]
        if missing:
            found = ", ".join(c.strip() for c in header if c.strip())[:200] or "nothing"
            raise CsvRefused(
                "The first line must name the columns email and full_name; it has no "
                f"{' and no '.join(missing)} column (found: {found})."
            )
        repeated = sorted({k for k in keys if k is not None and keys.count(k) > 1})
        if repeated:
            raise CsvRefused(f"The first line names the {', '.join(repeated)} column more than once.")
        people: list[CsvPerson] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(people) == MAX_ROWS:
                raise CsvRefused(f"The file has more than {MAX_ROWS} people: split it into smaller files.")
            people.append(_person(reader.line_num, header, keys, cells))
    except csv.Error as error:
        raise CsvRefused(f"Line {reader.line_num} cannot be read as CSV ({error}).") from None
    if not people:
        raise CsvRefused("The file names its columns but has no one in it.")
    ignored = tuple(h.strip() for h, k in zip(header, keys, strict=True) if k is None and h.strip())
    return ParsedFile(people, tuple(k for k in keys if k is not None), ignored)


def _person(line: int, header: list[str], keys: list[str | None], cells: list[str]) -> CsvPerson:
    problems: list[str] = []
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        problems.append(f"has {len(cells)} cells where the first line names {len(header)} columns")
    values: dict[str, str] = {}
    for key, cell in zip(keys, cells, strict=False):
        if key is None:
            continue
        if len(cell) > MAX_CELL:
            problems.append(f"its {key.replace('_', ' ')} is longer than {MAX_CELL} characters")
            cell = cell[:MAX_CELL]
        values[key] = cell.strip()
    return CsvPerson(
        line=line,
        email=values.get("email", ""),
        full_name=" ".join(values.get("full_name", "").split()),
        role=values.get("role", ""),
        teams=split_teams(values.get("teams", "")) if "teams" in keys else None,
        problems=tuple(problems),
    )
