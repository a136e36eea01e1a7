"""What every reader yields: a `ScanEvent`, and the symbologies the store reads.

The table `AIM_IDS` maps AIM symbology identifiers (ISO/IEC 15424, the `]Xm` a scanner can send
before the data) to our `Symbology`; the GS1 ones (`]C1`, `]d2`, `]Q3`, `]e0`) tell that the data
is a GS1 element string.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

__all__ = ["AIM_IDS", "GS", "ScanEvent", "SourceKind", "Symbology", "split_aim", "utcnow"]

GS = "\x1d"  # the ASCII group separator that stands for FNC1 inside a GS1 element string


class SourceKind(enum.StrEnum):
    """Which kind of reader a scan came from."""

    CAMERA = "camera"
    WEDGE = "wedge"
    SERIAL = "serial"
    RFID = "rfid"
    MANUAL = "manual"  # typed by hand in a field
    FAKE = "fake"


class Symbology(enum.StrEnum):
    """The barcode symbologies (and RFID) a scan can come from."""

    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    UPCE = "upce"
    CODE128 = "code128"
    GS1_128 = "gs1-128"
    DATAMATRIX = "datamatrix"
    GS1_DATAMATRIX = "gs1-datamatrix"
    QR = "qr"
    GS1_QR = "gs1-qr"
    GS1_DATABAR = "gs1-databar"
    ITF = "itf"
    EPC = "epc"  # an RFID tag's EPC memory
    UNKNOWN = "unknown"  # typed, or a scanner that sent no symbology identifier

    @property
    def is_gs1(self) -> bool:
        """True for the symbologies whose data is a GS1 element string."""
        return self in _GS1_SYMBOLOGIES

    @property
    def is_ean_upc(self) -> bool:
        """True for EAN/UPC, whose data is a bare GTIN."""
        return self in (Symbology.EAN13, Symbology.EAN8, Symbology.UPCA, Symbology.UPCE)


_GS1_SYMBOLOGIES = frozenset({Symbology.GS1_128, Symbology.GS1_DATAMATRIX, Symbology.GS1_QR, Symbology.GS1_DATABAR})

AIM_IDS: dict[str, Symbology] = {
    "]E0": Symbology.EAN13,  # also UPC-A, sent as 13 digits with a leading 0
    "]E4": Symbology.EAN8,
    "]E3": Symbology.EAN13,  # EAN-13 with add-on
    "]C0": Symbology.CODE128,
    "]C1": Symbology.GS1_128,
    "]C2": Symbology.CODE128,
    "]d1": Symbology.DATAMATRIX,
    "]d2": Symbology.GS1_DATAMATRIX,
    "]Q1": Symbology.QR,
    "]Q3": Symbology.GS1_QR,
    "]e0": Symbology.GS1_DATABAR,
    "]I0": Symbology.ITF,
    "]I1": Symbology.ITF,
}


def split_aim(text: str) -> tuple[str | None, str]:
    """Split a leading AIM identifier (`]C1…`) from the data; (None, text) when there is none."""
    if len(text) >= 3 and text[0] == "]" and text[:3] in AIM_IDS:
        return text[:3], text[3:]
    return None, text


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class ScanEvent:
    """One scan from any reader: where it came from, what symbology, the raw bytes and the text.

    `text` is the data without any AIM identifier, with GS1 separators as `\\x1d`; `aim` is the
    identifier the reader reported (or None); `source` names the reader ("camera-0", "wedge",
    "serial:/dev/ttyACM0", "rfid:dock-1").
    """

    source: str
    source_kind: SourceKind
    symbology: Symbology
    raw: bytes
    text: str
    at: dt.datetime = field(default_factory=utcnow)
    aim: str | None = None

    @property
    def value(self) -> str:
        """The data with its AIM identifier in front when there is one (what biip wants)."""
        return f"{self.aim}{self.text}" if self.aim else self.text
