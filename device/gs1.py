"""GS1 through biip: GTINs, element strings, "(01)…" text and Digital Link URIs to typed scans.

biip does the GS1 work (AI table, patterns, dates, check digits of keys inside element strings);
this module adds what a store needs on top: GTIN-8/12/13/14 normalised to GTIN-14, element strings
turned into `ItemScan` / `SsccScan` / `GlnScan` / `AssetScan`, and refusal of element strings
whose group separator was lost on the way (biip would silently misparse them: a lot `ABC123`
followed by serial `XYZ789` becomes the lot `ABC12321XYZ789`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.upc import Upc

from device.errors import CheckDigitError, MalformedGs1Error, MissingSeparatorError, NotGs1Error, ScanError
from device.events import GS, Symbology
from device.interpretation import AssetScan, GlnScan, Interpretation, ItemScan, SsccScan

__all__ = [
    "gs1_check_digit",
    "normalise_gtin",
    "parse_digital_link",
    "parse_element_string",
    "parse_hri",
]

GTIN_LENGTHS = (8, 12, 13, 14)


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of a digit string without its check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def normalise_gtin(digits: str, symbology: Symbology = Symbology.UNKNOWN) -> str:
    """A GTIN-8/12/13/14 (or a UPC-E from a UPC-E symbol) as GTIN-14, check digit verified."""
    value = digits.strip()
    if not value.isascii() or not value.isdigit():
        raise NotGs1Error(detail=f"not digits: {value[:30]!r}")
    if symbology is Symbology.UPCE and len(value) in (6, 7, 8):
        try:
            value = Upc.parse(value).as_upc_a()
        except Exception as exc:  # biip: ParseError and kin; any failure means a bad UPC-E
            raise CheckDigitError(detail=str(exc)[:120]) from exc
    if len(value) not in GTIN_LENGTHS:
        raise NotGs1Error(
            "This number is not a product barcode: a GTIN has 8, 12, 13 or 14 digits.",
            detail=f"{len(value)} digits",
        )
    if gs1_check_digit(value[:-1]) != int(value[-1]):
        raise CheckDigitError(detail=f"GTIN {value}")
    return value.zfill(14)


def _fail(exc: Exception) -> ScanError:
    text = str(exc)
    if "check digit" in text.lower():
        return CheckDigitError(detail=text[:160])
    return MalformedGs1Error(detail=text[:160])


def parse_element_string(data: str, symbology: Symbology = Symbology.GS1_128, *, trust_separators: bool = True) -> Interpretation:
    """Parse a GS1 element string (AIs and data, `\\x1d` between fields) into a typed scan.

    With `trust_separators=False` (keyboard and serial paths, where a GS can be dropped on the
    way) a variable-length field whose tail would itself parse as further element strings is
    refused with `MissingSeparatorError` instead of being read as one long lot or serial.
    """
    body = data.lstrip(GS)
    if not body:
        raise MalformedGs1Error(detail="empty element string")
    try:
        message = GS1Message.parse(body)
    except Exception as exc:  # biip ParseError, or anything a hostile string provokes
        raise _fail(exc) from exc
    if not trust_separators and GS not in body:
        _refuse_lost_separator(message.element_strings)
    return _from_elements(message.element_strings, symbology)


def parse_hri(text: str, symbology: Symbology = Symbology.UNKNOWN) -> Interpretation:
    """Parse GS1 text as a person reads and types it: `(01)09506000134352(17)251231(10)ABC`."""
    try:
        message = GS1Message.parse_hri(text.strip())
    except Exception as exc:
        raise _fail(exc) from exc
    return _from_elements(message.element_strings, symbology)


def parse_digital_link(uri: str, symbology: Symbology = Symbology.UNKNOWN) -> Interpretation:
    """Parse a GS1 Digital Link URI (`https://id.gs1.org/01/09506000134352/10/ABC?17=251231`)."""
    try:
        link = GS1DigitalLinkURI.parse(uri.strip())
    except Exception as exc:
        raise _fail(exc) from exc
    return _from_elements(link.element_strings, symbology)


def _refuse_lost_separator(elements: Sequence[GS1ElementString]) -> None:
    for element in elements:
        if not element.ai.separator_required:
            continue
        value = element.value
        for i in range(1, len(value) - 2):
            tail = value[i:]
            if not tail[:2].isdigit():
                continue
            try:
                rest = GS1Message.parse(tail)
            except Exception:  # the tail is not element strings: nothing was swallowed here
                continue
            if all(_key_error(e) is None for e in rest.element_strings):
                raise MissingSeparatorError(
                    detail=f"AI ({element.ai.ai}) {value!r} would swallow ({rest.element_strings[0].ai.ai})")


def _key_error(element: GS1ElementString) -> str | None:
    return element.gtin_error or element.sscc_error or element.gln_error


def _date(element: GS1ElementString | None) -> dt.date | None:
    return element.date if element is not None else None


def _int(element: GS1ElementString | None) -> int | None:
    if element is None:
        return None
    try:
        return int(element.value)
    except ValueError as exc:
        raise MalformedGs1Error(detail=f"AI ({element.ai.ai}) is not a number") from exc


def _from_elements(elements: Sequence[GS1ElementString], symbology: Symbology) -> Interpretation:
    by_ai: dict[str, GS1ElementString] = {}
    for element in elements:
        if (error := _key_error(element)) is not None:
            raise CheckDigitError(detail=error[:160])
        if element.ai.ai in by_ai and by_ai[element.ai.ai].value != element.value:
            raise MalformedGs1Error(detail=f"AI ({element.ai.ai}) twice with different values")
        by_ai.setdefault(element.ai.ai, element)
    get = by_ai.get

    def text(ai: str) -> str | None:
        element = get(ai)
        return element.value if element is not None else None

    if (sscc := get("00")) is not None:
        return SsccScan(sscc=sscc.value, content_gtin=text("02"), count=_int(get("37")), lot=text("10"),
                        expiry=_date(get("17")), symbology=symbology)
    gtin = get("01") or get("02")
    if gtin is not None:
        count = _int(get("30")) if gtin.ai.ai == "01" else _int(get("37"))
        return ItemScan(gtin=gtin.value, lot=text("10"), serial=text("21"), expiry=_date(get("17")),
                        best_before=_date(get("15")), production_date=_date(get("11")), count=count,
                        symbology=symbology)
    if (gln := get("414")) is not None:
        return GlnScan(gln=gln.value, extension=text("254"), symbology=symbology)
    if (grai := get("8003")) is not None:
        return AssetScan(grai=grai.value, symbology=symbology)
    ais = ", ".join(f"({e.ai.ai})" for e in elements) or "none"
    raise NotGs1Error("This GS1 barcode names no product, case or location. Scan the product's own barcode.",
                      detail=f"AIs {ais}")
