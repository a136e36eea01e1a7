"""What a label carries: symbology, the data to encode, the text printed under it, a caption."""

from __future__ import annotations

from dataclasses import dataclass

from biip.gs1_messages import GS1Message

from device.errors import LabelError, ScanError
from device.gs1 import normalise_gtin
from device.locations import parse_location

__all__ = ["FNC1", "Label", "gs1_label", "item_label", "location_label"]

FNC1 = "\xf1"  # python-barcode's FNC1 character in GS1-128 data


@dataclass(frozen=True, slots=True)
class Label:
    """One label: `symbology` is python-barcode's name (code128, ean13, ean8, gs1_128)."""

    symbology: str
    data: str  # what python-barcode encodes (for gs1_128: element strings with FNC1 as \xf1)
    text: str  # the human-readable line under the bars
    caption: str = ""  # a larger line above (location code, item name)
    expected: str = ""  # what a scanner reports (for the decode-back test): data with GS for FNC1


def location_label(code: str, caption: str | None = None) -> Label:
    """A location label: Code 128 carrying the location id (`loc-A-03-02-1`)."""
    try:
        loc = parse_location(code)
    except ScanError as exc:
        raise LabelError(f"{code!r} is not a location code of this store.") from exc
    return Label("code128", loc.location_id, loc.location_id, caption if caption is not None else loc.code,
                 loc.location_id)


def item_label(gtin: str, caption: str = "") -> Label:
    """An item/shelf label for a GTIN: EAN-13 when it fits in 13 digits, else GS1-128 with AI 01."""
    try:
        gtin14 = normalise_gtin(gtin)
    except ScanError as exc:
        raise LabelError(f"{gtin!r} is not a valid GTIN.") from exc
    if gtin14.startswith("000000"):
        return Label("ean8", gtin14[6:13], gtin14[6:], caption, gtin14[6:])
    if gtin14.startswith("0"):
        return Label("ean13", gtin14[1:13], gtin14[1:], caption, gtin14[1:])
    return gs1_label(f"(01){gtin14}", caption)


def gs1_label(element_strings: str, caption: str = "") -> Label:
    """A GS1-128 label from "(01)…(10)…" text or a raw element string (GS between fields)."""
    try:
        message = (GS1Message.parse_hri(element_strings) if element_strings.startswith("(")
                   else GS1Message.parse(element_strings))
    except Exception as exc:  # biip ParseError and kin
        raise LabelError("That GS1 data is not valid.", detail=str(exc)[:120]) from exc
    parts: list[str] = []
    scanned: list[str] = []
    elements = message.element_strings
    for i, e in enumerate(elements):
        if e.gtin_error or e.sscc_error or e.gln_error:
            raise LabelError("That GS1 data has a wrong check digit.", detail=str(e.gtin_error or e.sscc_error or e.gln_error))
        chunk = f"{e.ai.ai}{e.value}"
        last = i == len(elements) - 1
        # FNC1 starts the symbol, and ends every variable-length field that is not the last one.
        parts.append(chunk + (FNC1 if e.ai.separator_required and not last else ""))
        scanned.append(chunk + ("\x1d" if e.ai.separator_required and not last else ""))
    hri = "".join(f"({e.ai.ai}){e.value}" for e in elements)
    # python-barcode's gs1_128 puts the leading FNC1 in itself.
    return Label("gs1_128", "".join(parts), hri, caption, "".join(scanned))
