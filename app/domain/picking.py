"""Picking customer orders (pickup in store, ship from store), as pure rules.

A pick task's lines are its order's lines (same line ids), each at a location; the associate walks
them in location pick-sequence order, scans the location, then the item. Quantities are units: a
case GTIN scanned once is its pack size in units.

Per line, two figures are kept:
    the task line's `done_qty`   units of the ordered item picked;
    the order line's `picked_qty` units put in the order for that line, ordered item and
                                  substitute together (so `picked_qty - done_qty` are substitutes).
A line is finished when `picked_qty + short_qty` reaches its quantity. A short pick needs a reason;
the server raises the exception for the manager. Staging moves everything picked to a staging
location and marks the order ready.

The picked units are physical facts: a pick is not refused because local stock says the shelf is
empty (the local figure may be stale); the server turns the conflict into an exception.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from app.domain import tasks
from app.domain.context import Actor
from app.domain.errors import DomainError, InvalidState, NotAllowed, WrongScan

STAGING: Final = "staging"
PICKABLE_ORDER_STATUSES: Final = frozenset({"open", "picking"})


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """The customer order a pick task is for."""

    order_id: str
    number: str
    kind: str
    allow_substitution: bool
    status: str


@dataclass(frozen=True, slots=True)
class PickLineSnapshot:
    """One line of the walk: what to pick, where, and how far it has got."""

    line_id: str
    item_id: str
    item_description: str
    location_id: str
    location_code: str
    pick_sequence: int
    qty: int
    done_qty: int = 0
    picked_qty: int = 0
    short_qty: int = 0
    substitute_item_id: str | None = None

    @property
    def remaining(self) -> int:
        """Units still to pick or declare short."""
        return max(self.qty - self.picked_qty - self.short_qty, 0)

    @property
    def substitute_qty(self) -> int:
        """Units of the substitute item picked for this line."""
        return max(self.picked_qty - self.done_qty, 0)


@dataclass(frozen=True, slots=True)
class ScannedLocation:
    """A location found by the code scanned."""

    location_id: str
    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class ScannedItem:
    """An item found by the GTIN scanned; `units` is its pack size."""

    item_id: str
    description: str
    units: int


@dataclass(frozen=True, slots=True)
class PickDecision:
    """What a confirmed pick moves."""

    item_id: str
    units: int
    substitute_for_item_id: str | None


@dataclass(frozen=True, slots=True)
class ShortDecision:
    """What a short pick records."""

    short_qty: int
    reason: str


@dataclass(frozen=True, slots=True)
class StagedUnits:
    """Picked units of one item at one location, to go to the staging location."""

    item_id: str
    from_location_id: str
    qty: int


def walk_order(lines: list[PickLineSnapshot]) -> list[PickLineSnapshot]:
    """The lines in the order the associate walks them: location pick sequence, then line."""
    return sorted(lines, key=lambda ln: (ln.pick_sequence, ln.location_code, ln.line_id))


def require_pick_task(task: tasks.TaskSnapshot, actor: Actor, now: dt.datetime, name_of: tasks.NameOf) -> None:
    """Refuse unless the task is an open pick task nobody else holds."""
    if task.type != "pick":
        raise InvalidState("This is not a pick task")
    tasks.require_workable(task, actor, now, name_of)


def require_pickable(order: OrderSnapshot) -> None:
    """Refuse picking for an order that is already staged, collected or cancelled."""
    if order.status not in PICKABLE_ORDER_STATUSES:
        raise InvalidState(f"Order {order.number} is {order.status}: nothing more to pick")


def confirm_pick(
    order: OrderSnapshot,
    line: PickLineSnapshot,
    *,
    scanned_location: ScannedLocation,
    scanned_item: ScannedItem,
    qty: int,
    substitute: bool,
) -> PickDecision:
    """Check a location-then-item scan against the line and say how many units it moves."""
    require_pickable(order)
    if qty < 1:
        raise DomainError("Enter how many you picked: 1 or more", code="invalid_input")
    if line.remaining == 0:
        raise InvalidState(f"Line complete: {line.picked_qty} of {line.qty} picked")
    if scanned_location.location_id != line.location_id:
        raise WrongScan(f"Wrong location: go to {line.location_code}")
    substitute_for: str | None = None
    if scanned_item.item_id != line.item_id:
        if not substitute:
            raise WrongScan(f"This is {scanned_item.description}: scan {line.item_description}")
        if not order.allow_substitution:
            raise NotAllowed("This order does not allow substitutes")
        if line.substitute_item_id not in (None, scanned_item.item_id):
            raise WrongScan("This line already has a different substitute: use the same one or declare a short")
        substitute_for = line.item_id
    units = qty * scanned_item.units
    if units > line.remaining:
        raise InvalidState(
            f"Too many: {line.remaining} left to pick on this line ({line.picked_qty} of {line.qty} picked)"
        )
    return PickDecision(item_id=scanned_item.item_id, units=units, substitute_for_item_id=substitute_for)


def short_pick(order: OrderSnapshot, line: PickLineSnapshot, *, short_qty: int, reason: str) -> ShortDecision:
    """Check a short pick: a reason, and no more than is left on the line."""
    require_pickable(order)
    reason = tasks.check_text(reason, "reason")
    if not reason:
        raise DomainError("Say why it is short, for example: none on the shelf", code="invalid_input")
    if short_qty < 1:
        raise DomainError("Enter how many are missing: 1 or more", code="invalid_input")
    if line.remaining == 0:
        raise InvalidState(f"Line complete: {line.picked_qty} of {line.qty} picked")
    if short_qty > line.remaining:
        raise InvalidState(f"Only {line.remaining} left on this line: enter {line.remaining} or fewer")
    return ShortDecision(short_qty=short_qty, reason=reason)


def stage(
    order: OrderSnapshot,
    lines: list[PickLineSnapshot],
    *,
    scanned_location: ScannedLocation,
    example_staging_code: str = "STG-1",
) -> list[StagedUnits]:
    """Check that the order can be staged at the scanned location; return what moves there."""
    require_pickable(order)
    if scanned_location.kind != STAGING:
        raise WrongScan(
            f"{scanned_location.code} is a {scanned_location.kind}: scan a staging location like {example_staging_code}"
        )
    left = sum(1 for ln in lines if ln.remaining > 0)
    if left:
        raise InvalidState(f"{left} {'line' if left == 1 else 'lines'} still to pick")
    moved: dict[tuple[str, str], int] = defaultdict(int)
    for ln in lines:
        if ln.done_qty:
            moved[(ln.item_id, ln.location_id)] += ln.done_qty
        if ln.substitute_qty and ln.substitute_item_id:
            moved[(ln.substitute_item_id, ln.location_id)] += ln.substitute_qty
    staged = [StagedUnits(item_id=i, from_location_id=loc, qty=q) for (i, loc), q in sorted(moved.items()) if q > 0]
    if not staged:
        raise InvalidState("Nothing was picked for this order: every line is short. Tell a manager")
    return staged
