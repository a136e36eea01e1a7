"""`backroom labels` writes sheets, PNGs and ZPL for the seeded store."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from app.cli import main


def test_backroom_labels_writes_sheets_pngs_and_zpl_that_decode(tmp_path: Path) -> None:
    out = tmp_path / "labels"
    assert main(["labels", "--out", str(out), "--locations", "12", "--items", "4"]) == 0
    assert (out / "locations.html").read_text().count("<svg") == 12
    zpl = (out / "labels.zpl").read_text()
    assert zpl.count("^XA") == 12 + (out / "items.html").read_text().count("<svg")
    pngs = sorted((out / "png").rglob("*.png"))
    assert len(pngs) >= 16
    for png in pngs:
        img = cv2.imdecode(np.frombuffer(png.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
        assert len(zxingcpp.read_barcodes(img)) == 1, png.name
