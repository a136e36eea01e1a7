"""Items: one row per item, its GTINs and case packs, checked against each other and the store."""

from __future__ import annotations

import re
from typing import Final

from edge_sync.contract import ItemRecord
from server_stub.importer._catalogue import Catalogue
from server_stub.importer._read import Cells, Row, show
from server_stub.importer._report import RowError

COLUMNS: Final = ("item_id", "sku", "description", "gtins", "unit", "home_location", "pack_sizes")
REQUIRED: Final = ("item_id", "sku", "description", "gtins")
MAX_GTINS: Final = 20


def parse_items(rows: list[Row], catalogue: Catalogue, errors: list[RowError]) -> list[ItemRecord]:
    """Item records for the good rows; every problem goes to `errors`."""
    records: list[tuple[int, ItemRecord]] = []
    for number, values in rows:
        before = len(errors)
        cells = Cells(number, values, errors)
        cells.allow_only(COLUMNS)
        record = _item(cells, catalogue)
        if record is not None and len(errors) == before:
            records.append((number, record))
    _check_across_rows(records, catalogue, errors)
    return [record for _, record in records]


def _item(cells: Cells, catalogue: Catalogue) -> ItemRecord | None:
    item_id = cells.ident("item_id", required=True)
    sku = cells.ident("sku", required=True)
    description = cells.text("description", required=True)
    unit = cells.text("unit", max_len=16) or "each"
    gtins = [g for g in (cells.gtin("gtins", raw, label="gtin") for raw in _listed(cells, "gtins")) if g]
    pack_sizes = _pack_sizes(cells)
    for gtin in pack_sizes:
        if gtin not in gtins:
            gtins.append(gtin)
    if len(gtins) != len(set(gtins)):
        cells.error("gtins", "gtins lists the same GTIN twice")
    if len(gtins) > MAX_GTINS:
        cells.error("gtins", f"gtins has {len(gtins)} GTINs; an item may have at most {MAX_GTINS}")
    if pack_sizes and len(pack_sizes) == len(gtins):
        cells.error("gtins", "gtins has no unit GTIN: every GTIN listed is a case pack")
    home = cells.ident("home_location")
    home_id = None
    if home is not None:
        home_id = catalogue.code_locations.get(home) or (home if home in catalogue.location_ids else None)
        if home_id is None:
            cells.error("home_location", f"home_location {home} is not a location of this store "
                                         "(import the locations first)")
    if item_id is None or sku is None or description is None or not gtins:
        return None
    return cells.build(ItemRecord, item_id=item_id, sku=sku, gtins=gtins, description=description, unit=unit,
                       pack_sizes=pack_sizes, home_location_id=home_id)


def _listed(cells: Cells, name: str) -> list[object]:
    """A list cell: a JSON list, or text with the values separated by ; | or spaces."""
    value = cells.raw(name)
    if value is None:
        cells.error(name, f"{cells.label(name)} is missing")
        return []
    if isinstance(value, list):
        if not value:
            cells.error(name, f"{cells.label(name)} is empty")
        return list(value[: MAX_GTINS + 1])
    if isinstance(value, str):
        return [part for part in re.split(r"[;|\s]+", value[:2000]) if part]
    return [value]


def _pack_sizes(cells: Cells) -> dict[str, int]:
    """Case packs: `GTIN=QTY;GTIN=QTY` in CSV, `{"GTIN": QTY}` in JSON."""
    value = cells.raw("pack_sizes")
    if value is None:
        return {}
    pairs: list[tuple[object, object]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        for part in (p for p in re.split(r"[;|\s]+", value[:2000]) if p):
            gtin, sep, qty = part.partition("=")
            if not sep:
                cells.error("pack_sizes", f"pack_sizes '{show(part)}' must be written GTIN=QTY, "
                                          "e.g. 14006381333938=12")
                continue
            pairs.append((gtin, qty))
    else:
        cells.error("pack_sizes", f"pack_sizes must be GTIN=QTY pairs, not {show(value)}")
        return {}
    packs: dict[str, int] = {}
    for raw_gtin, raw_qty in pairs[: MAX_GTINS + 1]:
        gtin = cells.gtin("pack_sizes", raw_gtin, label="pack_sizes gtin")
        qty = cells.whole("pack_sizes", required=True, minimum=1, value=raw_qty, label="pack_sizes qty")
        if gtin is None or qty is None:
            continue
        if gtin in packs:
            cells.error("pack_sizes", f"pack_sizes lists GTIN {gtin} twice")
        packs[gtin] = qty
    return packs


def _check_across_rows(records: list[tuple[int, ItemRecord]], catalogue: Catalogue, errors: list[RowError]) -> None:
    in_file = {record.item_id for _, record in records}
    seen_ids: dict[str, int] = {}
    seen_skus: dict[str, int] = {}
    seen_gtins: dict[str, int] = {}
    for number, item in records:
        if item.item_id in seen_ids:
            errors.append(RowError(number, "item_id", f"item_id {item.item_id} is already on row {seen_ids[item.item_id]}"))
        seen_ids.setdefault(item.item_id, number)
        if item.sku in seen_skus:
            errors.append(RowError(number, "sku", f"sku {item.sku} is already on row {seen_skus[item.sku]}"))
        seen_skus.setdefault(item.sku, number)
        owner = catalogue.sku_items.get(item.sku)
        if owner is not None and owner != item.item_id and owner not in in_file:
            errors.append(RowError(number, "sku", f"sku {item.sku} already belongs to item {owner} in this store"))
        for gtin in item.gtins:
            if gtin in seen_gtins:
                errors.append(RowError(number, "gtins", f"gtin {gtin} is already on row {seen_gtins[gtin]}"))
            seen_gtins.setdefault(gtin, number)
            owner = catalogue.gtin_items.get(gtin)
            if owner is not None and owner != item.item_id and owner not in in_file:
                errors.append(RowError(number, "gtins", f"gtin {gtin} already belongs to item {owner} in this store"))
