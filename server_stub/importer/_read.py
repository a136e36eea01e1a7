"""Reading a file into numbered rows, and reading each cell with a clear word when it is wrong.

Nothing here raises on bad input: decoding, CSV and JSON problems become `RowError`s, and every
cell reader returns None after recording why the cell was refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Final, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gtin import Gtin

from server_stub.importer._report import RowError

Format = Literal["csv", "json"]
M = TypeVar("M", bound=BaseModel)
Row = tuple[int, dict[str, object]]

MAX_BYTES: Final = 20 * 1024 * 1024
MAX_ROWS: Final = 100_000
MAX_TEXT: Final = 500
MAX_ID: Final = 64

_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_DIGITS = re.compile(r"[0-9]+")
# Control characters, and the Unicode bidi overrides that make text read differently from its bytes.
_HOSTILE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def show(value: object, limit: int = 40) -> str:
    """A value made safe to print in a message: no control characters, cut to `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value) if _is_json(value) else type(value).__name__
    text = _HOSTILE.sub("?", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_json(value: object) -> bool:
    return value is None or isinstance(value, (bool, int, float))


def decode(content: bytes | str) -> tuple[str | None, RowError | None]:
    """The file's text, or why it is not text we can read (too big, not UTF-8, binary)."""
    if isinstance(content, str):
        if len(content) > MAX_BYTES:
            return None, RowError(None, None, f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
        text = content
    else:
        if len(content) > MAX_BYTES:
            return None, RowError(None, None, f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return None, RowError(None, None, f"the file is not UTF-8 text (bad byte at position {exc.start}); "
                                              "save it as 'CSV UTF-8' or UTF-8 JSON")
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        return None, RowError(None, None, "the file contains NUL bytes: it looks like a binary file, not CSV or JSON")
    return text, None


def read_csv(text: str, columns: Iterable[str], required: Iterable[str]) -> tuple[list[Row], list[RowError], int]:
    """Rows of a CSV file with a header line, keyed by normalised column name, and how many were read.

    Row numbers are as a spreadsheet shows them: the header is row 1, the first data row is row 2.
    Blank lines are skipped. Comma or semicolon separated (what Excel writes in many locales).
    """
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    errors: list[RowError] = []
    rows: list[Row] = []
    read = 0
    try:
        header_cells = next(reader, None)
        if header_cells is None or not any(cell.strip() for cell in header_cells):
            return [], [RowError(None, None, "the file is empty: the first line must name the columns")], 0
        header = [_column_name(cell) for cell in header_cells]
        known = list(columns)
        for name in header:
            if name and name not in known:
                errors.append(RowError(1, name, f"unknown column '{show(name)}' (the columns are: {', '.join(known)})"))
        for name in sorted({n for n in header if n and header.count(n) > 1}):
            errors.append(RowError(1, name, f"column '{show(name)}' appears more than once"))
        for name in required:
            if name not in header:
                errors.append(RowError(1, name, f"missing column '{name}'"))
        if errors:
            return [], errors, 0
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            read += 1
            if read > MAX_ROWS:
                errors.append(RowError(None, None, f"the file has more than {MAX_ROWS} rows; split it"))
                break
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                errors.append(RowError(number, None, f"has {len(cells)} cells but the header names {len(header)} columns"))
                continue
            values: dict[str, object] = {}
            for name, cell in zip(header, cells, strict=False):
                if name:
                    values[name] = cell
            rows.append((number, values))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num or None, None,
                               f"the file is not valid CSV near line {reader.line_num}: {show(str(exc), 80)}"))
    return rows, errors, read


def _column_name(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())[:MAX_ID]


def read_json(text: str, list_key: str) -> tuple[list[Row], list[RowError], int]:
    """Rows of a JSON file: a list of objects, or an object holding that list under `list_key`.

    Row numbers count the entries in the list from 1; an entry that is not an object is an error
    and yields no row.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [RowError(None, None, f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")], 0
    except (ValueError, RecursionError) as exc:
        return [], [RowError(None, None, f"the file is not JSON we can read: {show(str(exc), 80)}")], 0
    if isinstance(document, dict) and list_key in document:
        document = document[list_key]
    if not isinstance(document, list):
        return [], [RowError(None, None, f"the JSON must be a list of objects, or an object with a '{list_key}' list")], 0
    if len(document) > MAX_ROWS:
        return [], [RowError(None, None, f"the file has more than {MAX_ROWS} rows; split it")], len(document)
    rows: list[Row] = []
    errors: list[RowError] = []
    for number, entry in enumerate(document, start=1):
        if isinstance(entry, dict):
            rows.append((number, entry))
        else:
            errors.append(RowError(number, None, f"is not an object but {show(entry)}"))
    return rows, errors, len(document)


class Cells:
    """Reads the cells of one row; each reader records an error and returns None when a cell is bad.

    `where` prefixes field names in messages for nested JSON (`lines[2].qty`).
    """

    def __init__(self, row: int, values: Mapping[str, object], errors: list[RowError], where: str = "") -> None:
        self.row = row
        self.values = values
        self.errors = errors
        self.where = where

    def nested(self, values: Mapping[str, object], where: str) -> Cells:
        """A reader for an object inside this row (a PO line, an ASN), sharing its error list."""
        return Cells(self.row, values, self.errors, f"{self.where}{where}")

    def error(self, name: str, message: str) -> None:
        """Record a problem with the cell `name`; `message` starts with the field name."""
        self.errors.append(RowError(self.row, f"{self.where}{name}", message))

    def label(self, name: str) -> str:
        return f"{self.where}{name}"

    def allow_only(self, names: Iterable[str]) -> None:
        """Refuse fields this row may not have (for JSON objects; CSV checks its header)."""
        allowed = set(names)
        for key in self.values:
            if key not in allowed:
                self.error(str(key), f"unknown field '{show(key)}' (the fields are: {', '.join(sorted(allowed))})")

    def raw(self, name: str) -> object | None:
        """The cell's value with surrounding spaces removed; None when absent or blank."""
        value = self.values.get(name)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def text(self, name: str, *, required: bool = False, max_len: int = MAX_TEXT) -> str | None:
        """Free text (a description, a supplier): bounded, without control characters or formulas."""
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, f"{self.label(name)} is missing")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(name, f"{self.label(name)} must be text, not {show(value)}")
            return None
        if len(value) > max_len:
            self.error(name, f"{self.label(name)} is too long ({len(value)} characters, at most {max_len})")
            return None
        if _HOSTILE.search(value):
            self.error(name, f"{self.label(name)} '{show(value)}' contains control or hidden characters")
            return None
        if value.startswith(("=", "@")) or (value.startswith(("+", "-")) and not value[1:2].isdigit()):
            self.error(name, f"{self.label(name)} '{show(value)}' starts with '{value[0]}', which a spreadsheet "
                             "would run as a formula")
            return None
        return value

    def ident(self, name: str, *, required: bool = False) -> str | None:
        """An identifier or code: 1-64 of letters, digits and . _ : - (no spaces)."""
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, f"{self.label(name)} is missing")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _ID.fullmatch(value):
            self.error(name, f"{self.label(name)} '{show(value)}' may only use letters, digits and . _ : - "
                             f"(at most {MAX_ID} characters, no spaces)")
            return None
        return value

    def whole(self, name: str, *, required: bool = False, minimum: int = 0, maximum: int = 1_000_000,
              value: object = None, label: str | None = None) -> int | None:
        """A whole number between `minimum` and `maximum` (from the cell, or from `value` when given)."""
        value = self.raw(name) if value is None else value.strip() if isinstance(value, str) else value
        said = label or self.label(name)
        if value is None or value == "":
            if required:
                self.error(name, f"{said} is missing")
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and len(value) <= 12 and re.fullmatch(r"[+-]?[0-9]+", value):
            number = int(value)
        if number is None:
            self.error(name, f"{said} '{show(value)}' is not a whole number")
            return None
        if not minimum <= number <= maximum:
            self.error(name, f"{said} {number} must be between {minimum} and {maximum:,}".replace(",", " "))
            return None
        return number

    def gtin(self, name: str, value: object | None = None, *, label: str | None = None) -> str | None:
        """A GTIN-8/12/13/14 with a correct check digit, returned normalised to 14 digits."""
        value = self.raw(name) if value is None else value
        said = label or self.label(name)
        if value is None:
            self.error(name, f"{said} is missing")
            return None
        if not isinstance(value, str):
            self.error(name, f"{said} {show(value)} must be written as text (in JSON, in quotes), "
                             "or leading zeros are lost")
            return None
        problem = gtin_problem(value.strip())
        if problem:
            self.error(name, f"{said} {problem}")
            return None
        value = value.strip()
        return Gtin.parse(value).as_gtin_14()

    def build(self, model: type[M], **fields: object) -> M | None:
        """The contract record from checked fields; a rule the readers missed still becomes an error."""
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            for problem in exc.errors(include_url=False, include_input=False):
                name = ".".join(str(part) for part in problem["loc"]) or model.__name__
                self.error(name, f"{self.label(name)}: {show(problem['msg'], 120)}")
            return None

    def when(self, name: str) -> dt.datetime | None:
        """A date or date-time in ISO 8601 (`2025-03-04` or `2025-03-04T09:30:00+01:00`); naive is UTC."""
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 40:
            self.error(name, f"{self.label(name)} '{show(value)}' is not a date (use 2025-03-04 or "
                             "2025-03-04T09:30:00Z)")
            return None
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.error(name, f"{self.label(name)} '{show(value)}' is not a date (use 2025-03-04 or "
                             "2025-03-04T09:30:00Z)")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if not 2000 <= moment.year <= 2100:
            self.error(name, f"{self.label(name)} {show(value)} is not a plausible date")
            return None
        return moment


def gtin_problem(value: str) -> str | None:
    """Why `value` is not a GTIN, in words ("4006381333932 has a wrong check digit"), or None."""
    if not _DIGITS.fullmatch(value):
        return f"'{show(value)}' is not a GTIN: only the digits 0-9 are allowed"
    if len(value) not in (8, 12, 13, 14):
        return f"{show(value)} has {len(value)} digits; a GTIN has 8, 12, 13 or 14"
    if value.strip("0") == "":
        return f"{value} is all zeros, not a real GTIN"
    try:
        Gtin.parse(value)
    except ParseError:
        expected = gs1_standard_check_digit(value[:-1])
        if str(expected) != value[-1]:
            return f"{value} has a wrong check digit (it should end in {expected})"
        return f"{value} is not a valid GTIN"
    return None
