"""Purchase orders, with their ASN when the supplier sent one.

CSV has one row per PO line, grouped by `po_number`; JSON has one object per PO with its lines
and an optional `asn`. Both end up as the same drafts, resolved against the store's items here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from biip import ParseError
from biip.sscc import Sscc

from edge_sync.contract import AsnRecord, ExpectedLine, PurchaseOrderRecord
from server_stub.importer._catalogue import Catalogue
from server_stub.importer._read import MAX_ID, Cells, Row, show
from server_stub.importer._report import RowError

CSV_COLUMNS: Final = ("po_number", "supplier", "expected_at", "item_id", "sku", "gtin", "qty", "asn_number",
                      "asn_sscc", "asn_expected_at", "asn_qty")
CSV_REQUIRED: Final = ("po_number", "supplier", "qty")
PO_FIELDS: Final = ("number", "supplier", "expected_at", "lines", "asn")
ASN_FIELDS: Final = ("number", "sscc", "expected_at", "lines")
LINE_FIELDS: Final = ("item_id", "sku", "gtin", "qty")
MAX_LINES: Final = 2000
_MAX_PARENT_ID: Final = MAX_ID - 5


@dataclass
class _Line:
    row: int
    cells: Cells
    item_id: str | None
    gtin: str
    qty: int


@dataclass
class _Asn:
    number: str
    asn_id: str
    sscc: str | None
    expected_at: dt.datetime | None
    lines: list[_Line] | None  # None: the ASN announces exactly the PO lines


@dataclass
class _Po:
    row: int
    cells: Cells
    number: str
    po_id: str
    supplier: str
    expected_at: dt.datetime | None
    lines: list[_Line] = field(default_factory=list)
    asn: _Asn | None = None


def parse_purchase_orders_csv(rows: list[Row], catalogue: Catalogue,
                              errors: list[RowError]) -> tuple[list[PurchaseOrderRecord], list[AsnRecord]]:
    """POs and ASNs from CSV rows, one row per line, grouped by po_number.

    A PO has an ASN when any of its rows names one; each row then ships `asn_qty` (or, when that is
    blank, `qty`) on the ASN. A row with qty 0 and an asn_qty is a line only on the ASN.
    """
    drafts: dict[str, _Po] = {}
    shipped: dict[str, list[tuple[Cells, str | None, str | None, int | None, int | None]]] = {}
    for number, values in rows:
        cells = Cells(number, values, errors)
        po_number = cells.ident("po_number", required=True)
        supplier = cells.text("supplier")
        expected_at = cells.when("expected_at")
        asn_number = cells.ident("asn_number")
        sscc = _sscc(cells, "asn_sscc")
        asn_expected_at = cells.when("asn_expected_at")
        qty = cells.whole("qty", minimum=0)
        asn_qty = cells.whole("asn_qty", minimum=0)
        item_id, gtin = _item(cells, catalogue, on_po=bool(qty))
        if po_number is None:
            continue
        draft = drafts.get(po_number)
        if draft is None:
            if supplier is None:
                cells.error("supplier", "supplier is missing")
                continue
            po_id = _derived_id(cells, "po_number", "po-", po_number)
            if po_id is None:
                continue
            draft = drafts[po_number] = _Po(number, cells, po_number, po_id, supplier, expected_at)
            shipped[po_number] = []
        else:
            _same(cells, "supplier", supplier, draft.supplier, draft.row)
            _same(cells, "expected_at", expected_at, draft.expected_at, draft.row)
        if asn_number is not None:
            if draft.asn is None:
                asn_id = _derived_id(cells, "asn_number", "asn-", asn_number)
                if asn_id is not None:
                    draft.asn = _Asn(asn_number, asn_id, sscc, asn_expected_at, [])
            else:
                _same(cells, "asn_number", asn_number, draft.asn.number, draft.row)
                _same(cells, "asn_sscc", sscc, draft.asn.sscc, draft.row)
        if qty:
            if item_id is not None and gtin is not None:
                draft.lines.append(_Line(number, cells, item_id, gtin, qty))
        elif not asn_qty:
            cells.error("qty", "qty is missing: give the ordered qty, or an asn_qty for a line only on the ASN")
        shipped[po_number].append((cells, item_id, gtin, qty, asn_qty))
    for po_number, draft in drafts.items():
        for cells, item_id, gtin, qty, asn_qty in shipped[po_number]:
            if draft.asn is None or draft.asn.lines is None:
                if asn_qty is not None:
                    cells.error("asn_qty", f"asn_qty is given but purchase order {po_number} has no asn_number")
                continue
            units = qty if asn_qty is None else asn_qty
            if units and gtin is not None:
                draft.asn.lines.append(_Line(cells.row, cells, item_id, gtin, units))
    return _records(list(drafts.values()), catalogue, errors)


def parse_purchase_orders_json(rows: list[Row], catalogue: Catalogue,
                               errors: list[RowError]) -> tuple[list[PurchaseOrderRecord], list[AsnRecord]]:
    """POs and ASNs from JSON objects, one per PO."""
    drafts: list[_Po] = []
    for number, values in rows:
        cells = Cells(number, values, errors)
        cells.allow_only(PO_FIELDS)
        po_number = cells.ident("number", required=True)
        supplier = cells.text("supplier", required=True)
        expected_at = cells.when("expected_at")
        po_id = _derived_id(cells, "number", "po-", po_number) if po_number else None
        lines = _json_lines(cells, cells.values.get("lines"), "lines", catalogue, on_po=True)
        if po_number is None or po_id is None or supplier is None or lines is None:
            continue
        draft = _Po(number, cells, po_number, po_id, supplier, expected_at, lines)
        asn = cells.values.get("asn")
        if isinstance(asn, Mapping):
            asn_cells = cells.nested(asn, "asn.")
            asn_cells.allow_only(ASN_FIELDS)
            asn_number = asn_cells.ident("number", required=True)
            asn_id = _derived_id(asn_cells, "number", "asn-", asn_number) if asn_number else None
            sscc = _sscc(asn_cells, "sscc")
            asn_expected_at = asn_cells.when("expected_at")
            asn_lines = None
            if asn.get("lines") is not None:
                asn_lines = _json_lines(asn_cells, asn.get("lines"), "lines", catalogue, on_po=False)
            if asn_number is not None and asn_id is not None:
                draft.asn = _Asn(asn_number, asn_id, sscc, asn_expected_at, asn_lines)
        elif asn is not None:
            cells.error("asn", f"asn must be an object with a number and lines, not {show(asn)}")
        drafts.append(draft)
    return _records(drafts, catalogue, errors)


def _json_lines(cells: Cells, value: object, name: str, catalogue: Catalogue, *, on_po: bool) -> list[_Line] | None:
    if value is None:
        cells.error(name, f"{cells.label(name)} is missing")
        return None
    if not isinstance(value, list):
        cells.error(name, f"{cells.label(name)} must be a list of lines")
        return None
    if len(value) > MAX_LINES:
        cells.error(name, f"{cells.label(name)} has {len(value)} lines; at most {MAX_LINES}")
        return None
    if not value:
        cells.error(name, f"{cells.label(name)} is empty")
        return None
    lines = []
    for index, entry in enumerate(value, start=1):
        if not isinstance(entry, Mapping):
            cells.error(f"{name}[{index}]", f"{cells.label(name)}[{index}] must be an object like "
                                            '{"gtin": "...", "qty": 12}')
            continue
        line = cells.nested(entry, f"{name}[{index}].")
        line.allow_only(LINE_FIELDS)
        qty = line.whole("qty", required=True, minimum=1)
        item_id, gtin = _item(line, catalogue, on_po=on_po)
        if qty is not None and gtin is not None:
            lines.append(_Line(cells.row, line, item_id, gtin, qty))
    return lines


def _item(cells: Cells, catalogue: Catalogue, *, on_po: bool) -> tuple[str | None, str | None]:
    """The (item_id, GTIN-14) a line names by item_id, sku or gtin.

    The GTIN is the one given, or the item's unit GTIN. An ASN-only line may carry a GTIN the store
    does not know: item_id is then None (receiving raises it as an unknown item). (None, None) means
    the line is bad and its error is recorded.
    """
    item_id = cells.ident("item_id")
    sku = cells.ident("sku")
    gtin = cells.gtin("gtin") if cells.raw("gtin") is not None else None
    found: list[tuple[str, str]] = []
    if item_id is not None:
        if item_id in catalogue.item_ids:
            found.append(("item_id", item_id))
        else:
            cells.error("item_id", f"{cells.label('item_id')} {item_id} is not an item of this store")
    if sku is not None:
        if sku in catalogue.sku_items:
            found.append(("sku", catalogue.sku_items[sku]))
        else:
            cells.error("sku", f"{cells.label('sku')} {sku} is not an item of this store")
    if gtin is not None:
        if gtin in catalogue.gtin_items:
            found.append(("gtin", catalogue.gtin_items[gtin]))
        elif on_po:
            cells.error("gtin", f"{cells.label('gtin')} {gtin} is not an item of this store (import the item first)")
    if len({item for _, item in found}) > 1:
        said = ", ".join(f"{name} says {item}" for name, item in found)
        cells.error("item_id", f"the line names two different items ({said})")
        return None, None
    if item_id is None and sku is None and cells.raw("gtin") is None:
        cells.error("item_id", "the line names no item: give item_id, sku or gtin")
        return None, None
    if found:
        known = found[0][1]
        return known, gtin or catalogue.item_unit_gtin.get(known)
    if gtin is not None and not on_po and item_id is None and sku is None:
        return None, gtin
    return None, None


def _sscc(cells: Cells, name: str) -> str | None:
    value = cells.raw(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != 18:
        cells.error(name, f"{cells.label(name)} '{show(value)}' must be the 18 digits of an SSCC")
        return None
    try:
        Sscc.parse(value)
    except ParseError:
        cells.error(name, f"{cells.label(name)} {value} has a wrong check digit")
        return None
    return value


def _derived_id(cells: Cells, name: str, prefix: str, number: str) -> str | None:
    # Room is left for the "-NNNN" line number that line ids append.
    if len(prefix) + len(number) > _MAX_PARENT_ID:
        cells.error(name, f"{cells.label(name)} {number} is too long (at most {_MAX_PARENT_ID - len(prefix)} "
                          "characters)")
        return None
    return prefix + number


def _same(cells: Cells, name: str, value: object, first: object, first_row: int) -> None:
    if value is not None and value != first:
        cells.error(name, f"{name} '{show(str(value))}' differs from row {first_row} of the same purchase order")


def _records(drafts: list[_Po], catalogue: Catalogue,
             errors: list[RowError]) -> tuple[list[PurchaseOrderRecord], list[AsnRecord]]:
    pos: list[PurchaseOrderRecord] = []
    asns: list[AsnRecord] = []
    seen_pos: dict[str, int] = {}
    seen_asns: dict[str, int] = {}
    for draft in drafts:
        cells = draft.cells
        if draft.po_id in seen_pos:
            cells.error("number", f"purchase order {draft.number} is already on row {seen_pos[draft.po_id]}")
        seen_pos.setdefault(draft.po_id, draft.row)
        if draft.po_id in catalogue.po_ids:
            cells.error("number", f"purchase order {draft.number} is already in this store")
        if len(draft.lines) > MAX_LINES:
            cells.error("lines", f"purchase order {draft.number} has more than {MAX_LINES} lines")
            continue
        _no_item_twice(draft.number, draft.lines)
        if draft.asn is not None and draft.asn.lines is not None:
            _no_item_twice(draft.asn.number, draft.asn.lines)
        po_lines = _expected(draft.po_id, draft.lines)
        po = cells.build(PurchaseOrderRecord, po_id=draft.po_id, number=draft.number, supplier=draft.supplier,
                         expected_at=draft.expected_at, lines=po_lines)
        if po is None:
            continue
        pos.append(po)
        if draft.asn is None:
            continue
        asn = draft.asn
        if asn.asn_id in seen_asns:
            cells.error("asn_number", f"ASN {asn.number} is already on row {seen_asns[asn.asn_id]}")
        seen_asns.setdefault(asn.asn_id, draft.row)
        if asn.asn_id in catalogue.asn_ids:
            cells.error("asn_number", f"ASN {asn.number} is already in this store")
        asn_lines = _expected(asn.asn_id, draft.lines if asn.lines is None else asn.lines)
        record = cells.build(AsnRecord, asn_id=asn.asn_id, po_id=draft.po_id, number=asn.number, sscc=asn.sscc,
                             expected_at=asn.expected_at or draft.expected_at, lines=asn_lines)
        if record is not None:
            asns.append(record)
    return pos, asns


def _no_item_twice(number: str, lines: list[_Line]) -> None:
    """One line per item (or per unknown GTIN): receiving matches what is scanned to one line."""
    first: dict[str, int] = {}
    for index, line in enumerate(lines, start=1):
        key = line.item_id or line.gtin
        if key in first:
            line.cells.error("item_id", f"{key} is on {number} twice (line {first[key]} and line {index}); "
                                        "put the whole qty on one line")
        first.setdefault(key, index)


def _expected(parent_id: str, lines: list[_Line]) -> list[ExpectedLine]:
    return [ExpectedLine(line_id=f"{parent_id}-{number}", item_id=line.item_id, gtin=line.gtin, qty=line.qty)
            for number, line in enumerate(lines, start=1)]
