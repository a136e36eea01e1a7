"""The two decoders behind one result type: zxing-cpp first, pyzbar where zxing finds nothing.

Both are optional at import time: mobile builds have pyzbar (and its zbar library) but no
zxing-cpp, and a desktop without libzbar still has zxing-cpp. `HAVE_ZXING` / `HAVE_ZBAR` say
which are present. Both decoders are restricted to the store's symbologies (`STORE_SYMBOLOGIES`),
which is faster and leaves fewer chances of a false read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from device.events import AIM_IDS, Symbology

__all__ = ["HAVE_ZBAR", "HAVE_ZXING", "STORE_SYMBOLOGIES", "Decoded", "read_primary", "read_zbar", "read_zxing"]

Point = tuple[float, float]
# UPC-E is left out: none of the store's GTINs uses it, and a partial scan of an EAN-13 reads as a
# plausible UPC-E with a valid check digit (seen in the bench corpus on tilted and noisy frames).
STORE_SYMBOLOGIES = ("EAN13", "EAN8", "UPCA", "Code128", "DataMatrix", "QRCode")

zxingcpp: Any
try:
    import zxingcpp

    HAVE_ZXING = True
    _FORMATS = tuple(getattr(zxingcpp.BarcodeFormat, name) for name in STORE_SYMBOLOGIES)
except ImportError:  # mobile builds: no zxing-cpp recipe
    zxingcpp = None
    HAVE_ZXING = False
    _FORMATS = ()

pyzbar: Any
try:
    from pyzbar import pyzbar  # type: ignore[no-redef]
    from pyzbar.pyzbar import ZBarSymbol

    HAVE_ZBAR = True
    _ZBAR_SYMBOLS = [ZBarSymbol.EAN13, ZBarSymbol.EAN8, ZBarSymbol.UPCA, ZBarSymbol.CODE128,
                     ZBarSymbol.QRCODE]
except (ImportError, OSError):  # no libzbar on this machine
    pyzbar = None
    HAVE_ZBAR = False
    _ZBAR_SYMBOLS = []

_ZXING_SYMBOLOGY = {
    "EAN13": Symbology.EAN13, "EAN8": Symbology.EAN8, "UPCA": Symbology.UPCA, "UPCE": Symbology.UPCE,
    "Code128": Symbology.CODE128, "DataMatrix": Symbology.DATAMATRIX, "QRCode": Symbology.QR,
}
_ZBAR_SYMBOLOGY = {
    "EAN13": Symbology.EAN13, "EAN8": Symbology.EAN8, "UPCA": Symbology.UPCA, "UPCE": Symbology.UPCE,
    "CODE128": Symbology.CODE128, "QRCODE": Symbology.QR,
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """One code found in a frame: symbology, text (GS1 separators as `\\x1d`), bytes, where it is."""

    symbology: Symbology
    text: str
    raw: bytes
    aim: str | None
    decoder: str  # "zxing" or "zbar"
    position: tuple[Point, ...] | None = None

    def moved(self, back: npt.NDArray[np.float64] | None) -> Decoded:
        """The same result with its position mapped by a 2x3 affine matrix (crop -> frame)."""
        if back is None or self.position is None:
            return self
        pts = np.array(self.position, dtype=np.float64).reshape(-1, 1, 2)
        mapped = cv2.transform(pts, back).reshape(-1, 2)
        return replace(self, position=tuple((float(x), float(y)) for x, y in mapped))


def _zxing_symbology(fmt_name: str, aim: str) -> Symbology:
    if aim in AIM_IDS and AIM_IDS[aim].is_gs1:
        return AIM_IDS[aim]
    return _ZXING_SYMBOLOGY.get(fmt_name, Symbology.UNKNOWN)


def read_zxing(gray: npt.NDArray[np.uint8], *, try_rotate: bool = False) -> list[Decoded]:
    """zxing-cpp on a grayscale image, store symbologies only, no inverted pass."""
    if not HAVE_ZXING:
        return []
    results = zxingcpp.read_barcodes(gray, formats=_FORMATS, try_rotate=try_rotate, try_invert=False,
                                     text_mode=zxingcpp.TextMode.Plain)
    out: list[Decoded] = []
    for r in results:
        if not r.valid:
            continue
        raw = bytes(r.bytes)
        aim = str(r.symbology_identifier) or None
        p = r.position
        pos = tuple((float(q.x), float(q.y)) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        symbology = _zxing_symbology(str(r.format.name), aim or "")
        out.append(Decoded(symbology, r.text, raw, aim, "zxing", pos))
    return out


def read_zbar(gray: npt.NDArray[np.uint8]) -> list[Decoded]:
    """pyzbar on a grayscale image, store symbologies only (zbar has no DataMatrix)."""
    if not HAVE_ZBAR:
        return []
    out: list[Decoded] = []
    for r in pyzbar.decode(gray, symbols=_ZBAR_SYMBOLS):
        raw = bytes(r.data)
        text = raw.decode("latin-1")
        symbology = _ZBAR_SYMBOLOGY.get(r.type, Symbology.UNKNOWN)
        if symbology is Symbology.UPCA and len(text) == 13 and text.startswith("0"):
            text = text[1:]
        if symbology is Symbology.CODE128 and text[:2].isdigit():
            # zbar does not report the GS1 flag: digits first may be GS1-128, so leave the
            # symbology open and let the interpreter judge the element string.
            symbology = Symbology.UNKNOWN
        pos = tuple((float(q.x), float(q.y)) for q in r.polygon) or None
        out.append(Decoded(symbology, text, raw, None, "zbar", pos))
    return out


def read_primary(gray: npt.NDArray[np.uint8]) -> list[Decoded]:
    """The whole-frame pass: zxing-cpp, or pyzbar on a half-size frame where zxing is missing."""
    if HAVE_ZXING:
        return read_zxing(gray)
    if not HAVE_ZBAR:
        return []
    h, w = gray.shape
    if w > 800:  # zbar on a full 720p frame costs 30-130 ms; half size keeps it near the budget
        small = np.asarray(cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA), dtype=np.uint8)
        back = np.array([[2.0, 0, 0], [0, 2.0, 0]])
        return [d.moved(back) for d in read_zbar(small)]
    return read_zbar(gray)


def dedupe(found: Sequence[Decoded]) -> list[Decoded]:
    """One result per (symbology, text), first kept."""
    seen: set[tuple[Symbology, str]] = set()
    out: list[Decoded] = []
    for d in found:
        if (d.symbology, d.text) not in seen:
            seen.add((d.symbology, d.text))
            out.append(d)
    return out
