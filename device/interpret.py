"""`interpret`: from any scan (an event, or text typed by hand) to what it means for the store."""

from __future__ import annotations

import unicodedata

from device.epc import decode_epc
from device.errors import BadLocationLabelError, NotGs1Error, UnreadableScanError
from device.events import AIM_IDS, GS, ScanEvent, SourceKind, Symbology, split_aim
from device.gs1 import GTIN_LENGTHS, normalise_gtin, parse_digital_link, parse_element_string, parse_hri
from device.interpretation import Interpretation, ItemScan, LocationScan
from device.locations import is_location_like, parse_location

__all__ = ["MAX_SCAN_LENGTH", "interpret"]

MAX_SCAN_LENGTH = 512  # longer than any GS1 symbol's data; anything past it is junk or an attack
_TRUSTED_SEPARATORS = (SourceKind.CAMERA, SourceKind.RFID, SourceKind.FAKE)


_HIDDEN_MESSAGE = ("That scan had hidden characters in it. Scan it again; if it keeps happening, "
                   "check the scanner's settings.")
_LOOKALIKE_MESSAGE = ("That code has a character that only looks like a plain letter or digit ({what}). "
                      "Scan the label again, or type the code with plain letters and digits.")


def _is_hidden(char: str) -> bool:
    """Control and format characters (C0 but the GS1 separator, DEL, C1, direction overrides, zero widths)."""
    code = ord(char)
    if code < 32:
        return char != GS
    if code < 0x7F:
        return False
    return code <= 0x9F or 0xD800 <= code <= 0xDFFF or unicodedata.category(char) in ("Cf", "Cc", "Co", "Cn", "Zl", "Zp")


def _lookalike(value: str) -> str | None:
    """The first character that passes for a plain letter or digit and is not one (fullwidth
    digits, Cyrillic or Greek letters, the Kelvin sign, a long s), described; None when there is none.

    Every code the store reads (GTINs, GS1 element strings, Digital Link URIs, location labels) is
    plain ASCII, so such a character is a misread, a keyboard in another layout, or a forgery.
    """
    for char in value:
        if char.isascii():
            continue
        if any(unicodedata.combining(c) for c in unicodedata.normalize("NFKD", char)):
            continue  # an accented letter: it does not pass for a plain one
        folded = unicodedata.normalize("NFKC", char)
        if char.isalnum() or (folded.isascii() and folded.strip()):
            return f"{unicodedata.name(char, 'U+%04X' % ord(char)).lower()}"
    return None


def _clean(text: str) -> str:
    value = text.strip(" \t\r\n")
    if not value:
        raise UnreadableScanError(detail="empty")
    if len(value) > MAX_SCAN_LENGTH:
        raise UnreadableScanError(
            f"That scan is too long to be a barcode we use ({len(value)} characters). Scan the label again.",
            detail=f"{len(value)} characters",
        )
    if any(_is_hidden(c) for c in value):
        raise UnreadableScanError(_HIDDEN_MESSAGE, detail="control characters")
    if (what := _lookalike(value)) is not None:
        message = _LOOKALIKE_MESSAGE.format(what=what)
        folded = unicodedata.normalize("NFKC", value)
        if is_location_like(folded) or is_location_like(value):
            raise BadLocationLabelError(message, detail=f"look-alike {what}")
        raise NotGs1Error(message, detail=f"look-alike {what}")
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
