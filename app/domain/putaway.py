"""Directed putaway as pure rules: where received stock should go, and confirming where it went.

Suggestion order, each with the reason the associate sees:
    1. the item's home location, if it has room (capacity 0 means unlimited);
    2. else a shelf in the home's zone with room for the quantity, lowest pick sequence first;
    3. else the backroom location nearest the home by pick sequence (the first backroom when the
       item has no home), preferring one with room.
Confirming needs a scan of a real shelf or backroom location; a location other than the
suggestion needs a reason. Stock becomes `available` only on confirmation. A location filled past
its capacity is a physical fact: allowed, and said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.errors import DomainError, InvalidState, NotFound, WrongScan

PUTAWAY_KINDS = frozenset({"shelf", "backroom"})
MAX_REASON = 500
MAX_UNITS = 1_000_000


@dataclass(frozen=True, slots=True)
class Place:
    """A location with what it holds now (units of every item, every status)."""

    location_id: str
    code: str
    zone: str
    kind: str
    pick_sequence: int
    capacity: int
    units: int = 0

    def has_room(self, qty: int) -> bool:
        """True when `qty` more units fit (capacity 0 is unlimited)."""
        return self.capacity == 0 or self.units + qty <= self.capacity


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Where to put received units, and why there."""

    location: Place
    reason: str


@dataclass(frozen=True, slots=True)
class PutawayConfirmed:
    """Received units were put at a scanned location and are now available."""

    item_id: str
    qty: int
    from_location_id: str
    to: Place
    suggested_location_id: str | None
    override_reason: str | None
    over_capacity: bool
    message: str


def suggest(home: Place | None, zone_shelves: Sequence[Place], backrooms: Sequence[Place], qty: int) -> Suggestion:
    """Suggest a location for `qty` units given the item's home, its zone's shelves and the backrooms."""
    check_qty(qty)
    if home is not None and home.kind in PUTAWAY_KINDS and home.has_room(qty):
        return Suggestion(home, f"Home location {home.code}")
    if home is not None:
        overflow = sorted(
            (p for p in zone_shelves if p.location_id != home.location_id and p.kind == "shelf"
             and p.zone == home.zone and p.has_room(qty)),
            key=lambda p: (p.pick_sequence, p.code),
        )
        if overflow:
            full = f"{home.units} of {home.capacity}" if home.capacity else "not a shelf"
            return Suggestion(overflow[0], f"Home {home.code} is full ({full}): overflow in zone {home.zone}")
    rooms = [p for p in backrooms if p.kind == "backroom"]
    if not rooms:
        raise InvalidState("No backroom location is set up: ask a manager where to put it")
    anchor = home.pick_sequence if home is not None else None
    best = min(rooms, key=lambda p: (not p.has_room(qty), _distance(p, anchor), p.pick_sequence, p.code))
    why = "No home location" if home is None else f"No space in zone {home.zone}"
    tail = "" if best.has_room(qty) else f" (full: {best.units} of {best.capacity})"
    return Suggestion(best, f"{why}: nearest backroom{tail}")


def _distance(place: Place, anchor: int | None) -> int:
    return 0 if anchor is None else abs(place.pick_sequence - anchor)


def check_qty(qty: int) -> None:
    """Refuse a zero, negative or absurd quantity."""
    if qty <= 0:
        raise DomainError("Quantity must be at least 1", code="bad_qty")
    if qty > MAX_UNITS:
        raise DomainError(f"{qty} is too many: check the quantity", code="bad_qty")


def confirm(
    *,
    item_id: str,
    description: str,
    qty: int,
    from_location_id: str,
    from_code: str,
    waiting: int,
    scanned_code: str,
    scanned: Place | None,
    suggested: Place | None,
    override_reason: str | None,
) -> PutawayConfirmed:
    """Check a putaway scan against the rules and say what the associate sees."""
    check_qty(qty)
    if scanned is None:
        raise NotFound(f"No location {scanned_code.strip()[:32]}: check the label")
    if scanned.kind not in PUTAWAY_KINDS:
        article = "a dock" if scanned.kind == "dock" else f"a {scanned.kind} location"
        raise WrongScan(f"{scanned.code} is {article}: scan a shelf or backroom location")
    reason = (override_reason or "").strip() or None
    if suggested is not None and scanned.location_id != suggested.location_id and reason is None:
        raise WrongScan(f"Wrong location: scan {suggested.code}, or give a reason to put it elsewhere")
    if reason is not None and len(reason) > MAX_REASON:
        raise DomainError(f"Reason too long: keep it under {MAX_REASON} characters", code="bad_reason")
    if waiting <= 0:
        raise InvalidState(f"No {description} waiting at {from_code}: nothing to put away")
    if qty > waiting:
        raise InvalidState(f"Only {waiting} {description} are waiting at {from_code}")
    over = not scanned.has_room(qty)
    text = f"Put {qty} {description} at {scanned.code}"
    if over:
        text += f": over capacity ({scanned.units + qty} of {scanned.capacity})"
    is_override = suggested is not None and scanned.location_id != suggested.location_id
    return PutawayConfirmed(
        item_id=item_id,
        qty=qty,
        from_location_id=from_location_id,
        to=scanned,
        suggested_location_id=suggested.location_id if suggested is not None else None,
        override_reason=reason if is_override else None,
        over_capacity=over,
        message=text,
    )
