"""Commands: what a person asks the device to do. Imperative names, small frozen dataclasses.

Every command carries a `command_id` chosen where the action started (the scan, the button
press): handling the same id twice does nothing the second time, so a double tap or a scan the
scanner repeated cannot count units twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every command."""

    command_id: str


# --- receiving --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StartReceipt(Command):
    """Open a receipt against a PO, an ASN, or blind (neither), at a dock."""

    receipt_id: str
    po_id: str | None = None
    asn_id: str | None = None
    dock_location_id: str | None = None
    """None: the store's first dock."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveUnits(Command):
    """Count units of a scanned GTIN in on an open receipt.

    `qty` is in the scanned GTIN's packs: a case GTIN of 12 scanned once with qty 1 is 12 units.
    Values parsed from a GS1 element string (lot, expiry, serial, count) arrive already parsed.
    """

    receipt_id: str
    gtin: str
    qty: int = 1
    damaged: bool = False
    lot: str | None = None
    expiry: dt.date | None = None
    serial: str | None = None
    approved_by: str | None = None
    """A manager's user id, when receiving past the over-receipt tolerance was approved."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseReceipt(Command):
    """Close a receipt: its units go to `received` at the dock, discrepancies are recorded."""

    receipt_id: str


# --- putaway ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmPutaway(Command):
    """Confirm that received units were put at the scanned location."""

    item_id: str
    qty: int
    from_location_id: str
    scanned_location_code: str
    suggested_location_id: str | None = None
    override_reason: str | None = None
    """Required when the scanned location is not the suggested one."""
    task_id: str | None = None


# --- counting ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordCount(Command):
    """Record how many units of an item were counted at a location, and when."""

    count_id: str
    location_id: str
    item_id: str
    counted_qty: int
    started_at: dt.datetime
    counted_at: dt.datetime
    task_id: str | None = None
    approved_by: str | None = None
    """A manager's user id approving a variance past the approval threshold."""


# --- picking ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmPick(Command):
    """Confirm units picked for an order line: the location scanned, then the item."""

    task_id: str
    line_id: str
    scanned_location_code: str
    gtin: str
    qty: int = 1
    substitute: bool = False
    """True when the scanned item replaces the ordered one (only if the order allows it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortPick(Command):
    """Declare that an order line cannot be picked in full, and why."""

    task_id: str
    line_id: str
    short_qty: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StageOrder(Command):
    """Put an order's picked units at a staging location: the order is ready."""

    task_id: str
    scanned_location_code: str


# --- tasks ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskLineInput:
    line_id: str
    item_id: str | None = None
    location_id: str | None = None
    qty: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateTask(Command):
    """A manager creates a task (receive, putaway, count, pick)."""

    task_id: str
    type: str
    priority: int = 3
    assignee_id: str | None = None
    due_at: dt.datetime | None = None
    ref_id: str | None = None
    title: str = ""
    lines: tuple[TaskLineInput, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignTask(Command):
    """A manager assigns (or unassigns, with None) a task."""

    task_id: str
    assignee_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReprioritiseTask(Command):
    """A manager changes a task's priority (1 most urgent, 5 least)."""

    task_id: str
    priority: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTask(Command):
    """A manager cancels a task, with a reason."""

    task_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimTask(Command):
    """An associate takes a task with a lease that expires."""

    task_id: str
    lease_seconds: int = 900


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseTask(Command):
    """An associate gives a task back before finishing it."""

    task_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteTask(Command):
    """An associate finishes a task."""

    task_id: str
