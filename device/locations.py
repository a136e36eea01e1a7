"""The store's location labels: how a location is printed on a label and read back.

The scheme (the codes are the seed's, `server_stub/seed.py`):

    A-03-02-1    shelf: zone A-F, aisle, bay, level      (two digits, two digits, one digit or more)
    BR-02-05-3   backroom racking, same fields
    DOCK-1       receiving dock door 1..n
    STG-12       staging lane 1..n

A location's id is `loc-` + its code, and **a location label carries the id itself**, in Code 128
(code set B, no FNC1): `loc-A-03-02-1`. Why this and not GS1 (AI 414 + 254):

- It can never be taken for an item: a GS1 element string or a GTIN is digits first, and a
  Code 128 without FNC1 reports the `]C0` identifier, never `]C1`; `loc-` starts with a letter.
- Every character is on an unshifted key (letters, digits, `-`): keyboard-wedge paths that lose
  the shift state (Flet key events report key labels, not characters) still deliver it, and the
  parser ignores case (`LOC-a-03-02-1` reads the same).
- The store has no GLN of its own in the demo data; AI 414 would need one per location.

Typed by hand, the bare code (`A-03-02-1`, `dock-1`) is accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from device.errors import BadLocationLabelError

__all__ = ["LOCATION_PREFIX", "ParsedLocation", "is_location_like", "location_label_text", "parse_location"]

LOCATION_PREFIX = "loc-"

_RACK = re.compile(r"^(?P<zone>[A-F]|BR)-(?P<aisle>[0-9]{2})-(?P<bay>[0-9]{2})-(?P<level>[0-9]{1,2})$")
_LANE = re.compile(r"^(?P<zone>DOCK|STG)-(?P<n>[0-9]{1,3})$")  # ASCII digits only: int() takes others
# Anything that starts like a location (letters then a dash) is judged by the scheme, so a
# damaged label gets "not one of ours" rather than "not a product barcode".
_LOOKS_LIKE = re.compile(r"^(LOC-)?[A-Z]{1,4}-", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedLocation:
    """A location code that follows the scheme, split into its parts."""

    code: str
    zone: str
    aisle: int | None
    bay: int | None
    level: int | None

    @property
    def location_id(self) -> str:
        """The location's id in the item master: `loc-` + code."""
        return LOCATION_PREFIX + self.code


def is_location_like(text: str) -> bool:
    """True when the text is shaped like a location label or code (letters, then a dash)."""
    return bool(_LOOKS_LIKE.match(text.strip()))


def parse_location(text: str) -> ParsedLocation:
    """Parse a location label (`loc-A-03-02-1`) or a bare code typed by hand (`a-03-02-1`)."""
    raw = text.strip()
    body = raw[len(LOCATION_PREFIX):] if raw.lower().startswith(LOCATION_PREFIX) else raw
    code = body.upper()
    if m := _RACK.match(code):
        return ParsedLocation(code, m["zone"], int(m["aisle"]), int(m["bay"]), int(m["level"]))
    if (m := _LANE.match(code)) and int(m["n"]) > 0:
        return ParsedLocation(code, m["zone"], None, None, None)
    raise BadLocationLabelError(detail=f"not a location code: {raw[:40]!r}")


def location_label_text(code: str) -> str:
    """The text a location label carries for a code (`A-03-02-1` -> `loc-A-03-02-1`)."""
    return parse_location(code).location_id
