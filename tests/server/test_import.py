"""Importers: good files load, every bad row is named with its reason, and a bad file writes nothing."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from edge_sync.contract import LocationKind, MasterData
from server_stub import tables as t
from server_stub.commands import import_data, seed
from server_stub.db import create_engine_for, migrate
from server_stub.importer import Catalogue, ImportKind, ImportReport, import_file, parse, read_catalogue
from server_stub.masterdata import load_master_data
from server_stub.seed import generate_store

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
STORE = "store-001"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty service database in a temporary SQLite file."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'server.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sample_store(engine: Engine) -> Engine:
    """The database with the sample locations and items imported."""
    for kind, name in ((ImportKind.LOCATIONS, "locations.csv"), (ImportKind.ITEMS, "items.csv")):
        assert import_file(engine, kind, SAMPLES / name, store_id=STORE).written
    return engine


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.items, t.item_gtins, t.locations, t.purchase_orders, t.asns, t.changes)
        }


# -- good files ----------------------------------------------------------------------------------


def test_the_sample_files_import_in_order_into_an_empty_store(sample_store: Engine) -> None:
    json_report = import_file(sample_store, ImportKind.PURCHASE_ORDERS, SAMPLES / "purchase_orders.json", store_id=STORE)
    csv_report = import_file(sample_store, ImportKind.PURCHASE_ORDERS, SAMPLES / "purchase_orders.csv", store_id=STORE)
    assert json_report.written and csv_report.written, (json_report.describe(), csv_report.describe())
    catalogue = read_catalogue(sample_store, STORE)
    assert len(catalogue.location_ids) == 14
    assert len(catalogue.item_ids) == 10
    assert catalogue.po_ids == {"po-PO-4500100", "po-PO-4500101", "po-PO-4500102", "po-PO-4500200",
                                "po-PO-4500201"}
    assert catalogue.asn_ids == {"asn-ASN-7100", "asn-ASN-7101", "asn-ASN-7200"}
    assert catalogue.code_locations["A-01-01-1"] == "loc-A-01-01-1"


def test_sample_items_carry_normalised_gtins_and_case_packs() -> None:
    catalogue = Catalogue.from_master_data(_sample_locations())
    report = parse(ImportKind.ITEMS, (SAMPLES / "items.csv").read_bytes(), "csv", store_id=STORE, catalogue=catalogue)
    assert report.ok and report.data is not None
    items = {i.item_id: i for i in report.data.items}
    assert items["itm-1006"].gtins == ["00036000291452", "10036000291459"]  # UPC-A and its case
    assert items["itm-1006"].pack_sizes == {"10036000291459": 6}
    assert items["itm-1009"].gtins == ["00000096385074"]  # GTIN-8
    assert items["itm-1004"].gtins[:2] == ["04006381333016", "04006381333023"]
    assert items["itm-1001"].home_location_id == "loc-A-01-01-1"


def _sample_locations() -> MasterData:
    report = parse(ImportKind.LOCATIONS, (SAMPLES / "locations.csv").read_bytes(), "csv", store_id=STORE)
    assert report.ok and report.data is not None
    return report.data


def test_location_fields_are_read_from_the_code_when_left_out() -> None:
    locations = {loc.code: loc for loc in _sample_locations().locations}
    shelf = locations["A-01-02-2"]
    assert (shelf.zone, shelf.aisle, shelf.bay, shelf.level, shelf.kind) == ("A", 1, 2, 2, LocationKind.SHELF)
    dock = locations["DOCK-1"]
    assert (dock.zone, dock.aisle, dock.kind, dock.capacity) == ("DOCK", None, LocationKind.DOCK, 0)


def test_the_json_asn_keeps_short_and_unknown_lines(sample_store: Engine) -> None:
    report = import_file(sample_store, ImportKind.PURCHASE_ORDERS, SAMPLES / "purchase_orders.json", store_id=STORE)
    assert report.data is not None
    asns = {a.number: a for a in report.data.asns}
    pos = {p.number: p for p in report.data.purchase_orders}
    assert [(l.item_id, l.qty) for l in asns["ASN-7100"].lines] == [(l.item_id, l.qty) for l in pos["PO-4500100"].lines]
    short = asns["ASN-7101"]
    assert [l.qty for l in short.lines] == [48, 18, 12, 6]
    assert short.lines[-1].item_id is None and short.lines[-1].gtin == "04006381333931"
    assert "PO-4500102" in pos and len(asns) == 2


def test_the_csv_po_groups_lines_and_builds_its_asn(sample_store: Engine) -> None:
    report = import_file(sample_store, ImportKind.PURCHASE_ORDERS, SAMPLES / "purchase_orders.csv", store_id=STORE)
    assert report.data is not None
    po = report.data.purchase_orders[0]
    asn = report.data.asns[0]
    assert [(l.item_id, l.qty) for l in po.lines] == [("itm-1006", 12), ("itm-1007", 48), ("itm-1010", 24)]
    assert [(l.item_id, l.qty) for l in asn.lines] == [("itm-1006", 12), ("itm-1007", 60), ("itm-1010", 24),
                                                       (None, 6)]
    assert asn.sscc == "370614141000000018"
    assert report.data.purchase_orders[1].lines[0].gtin == "04006381333108"  # by SKU: the item's unit GTIN


def test_reimporting_items_updates_them_in_place(sample_store: Engine) -> None:
    before = _counts(sample_store)
    again = import_file(sample_store, ImportKind.ITEMS, SAMPLES / "items.csv", store_id=STORE)
    assert again.written
    after = _counts(sample_store)
    assert after["items"] == before["items"] and after["item_gtins"] == before["item_gtins"]


def test_json_items_and_locations_import_too(engine: Engine, tmp_path: Path) -> None:
    locations = tmp_path / "locations.json"
    locations.write_text(json.dumps({"locations": [{"code": "A-01-01-1", "kind": "shelf", "capacity": 50},
                                                   {"code": "DOCK-1", "kind": "DOCK"}]}))
    items = tmp_path / "items.json"
    items.write_text(json.dumps([{"item_id": "i-1", "sku": "S-1", "description": "Blue ceramic mug 350 ml",
                                  "gtins": "4006381333931", "home_location": "loc-A-01-01-1",
                                  "pack_sizes": {"14006381333938": 6}}]))
    assert import_file(engine, ImportKind.LOCATIONS, locations, store_id=STORE).written
    report = import_file(engine, ImportKind.ITEMS, items, store_id=STORE)
    assert report.written, report.describe()
    assert read_catalogue(engine, STORE).gtin_items == {"04006381333931": "i-1", "14006381333938": "i-1"}


# -- bad rows ------------------------------------------------------------------------------------

ITEM_HEADER = "item_id,sku,description,gtins,home_location,pack_sizes\n"
GOOD_ITEM = "i-1,S-1,Blue ceramic mug 350 ml,4006381333931,,\n"

BAD_ITEMS = [
    ("wrong check digit", "i-2,S-2,Mug,4006381333932,,", 3, "gtins",
     "row 3: gtin 4006381333932 has a wrong check digit (it should end in 1)"),
    ("letters in a GTIN", "i-2,S-2,Mug,40063813339X1,,", 3, "gtins", "only the digits 0-9"),
    ("GTIN too short", "i-2,S-2,Mug,12345,,", 3, "gtins", "has 5 digits"),
    ("all-zero GTIN", "i-2,S-2,Mug,0000000000000,,", 3, "gtins", "all zeros"),
    ("duplicate item id", "i-1,S-2,Mug,5901234123457,,", 3, "item_id", "item_id i-1 is already on row 2"),
    ("duplicate sku", "i-2,S-1,Mug,5901234123457,,", 3, "sku", "sku S-1 is already on row 2"),
    ("duplicate gtin", "i-2,S-2,Mug,04006381333931,,", 3, "gtins", "gtin 04006381333931 is already on row 2"),
    ("unknown home location", "i-2,S-2,Mug,5901234123457,Z-09-09-9,", 3, "home_location",
     "home_location Z-09-09-9 is not a location of this store"),
    ("missing description", "i-2,S-2,,5901234123457,,", 3, "description", "description is missing"),
    ("pack size not a number", "i-2,S-2,Mug,5901234123457,,15901234123454=six", 3, "pack_sizes",
     "pack_sizes qty 'six' is not a whole number"),
    ("pack size zero", "i-2,S-2,Mug,5901234123457,,15901234123454=0", 3, "pack_sizes", "must be between 1"),
    ("pack without =", "i-2,S-2,Mug,5901234123457,,15901234123454", 3, "pack_sizes", "must be written GTIN=QTY"),
    ("formula", "i-2,S-2,=cmd|' /C calc'!A0,5901234123457,,", 3, "description", "run as a formula"),
    ("control characters", "i-2,S-2,Mug\x1b[31m red,5901234123457,,", 3, "description", "control or hidden"),
    ("bidi override", "i-2,S-2,Mug \u202egpj.exe,5901234123457,,", 3, "description", "control or hidden"),
    ("too long", f"i-2,S-2,{'x' * 501},5901234123457,,", 3, "description", "too long (501 characters"),
    ("id with a space", "i 2,S-2,Mug,5901234123457,,", 3, "item_id", "no spaces"),
    ("too many cells", "i-2,S-2,Mug,5901234123457,,,extra", 3, None, "has 7 cells but the header names 6"),
]


@pytest.mark.parametrize(("line", "row", "field", "message"), [case[1:] for case in BAD_ITEMS],
                         ids=[case[0] for case in BAD_ITEMS])
def test_a_bad_item_row_is_reported_and_nothing_is_written(
    engine: Engine, tmp_path: Path, line: str, row: int, field: str | None, message: str,
) -> None:
    path = tmp_path / "items.csv"
    path.write_text(ITEM_HEADER + GOOD_ITEM + line + "\n")
    before = _counts(engine)
    report = import_file(engine, ImportKind.ITEMS, path, store_id=STORE)
    assert not report.ok and not report.written and report.data is None
    matching = [e for e in report.errors if e.row == row and message in str(e)]
    assert matching, report.describe()
    assert matching[0].field == field
    assert _counts(engine) == before


def test_a_gtin_or_sku_of_another_item_in_the_store_is_a_clash(sample_store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(ITEM_HEADER + "i-9,SKU-1001,Mug,5901234123464,,\n")
    report = import_file(sample_store, ImportKind.ITEMS, path, store_id=STORE)
    assert [str(e) for e in report.errors] == [
        "row 2: sku SKU-1001 already belongs to item itm-1001 in this store",
        "row 2: gtin 05901234123464 already belongs to item itm-1002 in this store",
    ]


LOCATION_HEADER = "code,kind,capacity,level\n"
BAD_LOCATIONS = [
    ("unknown kind", "A-01-01-2,rack,10,", "kind 'rack' must be one of"),
    ("duplicate code", "A-01-01-1,shelf,10,", "code A-01-01-1 is already on row 2"),
    ("negative capacity", "A-01-01-2,shelf,-1,", "capacity -1 must be between 0"),
    ("capacity in words", "A-01-01-2,shelf,lots,", "capacity 'lots' is not a whole number"),
    ("decimal level", "A-01-01-2,shelf,10,1.5", "level '1.5' is not a whole number"),
    ("missing code", ",shelf,10,", "code is missing"),
    ("missing kind", "A-01-01-2,,10,", "kind is missing"),
]


@pytest.mark.parametrize(("line", "message"), [case[1:] for case in BAD_LOCATIONS],
                         ids=[case[0] for case in BAD_LOCATIONS])
def test_a_bad_location_row_is_reported_and_nothing_is_written(
    engine: Engine, tmp_path: Path, line: str, message: str,
) -> None:
    path = tmp_path / "locations.csv"
    path.write_text(LOCATION_HEADER + "A-01-01-1,shelf,10,\n" + line + "\n")
    report = import_file(engine, ImportKind.LOCATIONS, path, store_id=STORE)
    assert not report.written
    assert any(e.row == 3 and message in str(e) for e in report.errors), report.describe()
    assert read_catalogue(engine, STORE).location_ids == frozenset()


PO_HEADER = "po_number,supplier,expected_at,item_id,sku,gtin,qty,asn_number,asn_sscc,asn_qty\n"
BAD_PO_LINES = [
    ("unknown item", "PO-1,Alder,,itm-404,,,5,,,", "item_id itm-404 is not an item of this store"),
    ("unknown gtin on a PO line", "PO-1,Alder,,,,4006381333931,5,,,", "gtin 04006381333931 is not an item"),
    ("items that disagree", "PO-1,Alder,,itm-1001,SKU-1002,,5,,,", "names two different items"),
    ("no item at all", "PO-1,Alder,,,,,5,,,", "the line names no item"),
    ("qty not a number", "PO-1,Alder,,itm-1001,,,five,,,", "qty 'five' is not a whole number"),
    ("qty missing", "PO-1,Alder,,itm-1001,,,,,,", "qty is missing"),
    ("bad date", "PO-1,Alder,2025-02-30,itm-1001,,,5,,,", "expected_at '2025-02-30' is not a date"),
    ("bad sscc", "PO-1,Alder,,itm-1001,,,5,ASN-1,340123450000000001,", "asn_sscc 340123450000000001 has a wrong"),
    ("asn qty without asn", "PO-1,Alder,,itm-1001,,,5,,,3", "has no asn_number"),
    ("supplier missing", "PO-1,,,itm-1001,,,5,,,", "supplier is missing"),
    ("po already in the store", "PO-4500100,Alder,,itm-1001,,,5,,,", "PO-4500100 is already in this store"),
]


@pytest.mark.parametrize(("line", "message"), [case[1:] for case in BAD_PO_LINES],
                         ids=[case[0] for case in BAD_PO_LINES])
def test_a_bad_po_row_is_reported_and_nothing_is_written(
    sample_store: Engine, tmp_path: Path, line: str, message: str,
) -> None:
    assert import_file(sample_store, ImportKind.PURCHASE_ORDERS, SAMPLES / "purchase_orders.json",
                       store_id=STORE).written
    before = _counts(sample_store)
    path = tmp_path / "pos.csv"
    path.write_text(PO_HEADER + "PO-9,Birch,,itm-1003,,,2,,,\n" + line + "\n")
    report = import_file(sample_store, ImportKind.PURCHASE_ORDERS, path, store_id=STORE)
    assert not report.written
    assert any(e.row == 3 and message in str(e) for e in report.errors), report.describe()
    assert _counts(sample_store) == before


def test_an_item_twice_on_one_po_is_refused() -> None:
    catalogue = Catalogue.from_master_data(generate_store(items=100, locations=40))
    text = PO_HEADER + "PO-1,Alder,,item-00001,,,5,,,\nPO-1,,,item-00001,,,3,,,\n"
    report = parse(ImportKind.PURCHASE_ORDERS, text, "csv", store_id=STORE, catalogue=catalogue)
    assert [str(e) for e in report.errors] == [
        "row 3: item-00001 is on PO-1 twice (line 1 and line 2); put the whole qty on one line"]


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("items_bad.csv", ImportKind.ITEMS, {2, 3, 4, 5, 6, 7, 8, 9, 10}),
    ("locations_bad.csv", ImportKind.LOCATIONS, {3, 4, 5, 6, 7, 8}),
    ("purchase_orders_bad.json", ImportKind.PURCHASE_ORDERS, {1, 2, 3, 4, 6}),
])
def test_the_bad_sample_files_are_refused_row_by_row(
    sample_store: Engine, name: str, kind: ImportKind, expected: set[int],
) -> None:
    import_file(sample_store, ImportKind.PURCHASE_ORDERS, SAMPLES / "purchase_orders.json", store_id=STORE)
    before = _counts(sample_store)
    report = import_file(sample_store, kind, SAMPLES / name, store_id=STORE)
    assert not report.written
    assert {e.row for e in report.errors} == expected, report.describe()
    assert _counts(sample_store) == before


# -- whole-file problems -------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "fmt", "message"), [
    (b"", "csv", "the file is empty"),
    (b"item_id,sku,description\n", "csv", "missing column 'gtins'"),
    (b"item_id,sku,description,gtins,descripton\n", "csv", "unknown column 'descripton'"),
    (b"item_id,sku,sku,description,gtins\n", "csv", "column 'sku' appears more than once"),
    (b"item_id,sku,description,gtins\n", "csv", "the file has no rows to import"),
    (b"\xff\xfeitem_id", "csv", "not UTF-8"),
    (b"item_id\x00,sku", "csv", "NUL bytes"),
    (b'item_id,sku,description,gtins\n"i-1,S-1', "csv", "not valid CSV"),
    (b"[{", "json", "not valid JSON (line 1, column 3"),
    (b'{"things": []}', "json", "must be a list of objects"),
    (b"[" * 100_000 + b"]" * 100_000, "json", "not JSON we can read"),
    (b"[1e999999]", "json", "is not an object"),
])
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(content: bytes, fmt: str, message: str) -> None:
    report = parse(ImportKind.ITEMS, content, fmt, store_id=STORE)  # type: ignore[arg-type]
    assert not report.ok and report.data is None
    assert any(message in str(e) for e in report.errors), report.describe()


def test_semicolon_separated_csv_with_spreadsheet_headers_and_a_bom_is_read() -> None:
    text = "\ufeffItem ID;SKU;Description;GTINs\ni-1;S-1;Blue mug;4006381333931\n"
    report = parse(ImportKind.ITEMS, text.encode(), "csv", store_id=STORE)
    assert report.ok and report.data is not None
    assert report.data.items[0].gtins == ["04006381333931"]


def test_an_unknown_extension_or_a_missing_file_is_reported(engine: Engine, tmp_path: Path) -> None:
    odd = tmp_path / "items.xlsx"
    odd.write_bytes(b"PK")
    assert "use --format" in str(import_file(engine, ImportKind.ITEMS, odd, store_id=STORE).errors[0])
    gone = import_file(engine, ImportKind.ITEMS, tmp_path / "none.csv", store_id=STORE)
    assert "cannot read the file" in str(gone.errors[0])


# -- hostile input never escapes the report ------------------------------------------------------

KINDS = st.sampled_from(list(ImportKind))
FORMATS = st.sampled_from(["csv", "json"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(["item_id", "sku", "description", "gtins", "gtin", "qty", "pack_sizes", "lines",
                               "asn", "number", "supplier", "code", "kind", "capacity", "home_location",
                               "expected_at", "sscc", "level"])
SHAPED_ROWS = st.lists(st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=8), max_size=4)
CATALOGUE = Catalogue.from_master_data(generate_store(items=100, locations=40))


@settings(max_examples=300, deadline=None)
@given(kind=KINDS, fmt=FORMATS, content=st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_produce_a_report(kind: ImportKind, fmt: str, content: bytes) -> None:
    report = parse(kind, content, fmt, store_id=STORE, catalogue=CATALOGUE)  # type: ignore[arg-type]
    assert isinstance(report, ImportReport) and (report.ok == (report.data is not None))


@settings(max_examples=300, deadline=None)
@given(kind=KINDS, text=st.text(max_size=300))
def test_arbitrary_text_after_a_valid_header_only_ever_produces_a_report(kind: ImportKind, text: str) -> None:
    header = {ImportKind.ITEMS: ITEM_HEADER, ImportKind.LOCATIONS: LOCATION_HEADER,
              ImportKind.PURCHASE_ORDERS: PO_HEADER}[kind]
    report = parse(kind, header + text, "csv", store_id=STORE, catalogue=CATALOGUE)
    assert isinstance(report, ImportReport)
    assert all(str(e) for e in report.errors)


@settings(max_examples=150, deadline=None)
@given(kind=KINDS, rows=SHAPED_ROWS)
def test_arbitrary_json_objects_only_ever_produce_a_report(kind: ImportKind, rows: list[dict[str, object]]) -> None:
    report = parse(kind, json.dumps(rows), "json", store_id=STORE, catalogue=CATALOGUE)
    assert isinstance(report, ImportReport)
    if report.ok:
        assert report.data is not None


# -- commands ------------------------------------------------------------------------------------


def _run(module: object, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.configure(parser)  # type: ignore[attr-defined]
    return int(module.run(parser.parse_args(argv)))  # type: ignore[attr-defined]


def test_the_import_command_exits_0_when_imported_and_1_when_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    assert _run(import_data, ["locations", str(SAMPLES / "locations.csv"), "--database-url", url]) == 0
    assert "14 location(s)" in capsys.readouterr().out
    assert _run(import_data, ["items", str(SAMPLES / "items_bad.csv"), "--database-url", url]) == 1
    out = capsys.readouterr().out
    assert "refused, nothing was imported" in out
    assert "row 3: gtin 4006381333932 has a wrong check digit (it should end in 1)" in out
    assert _run(import_data, ["items", str(SAMPLES / "items.csv"), "--database-url", url, "--format", "csv"]) == 0


def test_seeding_loads_the_whole_store_and_seeding_again_changes_no_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    argv = ["--database-url", url, "--items", "400", "--locations", "120", "--store-id", "store-007"]
    assert _run(seed, argv) == 0
    out = capsys.readouterr().out
    assert "400 items, 120 locations" in out and "badge BADGE-1001  (u-assoc-1)" in out
    engine = create_engine_for(url)
    try:
        first = _counts(engine)
        catalogue = read_catalogue(engine, "store-007")
        assert len(catalogue.item_ids) == 400 and len(catalogue.location_ids) == 120
        assert len(catalogue.po_ids) == 20 and len(catalogue.asn_ids) == 20
        assert _run(seed, argv) == 0
        again = _counts(engine)
        assert {k: v for k, v in again.items() if k != "changes"} == {k: v for k, v in first.items() if k != "changes"}
    finally:
        engine.dispose()


def test_the_full_default_store_loads_through_the_loader(engine: Engine) -> None:
    data = generate_store()
    report = load_master_data(engine, data)
    assert (report.items, report.locations, report.orders, report.tasks) == (5000, 1500, 50, len(data.tasks))
    assert report.opening_balances == len(data.opening_balances)
    catalogue = read_catalogue(engine, STORE)
    assert len(catalogue.gtin_items) == sum(len(i.gtins) for i in data.items)


def test_a_po_file_imports_against_the_seeded_store(engine: Engine, tmp_path: Path) -> None:
    data = generate_store(items=200, locations=60)
    load_master_data(engine, data)
    item = data.items[0]
    path = tmp_path / "po.json"
    path.write_text(json.dumps([{"number": "PO-777", "supplier": "Alder Foods Ltd",
                                 "lines": [{"sku": item.sku, "qty": 3}],
                                 "asn": {"number": "ASN-777"}}]))
    report = import_file(engine, ImportKind.PURCHASE_ORDERS, path, store_id=STORE)
    assert report.written, report.describe()
    assert "po-PO-777" in read_catalogue(engine, STORE).po_ids


def test_a_seed_store_id_with_spaces_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(seed, ["--database-url", f"sqlite:///{tmp_path / 's.db'}", "--store-id", "my store"]) == 2
    assert "may only use" in capsys.readouterr().out


def test_seeding_with_today_dates_the_store_documents_from_this_morning(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    argv = ["--database-url", url, "--items", "300", "--locations", "100", "--today"]
    assert _run(seed, argv) == 0
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            created = {r[0][:10] for r in conn.exec_driver_sql("SELECT created_at FROM tasks")}
    finally:
        engine.dispose()
    assert created == {dt.datetime.now(dt.UTC).date().isoformat()}
