"""What a scan means: the typed results of `interpret`, and the check that a step got the right kind."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from device.errors import WrongKindError
from device.events import Symbology

__all__ = [
    "AssetScan",
    "GlnScan",
    "Interpretation",
    "ItemScan",
    "LocationScan",
    "ScanKind",
    "SsccScan",
    "require",
]


class ScanKind(enum.StrEnum):
    """The kinds of thing a scan can name."""

    ITEM = "item"
    CONTAINER = "container"  # a logistic unit: pallet or case with an SSCC
    LOCATION = "location"  # one of the store's location labels
    GLN = "gln"  # a GS1 party or place (AI 414, SGLN tag)
    ASSET = "asset"  # a returnable asset (GRAI)


@dataclass(frozen=True, slots=True)
class ItemScan:
    """A trade item: its GTIN-14 (check digit verified) and what else the code carried."""

    gtin: str
    lot: str | None = None
    serial: str | None = None
    expiry: dt.date | None = None  # AI 17
    best_before: dt.date | None = None  # AI 15
    production_date: dt.date | None = None  # AI 11
    count: int | None = None  # AI 30, a variable count of items
    epc: str | None = None  # the EPC URI when read from an RFID tag
    symbology: Symbology = Symbology.UNKNOWN
    kind: ScanKind = ScanKind.ITEM


@dataclass(frozen=True, slots=True)
class SsccScan:
    """A logistic unit (pallet, case) by its SSCC, with the content it declares (AI 02 + 37)."""

    sscc: str
    content_gtin: str | None = None  # AI 02
    count: int | None = None  # AI 37, count of trade items contained
    lot: str | None = None
    expiry: dt.date | None = None
    epc: str | None = None
    symbology: Symbology = Symbology.UNKNOWN
    kind: ScanKind = ScanKind.CONTAINER


@dataclass(frozen=True, slots=True)
class LocationScan:
    """One of the store's location labels (or a location code typed by hand)."""

    code: str
    location_id: str
    zone: str
    symbology: Symbology = Symbology.UNKNOWN
    kind: ScanKind = ScanKind.LOCATION


@dataclass(frozen=True, slots=True)
class GlnScan:
    """A GS1 Global Location Number (AI 414, or an SGLN tag), with its extension when present."""

    gln: str
    extension: str | None = None
    epc: str | None = None
    symbology: Symbology = Symbology.UNKNOWN
    kind: ScanKind = ScanKind.GLN


@dataclass(frozen=True, slots=True)
class AssetScan:
    """A returnable asset (GRAI: crate, roll cage, tote)."""

    grai: str
    epc: str | None = None
    symbology: Symbology = Symbology.UNKNOWN
    kind: ScanKind = ScanKind.ASSET


Interpretation = ItemScan | SsccScan | LocationScan | GlnScan | AssetScan

_WHAT: dict[ScanKind, str] = {
    ScanKind.ITEM: "a product barcode",
    ScanKind.CONTAINER: "a pallet or case label (SSCC)",
    ScanKind.LOCATION: "a location label",
    ScanKind.GLN: "a GS1 location number (GLN), not one of our location labels",
    ScanKind.ASSET: "a returnable asset tag (crate, cage, tote)",
}
_ASK: dict[ScanKind, str] = {
    ScanKind.ITEM: "Scan the product's barcode",
    ScanKind.CONTAINER: "Scan the pallet or case label (SSCC)",
    ScanKind.LOCATION: "Scan the location label on the shelf",
    ScanKind.GLN: "Scan the GLN label",
    ScanKind.ASSET: "Scan the asset tag",
}


def _describe(scan: Interpretation) -> str:
    what = _WHAT[scan.kind]
    if isinstance(scan, LocationScan):
        return f"{what} ({scan.code})"
    return what


def require(scan: Interpretation, *wanted: ScanKind) -> Interpretation:
    """Return the scan if it is one of the wanted kinds, else raise a `WrongKindError` saying so."""
    if scan.kind in wanted:
        return scan
    asks = [_ASK[k] for k in wanted] or ["Scan what this step asks for"]
    ask = asks[0] if len(asks) == 1 else ", or ".join([asks[0]] + [a[0].lower() + a[1:] for a in asks[1:]])
    raise WrongKindError(f"That is {_describe(scan)}. {ask}.", detail=f"got {scan.kind}, wanted {[str(k) for k in wanted]}")
