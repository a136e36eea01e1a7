"""RFID EPCs through epcpy: hex from a tag's EPC memory to a typed scan.

Decoded: SGTIN-96/198 (an item: GTIN-14 + serial), SSCC-96 (a logistic unit), SGLN-96 (a GLN with
extension), GRAI-96 (a returnable asset). A tag whose header is not a GS1 scheme (many tags leave
the factory with a chip-maker's TID-like EPC such as `E280…`) raises `NotGs1TagError`, so it can be
reported as "not a GS1 tag" rather than as an unreadable read.
"""

from __future__ import annotations

import re

from epcpy.utils.parsers import epc_pure_identity_to_gs1_element_string, hex_to_tag_encodable
from epcpy.utils.common import ConvertException

from device.errors import EpcError, NotGs1TagError
from device.events import Symbology
from device.interpretation import AssetScan, GlnScan, Interpretation, ItemScan, SsccScan

__all__ = ["GS1_EPC_HEADERS", "decode_epc", "normalise_epc_hex"]

# EPC header byte -> scheme (TDS 2.x, table 14-1). Others are not decoded here.
GS1_EPC_HEADERS: dict[str, str] = {
    "30": "sgtin-96", "36": "sgtin-198", "31": "sscc-96", "32": "sgln-96", "39": "sgln-195",
    "33": "grai-96", "37": "grai-170",
}
_HEX = re.compile(r"^[0-9A-F]+$")


def normalise_epc_hex(value: str | bytes) -> str:
    """Uppercase hex of an EPC from text or raw bytes (raw bytes are hex-encoded first)."""
    if isinstance(value, bytes):
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            return value.hex().upper()
        if not _HEX.match(text.strip().upper()):
            return value.hex().upper()
        value = text
    hex_text = value.strip().replace(" ", "").upper()
    if hex_text.startswith("0X"):
        hex_text = hex_text[2:]
    if not hex_text or len(hex_text) > 128 or len(hex_text) % 2 or not _HEX.match(hex_text):
        raise EpcError(detail=f"not an EPC in hex: {hex_text[:40]!r}")
    return hex_text


def decode_epc(value: str | bytes) -> Interpretation:
    """Decode an EPC (hex) to an ItemScan, SsccScan, GlnScan or AssetScan."""
    hex_text = normalise_epc_hex(value)
    if hex_text[:2] not in GS1_EPC_HEADERS:
        raise NotGs1TagError(detail=f"header {hex_text[:2]}")
    try:
        tag = hex_to_tag_encodable(hex_text)
        uri: str = tag.epc_uri
        element_string: str = epc_pure_identity_to_gs1_element_string(uri)
    except (ConvertException, ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        raise EpcError(detail=f"{hex_text[:40]}: {exc}"[:160]) from exc
    fields = dict(re.findall(r"\((\d+)\)([^(]*)", element_string))
    if "01" in fields:
        return ItemScan(gtin=fields["01"], serial=fields.get("21"), epc=uri, symbology=Symbology.EPC)
    if "00" in fields:
        return SsccScan(sscc=fields["00"], epc=uri, symbology=Symbology.EPC)
    if "414" in fields:
        extension = fields.get("254")
        return GlnScan(gln=fields["414"], extension=None if extension in (None, "0") else extension, epc=uri,
                       symbology=Symbology.EPC)
    if "8003" in fields:
        return AssetScan(grai=fields["8003"], epc=uri, symbology=Symbology.EPC)
    raise NotGs1TagError(detail=f"{uri} has no key we use")
