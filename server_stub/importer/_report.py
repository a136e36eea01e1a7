"""What an import found: every bad row, in words a store admin can act on, and what was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from edge_sync.contract import MasterData


_NAMES = {"purchase_orders": "purchase order(s)", "asns": "ASN(s)", "items": "item(s)", "locations": "location(s)"}


class ImportKind(StrEnum):
    """What a file holds. The values are the `backroom import` subcommand words."""

    ITEMS = "items"
    LOCATIONS = "locations"
    PURCHASE_ORDERS = "purchase-orders"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in the file: the row (None for the file as a whole), the field, and why."""

    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        return self.message if self.row is None else f"row {self.row}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of reading (and maybe writing) one file.

    `data` holds the parsed records only when every row was good; `written` is True once the loader
    committed them. A report with errors has written nothing.
    """

    kind: ImportKind
    source: str
    rows: int
    errors: tuple[RowError, ...] = ()
    data: MasterData | None = None
    written: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the file had no bad row (and, after `import_file`, was written)."""
        return not self.errors

    def describe(self, max_errors: int = 200) -> str:
        """The report as text for a terminal: the verdict, then one line per bad row."""
        name = self.source or "input"
        if self.ok:
            what = ", ".join(f"{n} {_NAMES.get(k, k)}" for k, n in self.counts.items() if n) or "nothing"
            verb = "imported" if self.written else "checked, nothing written"
            return f"{name}: {self.rows} rows {verb}: {what}."
        bad_rows = len({e.row for e in self.errors if e.row is not None})
        head = (f"{name}: refused, nothing was imported. {len(self.errors)} problem(s)"
                f"{f' in {bad_rows} row(s)' if bad_rows else ''} of {self.rows} row(s) read:")
        lines = [head] + [f"  {e}" for e in self.errors[:max_errors]]
        if len(self.errors) > max_errors:
            lines.append(f"  ... and {len(self.errors) - max_errors} more")
        return "\n".join(lines)
