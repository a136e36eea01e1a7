"""Understanding a scan: GTINs, GS1 element strings, HRI text, Digital Links, locations, wrong kinds."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.errors import (BadLocationLabelError, CheckDigitError, MalformedGs1Error, MissingSeparatorError,
                           NotGs1Error, ScanError, UnreadableScanError, WrongKindError)
from device.events import GS, ScanEvent, SourceKind, Symbology
from device.interpret import interpret
from device.interpretation import GlnScan, ItemScan, LocationScan, ScanKind, SsccScan, require


@pytest.mark.parametrize(("typed", "gtin14"), [
    ("4006381333931", "04006381333931"),  # GTIN-13
    ("614141000012", "00614141000012"),  # GTIN-12 (UPC-A)
    ("12345670", "00000012345670"),  # GTIN-8
    ("10614141000019", "10614141000019"),  # GTIN-14, case of units
    (" 4006381333931\r\n", "04006381333931"),
])
def test_every_gtin_length_is_normalised_to_gtin14(typed: str, gtin14: str) -> None:
    scan = interpret(typed)
    assert isinstance(scan, ItemScan) and scan.gtin == gtin14


@pytest.mark.parametrize("bad", ["4006381333932", "614141000013", "12345679", "10614141000018", "]E04006381333932"])
def test_a_wrong_check_digit_is_refused_with_a_message(bad: str) -> None:
    with pytest.raises(CheckDigitError) as err:
        interpret(bad)
    assert "Check digit wrong" in err.value.message


def test_an_element_string_gives_gtin_lot_expiry_serial_and_count() -> None:
    scan = interpret(f"]C10109506000134352172512311{0}LOT-7{GS}21SER9{GS}3012".replace("1{0}", "10"))
    assert scan == ItemScan(gtin="09506000134352", lot="LOT-7", serial="SER9", expiry=dt.date(2025, 12, 31),
                            count=12, symbology=Symbology.GS1_128)


def test_best_before_and_production_dates_are_read() -> None:
    scan = interpret("]d201095060001343521525063011250101")
    assert isinstance(scan, ItemScan)
    assert (scan.best_before, scan.production_date) == (dt.date(2025, 6, 30), dt.date(2025, 1, 1))


def test_an_sscc_with_its_declared_content_is_a_container() -> None:
    scan = interpret(f"]C100106141412345678908020061414100001237{24}".replace("{24}", "24"))
    assert scan == SsccScan(sscc="106141412345678908", content_gtin="00614141000012", count=24,
                            symbology=Symbology.GS1_128)


def test_a_gln_with_extension_is_not_taken_for_a_store_location() -> None:
    scan = interpret(f"]C14140614141123452{GS}254SHELF4")
    assert scan == GlnScan(gln="0614141123452", extension="SHELF4", symbology=Symbology.GS1_128)


def test_hand_typed_hri_text_is_read() -> None:
    scan = interpret("(01)09506000134352(10)ABC123(21)XYZ789(17)261231")
    assert isinstance(scan, ItemScan)
    assert (scan.lot, scan.serial, scan.expiry) == ("ABC123", "XYZ789", dt.date(2026, 12, 31))


def test_a_digital_link_uri_is_read() -> None:
    scan = interpret("https://id.gs1.org/01/09506000134352/10/ABC/21/S1?17=270131")
    assert isinstance(scan, ItemScan)
    assert (scan.gtin, scan.lot, scan.serial, scan.expiry) == ("09506000134352", "ABC", "S1", dt.date(2027, 1, 31))


def test_a_lost_group_separator_is_refused_not_misparsed() -> None:
    # "(10)ABC123" then "(21)XYZ789" with the GS dropped: biip alone reads lot "ABC12321XYZ789".
    with pytest.raises(MissingSeparatorError) as err:
        interpret("]C1010950600013435210ABC12321XYZ789", source_kind=SourceKind.WEDGE)
    assert "separator" in err.value.message


def test_a_lost_separator_before_a_date_is_refused() -> None:
    with pytest.raises(MissingSeparatorError):
        interpret("010950600013435210ABC17261231")


def test_a_camera_read_keeps_its_separators_and_is_trusted() -> None:
    event = ScanEvent("camera-0", SourceKind.CAMERA, Symbology.GS1_128, b"", "010950600013435210ABC12321XYZ789", aim="]C1")
    scan = interpret(event)
    assert isinstance(scan, ItemScan) and scan.lot == "ABC12321XYZ789"


def test_the_same_string_with_its_separator_is_read_from_a_wedge() -> None:
    scan = interpret(f"]C1010950600013435210ABC123{GS}21XYZ789", source_kind=SourceKind.WEDGE)
    assert isinstance(scan, ItemScan) and (scan.lot, scan.serial) == ("ABC123", "XYZ789")


@pytest.mark.parametrize(("text", "error"), [
    ("", UnreadableScanError), ("   ", UnreadableScanError), ("]C1", UnreadableScanError),
    ("abc\x00def", UnreadableScanError), ("x" * 600, UnreadableScanError),
    ("hello", NotGs1Error), ("]C0ABC-123", BadLocationLabelError), ("]Q1just text", NotGs1Error),
    ("]C117201345", MalformedGs1Error), ("]C19912", NotGs1Error), ("1234567", NotGs1Error),
])
def test_malformed_input_becomes_a_typed_error(text: str, error: type[ScanError]) -> None:
    with pytest.raises(error) as err:
        interpret(text)
    assert err.value.message and not err.value.message.startswith("<")


@pytest.mark.parametrize(("text", "code"), [
    ("loc-A-03-02-1", "A-03-02-1"), ("LOC-br-02-05-3", "BR-02-05-3"), ("]C0loc-DOCK-2", "DOCK-2"),
    ("a-03-02-1", "A-03-02-1"), ("stg-12", "STG-12"), ("Dock-4", "DOCK-4"),
])
def test_location_labels_and_typed_codes_are_locations(text: str, code: str) -> None:
    scan = interpret(text)
    assert isinstance(scan, LocationScan)
    assert (scan.code, scan.location_id) == (code, "loc-" + code)


@pytest.mark.parametrize("text", ["loc-G-01-01-1", "loc-A-3-2-1", "DOCK-0", "loc-", "BR-02-05"])
def test_a_location_label_outside_the_scheme_is_refused(text: str) -> None:
    with pytest.raises(BadLocationLabelError):
        interpret(text)


def test_an_item_where_a_location_is_wanted_gets_a_specific_message() -> None:
    with pytest.raises(WrongKindError) as err:
        require(interpret("4006381333931"), ScanKind.LOCATION)
    assert err.value.message == "That is a product barcode. Scan the location label on the shelf."


def test_a_location_where_an_item_is_wanted_names_the_location() -> None:
    with pytest.raises(WrongKindError) as err:
        require(interpret("loc-A-03-02-1"), ScanKind.ITEM, ScanKind.CONTAINER)
    assert err.value.message == ("That is a location label (A-03-02-1). Scan the product's barcode, "
                                 "or scan the pallet or case label (SSCC).")


def test_the_right_kind_passes_through() -> None:
    scan = interpret("loc-A-03-02-1")
    assert require(scan, ScanKind.LOCATION) is scan


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_an_interpretation_or_a_scan_error(text: str) -> None:
    try:
        interpret(text)
    except ScanError as err:
        assert err.message


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["]C1", "]d2", "]Q3", "]e0", "]E0", "]C0", ""]),
       st.text(alphabet="0123456789ABCxyz-()/:\x1d", max_size=60))
def test_gs1_shaped_text_gives_an_interpretation_or_a_scan_error(aim: str, body: str) -> None:
    for kind in (SourceKind.WEDGE, SourceKind.CAMERA):
        try:
            interpret(ScanEvent("s", kind, Symbology.UNKNOWN, b"", aim + body))
        except ScanError as err:
            assert err.message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(list(Symbology)))
def test_arbitrary_bytes_as_an_event_give_an_interpretation_or_a_scan_error(raw: bytes, symbology: Symbology) -> None:
    event = ScanEvent("s", SourceKind.SERIAL, symbology, raw, raw.decode("latin-1"))
    try:
        interpret(event)
    except ScanError as err:
        assert err.message


def test_digits_of_other_scripts_are_not_a_location() -> None:
    with pytest.raises(BadLocationLabelError):
        interpret("loc-BR-00-0\u0660-1")
