"""Locations: one row per location; zone, aisle, bay and level read from the code when left out."""

from __future__ import annotations

import re
from typing import Final

from edge_sync.contract import LocationKind, LocationRecord
from server_stub.importer._catalogue import Catalogue
from server_stub.importer._read import MAX_ID, Cells, Row, show
from server_stub.importer._report import RowError

COLUMNS: Final = ("code", "kind", "location_id", "zone", "aisle", "bay", "level", "pick_sequence", "capacity")
REQUIRED: Final = ("code", "kind")
_RACKED = re.compile(r"([A-Za-z]+)-([0-9]{1,3})-([0-9]{1,3})-([0-9]{1,2})")
_KINDS: Final = tuple(kind.value for kind in LocationKind)


def parse_locations(rows: list[Row], catalogue: Catalogue, errors: list[RowError]) -> list[LocationRecord]:
    """Location records for the good rows; every problem goes to `errors`."""
    records: list[tuple[int, LocationRecord]] = []
    for number, values in rows:
        before = len(errors)
        cells = Cells(number, values, errors)
        cells.allow_only(COLUMNS)
        record = _location(cells)
        if record is not None and len(errors) == before:
            records.append((number, record))
    _check_across_rows(records, catalogue, errors)
    return [record for _, record in records]


def _location(cells: Cells) -> LocationRecord | None:
    code = cells.ident("code", required=True)
    kind_text = cells.raw("kind")
    kind: LocationKind | None = None
    if kind_text is None:
        cells.error("kind", "kind is missing")
    elif isinstance(kind_text, str) and kind_text.lower() in _KINDS:
        kind = LocationKind(kind_text.lower())
    else:
        cells.error("kind", f"kind '{show(kind_text)}' must be one of {', '.join(_KINDS)}")
    location_id = cells.ident("location_id")
    parts = _RACKED.fullmatch(code) if code else None
    zone = cells.ident("zone") or (parts.group(1) if parts else code.split("-", 1)[0] if code else None)
    aisle = cells.whole("aisle", maximum=999)
    bay = cells.whole("bay", maximum=999)
    level = cells.whole("level", maximum=99)
    if parts:
        aisle = int(parts.group(2)) if aisle is None else aisle
        bay = int(parts.group(3)) if bay is None else bay
        level = int(parts.group(4)) if level is None else level
    pick_sequence = cells.whole("pick_sequence", maximum=10_000_000) or 0
    capacity = cells.whole("capacity") or 0
    if code is None or kind is None or zone is None:
        return None
    if location_id is None:
        location_id = f"loc-{code}"
        if len(location_id) > MAX_ID:
            cells.error("location_id", f"code {code} is too long to make a location_id from; give a location_id")
            return None
    return cells.build(LocationRecord, location_id=location_id, code=code, zone=zone, kind=kind, aisle=aisle,
                       bay=bay, level=level, pick_sequence=pick_sequence, capacity=capacity)


def _check_across_rows(records: list[tuple[int, LocationRecord]], catalogue: Catalogue,
                       errors: list[RowError]) -> None:
    in_file = {record.location_id for _, record in records}
    seen_ids: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    for number, loc in records:
        if loc.code in seen_codes:
            errors.append(RowError(number, "code", f"code {loc.code} is already on row {seen_codes[loc.code]}"))
        elif loc.location_id in seen_ids:
            errors.append(RowError(number, "location_id",
                                   f"location_id {loc.location_id} is already on row {seen_ids[loc.location_id]}"))
        seen_ids.setdefault(loc.location_id, number)
        seen_codes.setdefault(loc.code, number)
        owner = catalogue.code_locations.get(loc.code)
        if owner is not None and owner != loc.location_id and owner not in in_file:
            errors.append(RowError(number, "code", f"code {loc.code} already belongs to location {owner} in this store"))
