"""Import items, locations and purchase orders (with ASNs) from CSV or JSON: all rows or none.

`parse(kind, content, fmt, store_id=..., catalogue=...)` reads a file's bytes into contract records
and checks every row; it never raises on bad input and writes nothing. `import_file(engine, kind,
path, store_id=...)` does the same against the store in the database and, only when every row is
good, hands the records to `server_stub.masterdata.load_master_data` (one transaction). Either way
the answer is an `ImportReport`: rows read, counts, and every bad row with its number, field and a
reason ("row 7: gtin 4006381333932 has a wrong check digit (it should end in 1)").

Row numbers: in CSV as a spreadsheet shows them (the header is row 1, the first data row is row 2;
blank lines are skipped but still counted); in JSON the position of the object in its list, from 1.

CSV: UTF-8 (a BOM is fine), comma or semicolon separated, a header line naming the columns (case and
spaces do not matter: "Item ID" is item_id). Unknown or repeated columns refuse the file, so a typo
never drops data silently. JSON: a list of objects, or an object holding the list under "items",
"locations" or "purchase_orders". Unknown fields are refused.

Items (one row per item; an item already in the store with the same item_id is updated):

    item_id        required  id: letters, digits and . _ : - (at most 64)
    sku            required  id; unique in the file and the store
    description    required  text, at most 500 characters
    gtins          required  GTIN-8/12/13/14 with a correct check digit, several separated by ; | or
                             spaces (JSON: a list of strings). Stored as 14 digits.
    unit           optional  at most 16 characters, default "each"
    home_location  optional  code or location_id of a location already in the store
    pack_sizes     optional  case packs: GTIN=QTY;GTIN=QTY (JSON: {"GTIN": QTY}); each case GTIN is
                             added to the item's GTINs

Locations (one row per location; same location_id is an update):

    code           required  id, e.g. A-03-02-1 (zone-aisle-bay-level), BR-01-04-2, DOCK-1, STG-3
    kind           required  shelf | backroom | dock | staging
    location_id    optional  default "loc-" + code
    zone, aisle, bay, level  optional; read from a ZONE-AA-BB-L code when left out
    pick_sequence  optional  whole number, walking order for picks (default 0)
    capacity       optional  units the location holds; 0 (the default) means unlimited

Purchase orders (new POs only: a PO or ASN number already in the store is refused):

    CSV, one row per PO line, rows of one PO grouped by po_number:
    po_number      required  id; the PO id is "po-" + po_number
    supplier       required  on the PO's first row; later rows may leave it blank
    expected_at    optional  2025-03-04 or 2025-03-04T09:30:00+01:00 (no offset means UTC)
    item_id, sku, gtin       at least one, naming an item of the store (they must agree)
    qty            required  units ordered; 0 or blank with an asn_qty: a line only on the ASN
    asn_number     optional  the ASN for this PO; the ASN id is "asn-" + asn_number
    asn_sscc       optional  18-digit SSCC of the shipment, check digit verified
    asn_expected_at optional
    asn_qty        optional  units the ASN announces for the line (default: qty); 0 = not shipped.
                             On an ASN-only line the gtin may be one the store does not know yet:
                             it is kept with no item, and receiving raises it as an unknown item.

    JSON, one object per PO:
    {"number": "PO-4500123", "supplier": "Alder Foods Ltd", "expected_at": "2025-03-04",
     "lines": [{"gtin": "4006381333931", "qty": 12}, {"sku": "SKU-100004", "qty": 6}],
     "asn": {"number": "ASN-7001", "sscc": "340123450000000000", "expected_at": "2025-03-04T08:00:00Z",
             "lines": [{"gtin": "4006381333931", "qty": 10}]}}
    A line names its item by item_id, sku or gtin (a GTIN as a string: numbers lose leading zeros).
    "asn" is optional; an ASN without "lines" announces exactly the PO's lines.

Hostile text is refused, not cleaned: control and invisible characters, text that a spreadsheet
would run as a formula (starting with = or @, or + / - not followed by a digit), over-long values,
more than 100,000 rows or 20 MB.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from edge_sync.contract import MasterData
from server_stub.importer._catalogue import Catalogue, read_catalogue
from server_stub.importer._items import COLUMNS as ITEM_COLUMNS
from server_stub.importer._items import REQUIRED as ITEM_REQUIRED
from server_stub.importer._items import parse_items
from server_stub.importer._locations import COLUMNS as LOCATION_COLUMNS
from server_stub.importer._locations import REQUIRED as LOCATION_REQUIRED
from server_stub.importer._locations import parse_locations
from server_stub.importer._purchase_orders import CSV_COLUMNS as PO_COLUMNS
from server_stub.importer._purchase_orders import CSV_REQUIRED as PO_REQUIRED
from server_stub.importer._purchase_orders import parse_purchase_orders_csv, parse_purchase_orders_json
from server_stub.importer._read import MAX_BYTES, Format, decode, read_csv, read_json
from server_stub.importer._report import ImportKind, ImportReport, RowError

__all__ = ["Catalogue", "Format", "ImportKind", "ImportReport", "RowError", "format_of", "import_file", "parse",
           "read_catalogue"]

_LIST_KEYS = {ImportKind.ITEMS: "items", ImportKind.LOCATIONS: "locations",
              ImportKind.PURCHASE_ORDERS: "purchase_orders"}
_CSV_COLUMNS = {ImportKind.ITEMS: (ITEM_COLUMNS, ITEM_REQUIRED),
                ImportKind.LOCATIONS: (LOCATION_COLUMNS, LOCATION_REQUIRED),
                ImportKind.PURCHASE_ORDERS: (PO_COLUMNS, PO_REQUIRED)}

Loader = Callable[[Engine, MasterData], Any]


def format_of(path: str | Path) -> Format | None:
    """The format a file name implies (`.csv`, `.json`), or None."""
    suffix = Path(path).suffix.lower()
    return "csv" if suffix in (".csv", ".txt") else "json" if suffix == ".json" else None


def parse(
    kind: ImportKind,
    content: bytes | str,
    fmt: Format,
    *,
    store_id: str,
    catalogue: Catalogue | None = None,
    source: str = "",
) -> ImportReport:
    """Read and check a whole file; `data` is set only when every row is good. Never raises on bad input."""
    catalogue = catalogue or Catalogue()
    kind = ImportKind(kind)
    text, problem = decode(content)
    if text is None:
        return ImportReport(kind, source, 0, (problem,) if problem else ())
    if fmt == "csv":
        columns, required = _CSV_COLUMNS[kind]
        rows, errors, read = read_csv(text, columns, required)
    else:
        rows, errors, read = read_json(text, _LIST_KEYS[kind])
    data = MasterData(store_id=store_id)
    if kind is ImportKind.ITEMS:
        data = data.model_copy(update={"items": parse_items(rows, catalogue, errors)})
    elif kind is ImportKind.LOCATIONS:
        data = data.model_copy(update={"locations": parse_locations(rows, catalogue, errors)})
    else:
        reader = parse_purchase_orders_csv if fmt == "csv" else parse_purchase_orders_json
        pos, asns = reader(rows, catalogue, errors)
        data = data.model_copy(update={"purchase_orders": pos, "asns": asns})
    if not read and not errors:
        errors.append(RowError(None, None, "the file has no rows to import"))
    if errors:
        ordered = sorted(errors, key=lambda e: -1 if e.row is None else e.row)
        return ImportReport(kind, source, read, tuple(ordered))
    counts = {"items": len(data.items), "locations": len(data.locations),
              "purchase_orders": len(data.purchase_orders), "asns": len(data.asns)}
    return ImportReport(kind, source, read, (), data, counts=counts)


def import_file(
    engine: Engine,
    kind: ImportKind,
    path: str | Path,
    *,
    store_id: str,
    fmt: Format | None = None,
    loader: Loader | None = None,
) -> ImportReport:
    """Check a file against the store in the database and, when every row is good, load it in one go."""
    path = Path(path)
    source = str(path)
    fmt = fmt or format_of(path)
    if fmt is None:
        return ImportReport(ImportKind(kind), source, 0, (RowError(
            None, None, "cannot tell the format from the file name: use --format csv or --format json"),))
    try:
        if path.stat().st_size > MAX_BYTES:
            return ImportReport(ImportKind(kind), source, 0, (RowError(
                None, None, f"the file is larger than {MAX_BYTES // 1024 // 1024} MB"),))
        content = path.read_bytes()
    except OSError as exc:
        return ImportReport(ImportKind(kind), source, 0, (RowError(None, None, f"cannot read the file: {exc.strerror}"),))
    report = parse(kind, content, fmt, store_id=store_id, catalogue=read_catalogue(engine, store_id), source=source)
    if not report.ok or report.data is None:
        return report
    if loader is None:
        from server_stub.masterdata import load_master_data

        loader = load_master_data
    loader(engine, report.data)
    return ImportReport(report.kind, report.source, report.rows, (), report.data, written=True, counts=report.counts)
