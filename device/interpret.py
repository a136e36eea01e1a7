"""`interpret`: from any scan (an event, or text typed by hand) to what it means for the store."""

from __future__ import annotations

from device.epc import decode_epc
from device.errors import NotGs1Error, UnreadableScanError
from device.events import AIM_IDS, GS, ScanEvent, SourceKind, Symbology, split_aim
from device.gs1 import GTIN_LENGTHS, normalise_gtin, parse_digital_link, parse_element_string, parse_hri
from device.interpretation import Interpretation, ItemScan, LocationScan
from device.locations import is_location_like, parse_location

__all__ = ["MAX_SCAN_LENGTH", "interpret"]

MAX_SCAN_LENGTH = 512  # longer than any GS1 symbol's data; anything past it is junk or an attack
_TRUSTED_SEPARATORS = (SourceKind.CAMERA, SourceKind.RFID, SourceKind.FAKE)


def _clean(text: str) -> str:
    value = text.strip(" \t\r\n")
    if not value:
        raise UnreadableScanError(detail="empty")
    if len(value) > MAX_SCAN_LENGTH:
        raise UnreadableScanError(detail=f"{len(value)} characters")
    if any((ord(c) < 32 and c != GS) or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise UnreadableScanError(detail="control characters")
    return value


def interpret(scan: ScanEvent | str, *, source_kind: SourceKind = SourceKind.MANUAL) -> Interpretation:
    """What a scan names (item, case, location, GLN, asset); raises a `ScanError` otherwise.

    A plain string is taken as typed by hand (`source_kind`), with or without an AIM identifier.
    """
    if isinstance(scan, ScanEvent):
        symbology, aim, kind = scan.symbology, scan.aim, scan.source_kind
        if symbology is Symbology.EPC:
            return decode_epc(scan.text or scan.raw)
        text = scan.text
    else:
        symbology, aim, kind, text = Symbology.UNKNOWN, None, source_kind, scan
    if not isinstance(text, str):
        raise UnreadableScanError(detail="not text")
    value = _clean(text)
    if aim is None:
        aim, value = split_aim(value)
        if aim is not None:
            symbology = AIM_IDS[aim]
            value = _clean(value) if value.strip(" \t\r\n") else ""
    if not value:
        raise UnreadableScanError(detail="only a symbology identifier")
    return _interpret_value(value, symbology, trust_separators=kind in _TRUSTED_SEPARATORS)


def _interpret_value(value: str, symbology: Symbology, *, trust_separators: bool) -> Interpretation:
    if not symbology.is_gs1 and is_location_like(value):
        loc = parse_location(value)
        return LocationScan(code=loc.code, location_id=loc.location_id, zone=loc.zone, symbology=symbology)
    lowered = value[:8].lower()
    if lowered.startswith(("http://", "https://")):
        return parse_digital_link(value, symbology)
    if value.startswith("("):
        return parse_hri(value, symbology)
    if symbology.is_ean_upc:
        return _item(normalise_gtin(value, symbology), symbology)
    if symbology.is_gs1:
        return parse_element_string(value, symbology, trust_separators=trust_separators)
    digits = value.replace(" ", "")
    short_number = digits.isascii() and digits.isdigit() and len(digits) <= max(GTIN_LENGTHS)
    if symbology is Symbology.ITF or (short_number and symbology is Symbology.UNKNOWN):
        # Up to 14 digits can only be a GTIN (the shortest element strings worth a scan are longer).
        return _item(normalise_gtin(digits, symbology), symbology)
    if symbology is Symbology.UNKNOWN and value[:2].isascii() and value[:2].isdigit():
        # A scanner that sends no symbology identifier: digits that are not a bare GTIN can only
        # be a GS1 element string (GS1-128 or GS1 DataMatrix without its `]C1`/`]d2`).
        return parse_element_string(value, symbology, trust_separators=trust_separators)
    raise NotGs1Error(detail=f"{symbology}: {value[:30]!r}")


def _item(gtin: str, symbology: Symbology) -> Interpretation:
    return ItemScan(gtin=gtin, symbology=symbology)
