"""Receiving as pure rules: open a receipt, count units in, close it with its discrepancies.

A receipt is worked against an ASN (expected quantities are the ASN's), a PO without an ASN (the
PO's), or blind (nothing expected). Its lines are keyed by (GTIN, lot); quantities on lines are
units, a case scan counting its pack size. Expected and received are compared per item, summing
its lines, because one expected line is often received as several lots or as cases and eaches.

Everything counted in is a physical fact and is recorded, even an item the item master does not
know; only receiving past the over-receipt tolerance needs a manager's approval. Damaged units
count toward the line (`received` includes them) and go to `damaged` status when it is closed.

Refusals are `app.domain.errors.DomainError` subclasses whose message the handheld shows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.errors import DomainError, InvalidState, NeedsApproval, NotAllowed, NotFound, WrongScan
from app.domain.policy import StorePolicy

OPEN = "open"
CLOSED = "closed"
MAX_UNITS = 1_000_000
"""The most units one scan or one line may carry (the sync contract's limit)."""
APPROVER_ROLES = frozenset({"manager", "admin"})

_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_GTIN14 = re.compile(r"^[0-9]{14}$")


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt as the rules see it."""

    receipt_id: str
    po_id: str | None
    asn_id: str | None
    dock_location_id: str
    status: str

    @property
    def blind(self) -> bool:
        """True when received against neither a PO nor an ASN."""
        return self.po_id is None and self.asn_id is None


@dataclass(frozen=True, slots=True)
class Document:
    """A PO or an ASN a receipt may be worked against."""

    doc_id: str
    number: str
    status: str
    po_id: str | None = None
    """For an ASN, the PO it ships."""


@dataclass(frozen=True, slots=True)
class Dock:
    """The location a receipt is worked at."""

    location_id: str
    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class ReceiptStarted:
    """A receipt was opened; `expected_from` names the document whose lines are expected."""

    receipt: Receipt
    expected_from: tuple[str, str] | None
    message: str


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """What a receipt holds for one (GTIN, lot): expected and counted units."""

    gtin: str
    item_id: str | None
    lot: str
    expected_qty: int
    received_qty: int
    damaged_qty: int
    description: str | None = None
    expiry: str | None = None

    @property
    def key(self) -> str:
        """What expected and received are compared by: the item, or the GTIN of an unknown item."""
        return item_key(self.item_id, self.gtin)


@dataclass(frozen=True, slots=True)
class Scan:
    """One count-in: a GTIN (resolved to an item, or not), its units, lot and condition."""

    gtin: str
    item_id: str | None
    description: str | None
    units: int
    damaged: bool = False
    lot: str | None = None
    expiry: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Approver:
    """The person named as approving an over-receipt; `role` None when the id is not known."""

    user_id: str
    name: str | None
    role: str | None


@dataclass(frozen=True, slots=True)
class ItemProgress:
    """Expected and counted units of one item (or unknown GTIN) on a receipt."""

    key: str
    item_id: str | None
    gtin: str
    description: str
    expected: int
    received: int
    damaged: int

    def discrepancies(self, *, blind: bool) -> tuple[str, ...]:
        """The kinds of discrepancy on this item: unknown, unexpected, over, short, damaged."""
        kinds: list[str] = []
        if self.item_id is None:
            kinds.append("unknown")
        if not blind:
            if self.expected == 0 and self.received > 0:
                kinds.append("unexpected")
            elif self.received > self.expected:
                kinds.append("over")
            elif self.received < self.expected:
                kinds.append("short")
        if self.damaged > 0:
            kinds.append("damaged")
        return tuple(kinds)


@dataclass(frozen=True, slots=True)
class UnitsReceived:
    """Units were counted in on a receipt."""

    receipt_id: str
    scan: Scan
    received: int
    """Units of this item on the receipt after this scan, damaged included."""
    expected: int
    approved_by: str | None
    message: str


@dataclass(frozen=True, slots=True)
class StockMove:
    """Units of an item that arrive at the dock in a status when a receipt is closed."""

    item_id: str
    location_id: str
    status: str
    qty: int


@dataclass(frozen=True, slots=True)
class ReceiptClosed:
    """A receipt was closed: its units are on the dock, its discrepancies known."""

    receipt_id: str
    moves: tuple[StockMove, ...]
    items: tuple[ItemProgress, ...]
    discrepancies: tuple[tuple[ItemProgress, tuple[str, ...]], ...] = field(default_factory=tuple)
    message: str = ""


def item_key(item_id: str | None, gtin: str) -> str:
    """The comparison key of a line: its item, or its GTIN when the item is unknown."""
    return item_id if item_id is not None else f"gtin:{gtin}"


def check_receipt_id(receipt_id: str) -> None:
    """Refuse a receipt id that cannot travel in an op."""
    if not _ID.match(receipt_id):
        raise WrongScan(f"Receipt id {receipt_id[:20]!r} is not valid: use letters, digits, - . _ :")


def check_qty(qty: int) -> None:
    """Refuse a zero, negative or absurd quantity."""
    if qty <= 0:
        raise DomainError("Quantity must be at least 1", code="bad_qty")
    if qty > MAX_UNITS:
        raise DomainError(f"{qty} is too many: check the quantity", code="bad_qty")


def check_gtin(gtin: str) -> None:
    """Refuse anything that is not a 14-digit GTIN."""
    if not _GTIN14.match(gtin):
        raise WrongScan("Not a product barcode: scan the item's GTIN")


def require_open(receipt: Receipt) -> None:
    """Refuse work on a receipt that is no longer open."""
    if receipt.status != OPEN:
        raise InvalidState(f"Receipt {receipt.receipt_id} is closed: start a new receipt")


def start(
    receipt_id: str,
    *,
    exists: bool,
    po_id: str | None,
    asn_id: str | None,
    po: Document | None,
    asn: Document | None,
    dock: Dock | None,
    dock_requested: str | None,
    already_open_on: str | None,
) -> ReceiptStarted:
    """Open a receipt against an ASN, a PO or blind, at a dock."""
    check_receipt_id(receipt_id)
    if exists:
        raise InvalidState(f"Receipt {receipt_id} already exists")
    if asn_id is not None and asn is None:
        raise NotFound(f"No ASN {asn_id} on this device: sync, or receive blind")
    if po_id is not None and po is None:
        raise NotFound(f"No PO {po_id} on this device: sync, or receive blind")
    if asn is not None and po is not None and asn.po_id is not None and asn.po_id != po.doc_id:
        raise WrongScan(f"ASN {asn.number} is not for PO {po.number}: check the paperwork")
    for kind, doc in (("ASN", asn), ("PO", po)):
        if doc is not None and doc.status != OPEN:
            raise InvalidState(f"{kind} {doc.number} is {doc.status}: receive blind, or ask a manager")
    if dock is None:
        if dock_requested is not None:
            raise NotFound(f"No location {dock_requested}: pick a dock")
        raise InvalidState("No dock is set up in this store: ask a manager")
    if dock.kind != "dock":
        raise WrongScan(f"{dock.code} is not a dock: receive at a dock")
    label = f"ASN {asn.number}" if asn else f"PO {po.number}" if po else "blind receipt"
    if already_open_on is not None:
        raise InvalidState(f"{label} is already open on receipt {already_open_on}: continue that one")
    effective_po = po.doc_id if po is not None else (asn.po_id if asn is not None else None)
    receipt = Receipt(receipt_id, effective_po, asn.doc_id if asn else None, dock.location_id, OPEN)
    expected_from = ("asn", asn.doc_id) if asn else ("po", po.doc_id) if po else None
    return ReceiptStarted(receipt=receipt, expected_from=expected_from, message=f"Receiving {label} at {dock.code}")


def over_receipt_allowance(expected: int, policy: StorePolicy) -> int:
    """Units that may be received past `expected` without approval: the larger allowance."""
    by_pct = math.floor(policy.over_receipt_tolerance_pct * expected / 100)
    return max(by_pct, policy.over_receipt_tolerance_units, 0)


def progress(lines: Sequence[ReceiptLine]) -> list[ItemProgress]:
    """Expected and counted units per item, expected items first, in line order."""
    order: list[str] = []
    acc: dict[str, list[ReceiptLine]] = {}
    for line in lines:
        if line.key not in acc:
            order.append(line.key)
            acc[line.key] = []
        acc[line.key].append(line)
    result = []
    for key in order:
        group = acc[key]
        first = next((ln for ln in group if ln.expected_qty > 0), group[0])
        result.append(ItemProgress(
            key=key,
            item_id=first.item_id,
            gtin=first.gtin,
            description=first.description or f"Unknown item {first.gtin}",
            expected=sum(ln.expected_qty for ln in group),
            received=sum(ln.received_qty for ln in group),
            damaged=sum(ln.damaged_qty for ln in group),
        ))
    return sorted(result, key=lambda p: p.expected == 0)


def receive(
    receipt: Receipt,
    lines: Sequence[ReceiptLine],
    scan: Scan,
    policy: StorePolicy,
    approver: Approver | None = None,
) -> UnitsReceived:
    """Decide whether `scan` may be counted in, and say what the associate sees."""
    require_open(receipt)
    check_gtin(scan.gtin)
    check_qty(scan.units)
    key = item_key(scan.item_id, scan.gtin)
    mine = [ln for ln in lines if ln.key == key]
    expected = sum(ln.expected_qty for ln in mine)
    before = sum(ln.received_qty for ln in mine)
    after = before + scan.units
    if after > MAX_UNITS:
        raise DomainError(f"{after} units on one line is too many: check the quantity", code="bad_qty")
    approved_by: str | None = None
    name = scan.description or scan.gtin
    # Unknown items are recorded without approval: the manager deals with them in any case.
    if scan.item_id is not None and not receipt.blind and after > expected + over_receipt_allowance(expected, policy):
        if approver is None:
            if expected == 0:
                raise NeedsApproval(f"{name} is not on this delivery: receiving it needs a manager's approval")
            raise NeedsApproval(
                f"{before} of {expected} already received: receiving {scan.units} more needs a manager's approval"
            )
        approved_by = _approve(approver)
    return UnitsReceived(
        receipt_id=receipt.receipt_id,
        scan=scan,
        received=after,
        expected=expected,
        approved_by=approved_by,
        message=_receive_message(receipt, scan, after, expected, approver if approved_by else None),
    )


def _approve(approver: Approver) -> str:
    if approver.role is None:
        raise NotAllowed(f"No user {approver.user_id}: a manager must approve")
    if approver.role not in APPROVER_ROLES:
        raise NotAllowed(f"{approver.name or approver.user_id} is not a manager: a manager must approve")
    return approver.user_id


def _receive_message(receipt: Receipt, scan: Scan, after: int, expected: int, approver: Approver | None) -> str:
    if scan.item_id is None:
        return f"Not in item master: {scan.gtin} recorded, set it aside for a manager"
    what = f"+{scan.units} {scan.description or scan.gtin}" + (" damaged" if scan.damaged else "")
    if receipt.blind:
        text = f"{what}, {after} received"
    elif expected == 0:
        text = f"{what}, {after} (not expected)"
    else:
        text = f"{what}, {after} of {expected}" + (" (over)" if after > expected else "")
    if approver is not None:
        text += f", approved by {approver.name or approver.user_id}"
    return text


def close(receipt: Receipt, lines: Sequence[ReceiptLine]) -> ReceiptClosed:
    """Close a receipt: the units it moves to the dock and the discrepancies it records."""
    require_open(receipt)
    if not any(ln.received_qty > 0 for ln in lines):
        raise InvalidState(f"Nothing received on {receipt.receipt_id} yet: scan items before closing")
    totals: dict[tuple[str, str], int] = {}
    for ln in lines:
        if ln.item_id is None:
            continue  # an unknown item has no ledger: it waits, set aside, for a manager
        good = ln.received_qty - ln.damaged_qty
        for status, qty in (("received", good), ("damaged", ln.damaged_qty)):
            if qty > 0:
                totals[(ln.item_id, status)] = totals.get((ln.item_id, status), 0) + qty
    moves = tuple(
        StockMove(item_id=item_id, location_id=receipt.dock_location_id, status=status, qty=qty)
        for (item_id, status), qty in totals.items()
    )
    items = tuple(progress(lines))
    found = tuple((p, kinds) for p in items if (kinds := p.discrepancies(blind=receipt.blind)))
    units = sum(m.qty for m in moves)
    text = f"Receipt closed: {units} units on the dock"
    if found:
        text += f", {len(found)} discrepanc{'y' if len(found) == 1 else 'ies'} sent to a manager"
    return ReceiptClosed(receipt_id=receipt.receipt_id, moves=moves, items=items, discrepancies=found, message=text)
