"""RFID: EPCs decoded through epcpy, bulk reads deduplicated by EPC, non-GS1 tags reported as such."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.dedupe import DoubleScanFilter, EpcWindow
from device.epc import decode_epc
from device.errors import EpcError, NotGs1TagError, ScanError
from device.events import ScanEvent, SourceKind, Symbology
from device.interpret import interpret
from device.interpretation import AssetScan, GlnScan, ItemScan, SsccScan
from device.scanners.rfid import ReplayReader, RfidScanner, SimulatedReader, load_burst, tag_reads_from_llrp
from tests.device.conftest import CAPTURES


@pytest.mark.parametrize(("hex_epc", "expected"), [
    ("3074257BF7194E4000001A85", ItemScan(gtin="80614141123458", serial="6789",
                                          epc="urn:epc:id:sgtin:0614141.812345.6789", symbology=Symbology.EPC)),
    ("3614257BF6B7A659B2C2BF100000000000000000000000000000",
     ItemScan(gtin="70614141123451", serial="32a/b", epc="urn:epc:id:sgtin:0614141.712345.32a%2Fb", symbology=Symbology.EPC)),
    ("3114257BF4499602D2000000", SsccScan(sscc="106141412345678908", epc="urn:epc:id:sscc:0614141.1234567890",
                                          symbology=Symbology.EPC)),
    ("3214257BF460720000000190", GlnScan(gln="0614141123452", extension="400", epc="urn:epc:id:sgln:0614141.12345.400",
                                         symbology=Symbology.EPC)),
    ("3314257BF40C0E4000000190", AssetScan(grai="00614141123452400", epc="urn:epc:id:grai:0614141.12345.400",
                                           symbology=Symbology.EPC)),
])
def test_gs1_epc_schemes_decode_to_typed_scans(hex_epc: str, expected: object) -> None:
    assert decode_epc(hex_epc) == expected
    assert decode_epc(hex_epc.lower()) == expected


def test_a_tag_that_is_not_gs1_is_reported_as_such() -> None:
    with pytest.raises(NotGs1TagError) as err:
        decode_epc("E2801160600002054B6A5E33")
    assert err.value.message == "This RFID tag is not a GS1 tag; it does not identify a product."


@pytest.mark.parametrize("bad", ["", "zz", "3074257BF7194E4000001A8", "3174257BF7194E4000001A85", "30" + "0" * 300])
def test_broken_epcs_are_epc_errors(bad: str) -> None:
    with pytest.raises(EpcError):
        decode_epc(bad)


def test_a_recorded_shelf_burst_yields_each_tag_once() -> None:
    reads = load_burst(CAPTURES / "rfid-shelf-burst.json")
    scanner = RfidScanner(ReplayReader(reads, per_poll=17), window_s=5.0)
    events: list[ScanEvent] = []
    for _ in range(len(reads) // 17 + 2):
        events += scanner.read()
    distinct = {e.text for e in events}
    assert len(events) == len(distinct) == 8 and scanner.rejected == 1
    meanings = []
    for e in events:
        try:
            meanings.append(type(interpret(e)).__name__)
        except NotGs1TagError:
            meanings.append("not GS1")
    assert sorted(meanings) == sorted(["ItemScan"] * 4 + ["SsccScan", "GlnScan", "AssetScan", "not GS1"])


def test_a_tag_seen_again_after_the_window_is_reported_again() -> None:
    reader = SimulatedReader(["3074257BF7194E4000001A85"], repeats=5, step=0.5)
    scanner = RfidScanner(reader, window_s=1.0)
    assert len(scanner.read()) == 1  # five sightings 0.5 s apart: the window keeps refreshing
    reader.t += 3.0
    assert len(scanner.read()) == 1


def test_sllurp_tag_reports_map_to_reads() -> None:
    reports = [{"EPC": b"3074257bf7194e4000001a85", "AntennaID": 2, "PeakRSSI": -52, "LastSeenTimestampUTC": 1_700_000_000_000_000},
               {"EPC-96": b"3114257bf4499602d2000000", "AntennaID": 1}, {"AntennaID": 1}]
    reads = tag_reads_from_llrp(reports)
    assert [(r.epc.upper(), r.antenna) for r in reads] == [("3074257BF7194E4000001A85", 2), ("3114257BF4499602D2000000", 1)]
    assert reads[0].t == 1_700_000_000.0 and reads[0].rssi == -52.0


def _event(source: str, text: str, at: float) -> ScanEvent:
    return ScanEvent(source, SourceKind.WEDGE, Symbology.EAN13, b"", text,
                     at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=at))


def test_a_double_scan_within_the_window_is_suppressed_per_source() -> None:
    f = DoubleScanFilter(window_s=1.0)
    events = [_event("wedge", "4006381333931", 0.0), _event("wedge", "4006381333931", 0.3),
              _event("camera", "4006381333931", 0.35), _event("wedge", "4006381333931", 2.0),
              _event("wedge", "12345670", 2.1), _event("wedge", "4006381333931", 2.2)]
    assert [(e.source, e.at.second, e.at.microsecond) for e in f.filter(events)] == [
        ("wedge", 0, 0), ("camera", 0, 350000), ("wedge", 2, 0), ("wedge", 2, 100000), ("wedge", 2, 200000)]


def test_the_window_is_configurable_per_source() -> None:
    f = DoubleScanFilter(window_s=1.0, per_source={"camera": 3.0})
    assert f.accept(_event("camera", "x", 0.0)) and not f.accept(_event("camera", "x", 2.5))
    assert f.accept(_event("wedge", "x", 0.0)) and f.accept(_event("wedge", "x", 2.5))


def test_epc_window_counts_each_epc_once() -> None:
    w = EpcWindow(window_s=2.0)
    assert [w.accept(e, t) for e, t in [("A1", 0), ("a1", 0.5), ("B2", 0.6), ("A1", 1.9), ("A1", 4.0)]] == [
        True, False, True, False, True]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=40), st.text(alphabet="0123456789ABCDEFabcdef", max_size=64)))
def test_any_epc_input_decodes_or_raises_an_epc_error(value: str | bytes) -> None:
    try:
        decode_epc(value)
    except ScanError as err:
        assert isinstance(err, EpcError) and err.message


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789ABCDEF", min_size=0, max_size=30), max_size=30))
def test_any_tag_population_reads_to_distinct_epc_events(tags: list[str]) -> None:
    scanner = RfidScanner(SimulatedReader(tags, repeats=3))
    events = scanner.read()
    assert len(events) == len({e.text for e in events})
    for e in events:
        try:
            interpret(e)
        except ScanError as err:
            assert err.message
