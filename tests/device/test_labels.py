"""Labels: every generated label decodes back to what it encodes (PNG, SVG), and ZPL carries it."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from device.errors import LabelError
from device.interpret import interpret
from device.interpretation import ItemScan, LocationScan
from device.labels import Label, gs1_label, item_label, location_label, render_png, render_sheet, render_svg, to_zpl

LABELS = [
    location_label("A-03-02-1"), location_label("BR-02-05-3"), location_label("DOCK-1"), location_label("stg-12"),
    item_label("04006381333931", "Halden blue mug"), item_label("00614141000012"), item_label("00000012345670"),
    item_label("10614141000019", "Case of 12"),
    gs1_label("(01)09506000134352(17)271231(10)ABC123(21)XYZ789"),
    gs1_label("(00)106141412345678908(02)00614141000012(37)24"),
]
IDS = [f"{label.symbology}-{label.expected}" for label in LABELS]


def _read(img: np.ndarray) -> list[tuple[str, str]]:
    return [(r.symbology_identifier, r.text) for r in zxingcpp.read_barcodes(img, text_mode=zxingcpp.TextMode.Plain)]


def _aim(label: Label) -> str:
    return {"code128": "]C0", "gs1_128": "]C1", "ean13": "]E0", "ean8": "]E4"}[label.symbology]


def _rasterise_svg(svg: str, px_per_mm: float = 3 / 0.33) -> np.ndarray:  # 3 px per module
    """python-barcode's SVG is white page + black rects in mm: draw the rects."""
    w = float(re.search(r'<svg[^>]*width="([\d.]+)mm"', svg).group(1))  # type: ignore[union-attr]
    h = float(re.search(r'<svg[^>]*height="([\d.]+)mm"', svg).group(1))  # type: ignore[union-attr]
    img = np.full((int(h * px_per_mm) + 1, int(w * px_per_mm) + 1), 255, dtype=np.uint8)
    for x, y, rw, rh in re.findall(r'<rect x="([\d.]+)mm" y="([\d.]+)mm" width="([\d.]+)mm" height="([\d.]+)mm" style="fill:black;"', svg):
        x0, y0 = round(float(x) * px_per_mm), round(float(y) * px_per_mm)
        img[y0:y0 + round(float(rh) * px_per_mm), x0:x0 + round(float(rw) * px_per_mm)] = 0
    return img


@pytest.mark.parametrize("label", LABELS, ids=IDS)
def test_every_png_label_decodes_back_to_its_data(label: Label) -> None:
    img = cv2.imdecode(np.frombuffer(render_png(label), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert _read(img) == [(_aim(label), label.expected)]


@pytest.mark.parametrize("label", LABELS, ids=IDS)
def test_every_svg_label_decodes_back_to_its_data(label: Label) -> None:
    assert _read(_rasterise_svg(render_svg(label))) == [(_aim(label), label.expected)]


@pytest.mark.parametrize("label", LABELS, ids=IDS)
def test_a_decoded_label_is_understood_as_what_it_labels(label: Label) -> None:
    [(aim, text)] = _read(cv2.imdecode(np.frombuffer(render_png(label), np.uint8), cv2.IMREAD_GRAYSCALE))
    scan = interpret(aim + text)
    if label.symbology == "code128":
        assert isinstance(scan, LocationScan) and scan.location_id == label.data
    else:
        assert scan.kind.value in ("item", "container")


def test_location_labels_carry_the_location_id_in_code_128() -> None:
    label = location_label("a-03-02-1")
    assert (label.symbology, label.data, label.caption) == ("code128", "loc-A-03-02-1", "A-03-02-1")


def test_gs1_128_is_built_from_the_raw_element_string_not_the_brackets() -> None:
    label = gs1_label("(01)09506000134352(10)ABC(17)271231")
    assert label.data == "0109506000134352" "10ABC\xf1" "17271231"
    assert "(" not in label.data and label.text == "(01)09506000134352(10)ABC(17)271231"


@pytest.mark.parametrize(("label", "fd"), [
    (location_label("A-03-02-1"), "^BCN,100,Y,N,N,A^FH^FDloc-A-03-02-1^FS"),
    (item_label("04006381333931"), "^BEN,100,Y,N^FD400638133393^FS"),
    (item_label("00000012345670"), "^B8N,100,Y,N^FD1234567^FS"),
    (gs1_label("(01)09506000134352(10)AB_C"), "^BCN,100,Y,N,N,D^FH^FD(01)09506000134352(10)AB_5FC^FS"),
])
def test_zpl_carries_the_data_in_the_right_barcode_command(label: Label, fd: str) -> None:
    zpl = to_zpl(label)
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ") and fd in zpl


def test_the_printable_sheet_holds_every_label_as_inline_svg() -> None:
    sheet = render_sheet(LABELS, title="Test <sheet>")
    assert sheet.count("<svg") == len(LABELS) and "<?xml" not in sheet and "Test &lt;sheet&gt;" in sheet


@pytest.mark.parametrize(("make", "arg"), [(location_label, "Z-99"), (item_label, "4006381333932"),
                                           (gs1_label, "(01)09506000134353"), (gs1_label, "nonsense")])
def test_bad_label_data_is_a_label_error(make: object, arg: str) -> None:
    with pytest.raises(LabelError):
        make(arg)  # type: ignore[operator]


@settings(max_examples=30, deadline=None)
@given(st.from_regex(r"\A(?:[A-F]|BR)-[0-9]{2}-[0-9]{2}-[1-6]\Z"))
def test_any_location_code_round_trips_through_a_label(code: str) -> None:
    label = location_label(code)
    img = cv2.imdecode(np.frombuffer(render_png(label, module_px=2), np.uint8), cv2.IMREAD_GRAYSCALE)
    [(aim, text)] = _read(img)
    scan = interpret(aim + text)
    assert isinstance(scan, LocationScan) and scan.code == code


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="0123456789", min_size=12, max_size=12),
       st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=10))
def test_any_gtin_and_lot_round_trip_through_a_gs1_128_label(payload: str, lot: str) -> None:
    from device.gs1 import gs1_check_digit

    gtin = "0" + payload + str(gs1_check_digit("0" + payload))
    label = gs1_label(f"(01){gtin}(10){lot}(21)S{lot}")
    img = cv2.imdecode(np.frombuffer(render_png(label, module_px=2), np.uint8), cv2.IMREAD_GRAYSCALE)
    [(aim, text)] = _read(img)
    assert interpret(aim + text) == ItemScan(gtin=gtin, lot=lot, serial="S" + lot, symbology=interpret(aim + text).symbology)
