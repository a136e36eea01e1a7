"""The Receiving screen's state: pick an ASN, scan items in, set the quantity, close. No flet here.

Two switches change what the next scans mean: "damaged" records them as damaged units until it is
switched off, and a refused over-receipt (the rule's NeedsApproval) turns the screen into "scan a
manager's badge": the next scan is read as a badge, and the refused command is sent again with that
manager's id in `approved_by` (the rule checks the role), or the associate cancels.

Every scan goes `device.interpret` -> `ReceiveUnits` through the bus, and the screen answers in
one line a person can read at a glance: green "+1 Blue mug 350 ml, 5 of 12", or red with the
scanner's or the rule's own message ("That is a location label (A-03-02-1). Scan the product's
barcode.").
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from app.domain.commands import CloseReceipt, Command, CompleteTask, ReceiveUnits, StartReceipt
from app.domain.context import Actor
from app.domain.errors import DomainError, NeedsApproval
from app.services.bus import Outcome
from app.services.receiving import AsnListRow, ReceiptSummary
from device import ItemScan, ScanError, ScanKind, interpret, require

MAX_QTY = 999


@dataclass(frozen=True, slots=True)
class AsnChoice:
    """One open ASN in the pick list, in words."""

    asn_id: str
    headline: str
    detail: str


@dataclass(frozen=True, slots=True)
class LineView:
    """One item of the open receipt: expected against received."""

    description: str
    progress: str
    done: bool
    over: bool


@dataclass
class ReceivingState:
    """Everything the Receiving screen draws."""

    asns: list[AsnChoice] = field(default_factory=list)
    receipt_id: str | None = None
    title: str = ""
    totals: str = ""
    lines: list[LineView] = field(default_factory=list)
    qty: int = 1
    message: str = ""
    message_kind: str = "info"
    """info, ok or error: the colour of the answer line."""
    scans_ok: int = 0
    """Scans accepted on this receipt in this session (the running count)."""
    closed_summary: list[str] = field(default_factory=list)
    """After Close: the receipt's outcome and its discrepancies, one line each."""
    damaged: bool = False
    """The next scans are recorded as damaged units."""
    approval_for: str = ""
    """Non-empty while a refused over-receipt waits for a manager's badge: what is waiting, in words."""
    answer_no: int = 0
    """Goes up with every answer, so the screen knows to flash (or buzz) once per scan."""
    task_id: str | None = None
    """The receive task this receipt was opened from, finished when the receipt is closed."""


class ReceivingViewModel:
    """Opens a receipt against an ASN, receives scans into it, closes it."""

    def __init__(
        self,
        *,
        handle: Callable[[Command, Actor], Outcome],
        list_asns: Callable[[], list[AsnListRow]],
        summary: Callable[[str], ReceiptSummary],
        open_receipts: Callable[[], list[ReceiptSummary]],
        actor: Callable[[], Actor | None],
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        approver_by_badge: Callable[[str], tuple[str, str]] | None = None,
    ) -> None:
        self._handle = handle
        self._list_asns = list_asns
        self._summary = summary
        self._open_receipts = open_receipts
        self._actor = actor
        self._new_id = new_id
        self._approver_by_badge = approver_by_badge
        self.state = ReceivingState()
        self._typing_qty = False
        self._waiting: ReceiveUnits | None = None
        self._units = (0, 0)
        """Received and expected units of the open receipt, as last read (for the running totals)."""
        self.lines_stale = False
        """A scan moved the totals but the per-item lines were not read back yet (`refresh_lines`)."""

    # -- picking an ASN ---------------------------------------------------------------------------

    def load(self) -> None:
        """Refresh the list of open ASNs (the screen's first step)."""
        open_on = {r.asn_number for r in self._open_receipts() if r.asn_number}
        self.state.asns = [_choice(a, a.number in open_on) for a in self._list_asns()]

    def open_asn(self, asn_id: str) -> None:
        """Start a receipt against the ASN, or continue the one already open on it."""
        actor = self._actor()
        if actor is None:
            self._say("Sign in first", "error")
            return
        number = next((a.number for a in self._list_asns() if a.asn_id == asn_id), None)
        for r in self._open_receipts():
            if number is not None and r.asn_number == number:
                self._show(r.receipt_id, f"Continuing {number}", "info")
                return
        receipt_id = f"rcpt-{self._new_id()[:12]}"
        try:
            outcome = self._handle(StartReceipt(command_id=self._new_id(), receipt_id=receipt_id, asn_id=asn_id), actor)
        except DomainError as exc:
            self._say(exc.message, "error")
            return
        self._show(receipt_id, outcome.message, "info")

    def open_for_po(self, po_id: str, task_id: str | None = None) -> None:
        """Open the receipt a receive task names: the PO's open ASN when it has one, else the PO itself."""
        asn = next((a for a in self._list_asns() if a.po_id == po_id), None)
        if asn is not None:
            self.open_asn(asn.asn_id)
        else:
            self._start(StartReceipt(command_id=self._new_id(), receipt_id=f"rcpt-{self._new_id()[:12]}", po_id=po_id))
        if self.state.receipt_id is not None:
            self.state.task_id = task_id

    def _start(self, cmd: StartReceipt) -> None:
        actor = self._actor()
        if actor is None:
            self._say("Sign in first", "error")
            return
        try:
            outcome = self._handle(cmd, actor)
        except DomainError as exc:
            self._say(exc.message, "error")
            return
        self._show(cmd.receipt_id, outcome.message, "info")

    def _show(self, receipt_id: str, message: str, kind: str) -> None:
        self.state = ReceivingState(asns=self.state.asns, receipt_id=receipt_id, message=message, message_kind=kind,
                                    answer_no=self.state.answer_no + 1)
        self._waiting = None
        self._refresh_receipt()

    def back(self) -> None:
        """Leave the receipt open and go back to the ASN list."""
        self.state = ReceivingState(asns=self.state.asns, answer_no=self.state.answer_no)
        self._waiting = None
        self.lines_stale = False
        self.load()

    def toggle_damaged(self) -> None:
        """Switch "damaged" on or off for the next scans."""
        self.state.damaged = not self.state.damaged
        if self.state.damaged:
            self._say("Damaged: the next scans are recorded as damaged", "info")
        else:
            self._say("Damaged off: scans are good units again", "info")

    # -- scanning ---------------------------------------------------------------------------------

    def scan(self, text: str, *, read_lines: bool = True) -> None:
        """Receive the next scan's quantity of the scanned item; say what happened in one line.

        While an over-receipt waits for a manager, the scan is read as the manager's badge instead.
        With `read_lines=False` the receipt is not read back: the answer and the running totals (moved
        by the units just received) are ready at once, and the per-item lines wait for
        `refresh_lines()` (`lines_stale` says so), so a screen can answer before it reads.
        """
        actor, receipt_id = self._actor(), self.state.receipt_id
        if actor is None or receipt_id is None:
            self._say("Open a receipt first: pick an ASN", "error")
            return
        if self._waiting is not None:
            self._approve(text, actor, read_lines)
            return
        try:
            item = require(interpret(text), ScanKind.ITEM)
        except ScanError as exc:
            self._say(exc.message, "error")
            return
        assert isinstance(item, ItemScan)
        cmd = ReceiveUnits(command_id=self._new_id(), receipt_id=receipt_id, gtin=item.gtin,
                           qty=self.state.qty * (item.count or 1), lot=item.lot, expiry=item.expiry,
                           serial=item.serial, damaged=self.state.damaged)
        self._send(cmd, actor, read_lines)

    def _send(self, cmd: ReceiveUnits, actor: Actor, read_lines: bool) -> None:
        try:
            outcome = self._handle(cmd, actor)
        except NeedsApproval as exc:
            if self._approver_by_badge is None:
                self._say(exc.message, "error")
                return
            self._waiting = cmd
            self.state.approval_for = exc.message
            self._say(f"{exc.message}. Manager: scan your badge to approve", "error")
            return
        except DomainError as exc:
            self._say(exc.message, "error")
            return
        self._waiting = None
        self.state.approval_for = ""
        self.state.scans_ok += 1
        self.clear_qty()  # the quantity is for the next scan only
        self._say(outcome.message, "ok")
        units = outcome.data.get("units")
        if read_lines or not isinstance(units, int):
            self._refresh_receipt()
            return
        received, expected = self._units
        self._units = (received + units, expected)
        self._set_totals()
        self.lines_stale = True

    def refresh_lines(self) -> None:
        """Read the receipt back after scans that left its lines stale (see `scan`)."""
        if self.lines_stale:
            self._refresh_receipt()

    def _approve(self, badge: str, actor: Actor, read_lines: bool) -> None:
        assert self._waiting is not None and self._approver_by_badge is not None
        try:
            manager_id, _name = self._approver_by_badge(badge)
        except DomainError as exc:
            self._say(f"{exc.message}, or Cancel", "error")
            return
        # A new command id: the refused attempt recorded nothing, and this one carries the approval.
        retry = replace(self._waiting, command_id=self._new_id(), approved_by=manager_id)
        self._send(retry, actor, read_lines)

    def cancel_approval(self) -> None:
        """Give up the over-receipt that waits for a manager: nothing is received."""
        if self._waiting is None:
            return
        self._waiting = None
        self.state.approval_for = ""
        self._say("Not received: set the extra units aside", "info")

    def set_qty(self, qty: int) -> None:
        """Set how many packs the next scan counts (1 to MAX_QTY)."""
        self.state.qty = max(1, min(MAX_QTY, qty))

    def press_digit(self, digit: int) -> None:
        """The quantity pad: append a digit (the first press after a scan replaces the 1)."""
        self.set_qty(self.state.qty * 10 + digit if self._typing_qty else digit)
        self._typing_qty = True

    def clear_qty(self) -> None:
        """Back to one pack per scan."""
        self.state.qty = 1
        self._typing_qty = False

    # -- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the receipt and show its discrepancies."""
        actor, receipt_id = self._actor(), self.state.receipt_id
        if actor is None or receipt_id is None:
            self._say("Open a receipt first: pick an ASN", "error")
            return
        try:
            outcome = self._handle(CloseReceipt(command_id=self._new_id(), receipt_id=receipt_id), actor)
        except DomainError as exc:
            self._say(exc.message, "error")
            return
        found = outcome.data.get("discrepancies") or []
        summary = [_discrepancy(d) for d in found] or ["Everything matched the ASN"]
        task_id = self.state.task_id
        self.state = ReceivingState(asns=self.state.asns, message=outcome.message, message_kind="ok",
                                    closed_summary=summary, title=self.state.title,
                                    answer_no=self.state.answer_no + 1)
        self._waiting = None
        self.lines_stale = False
        if task_id is not None:
            self._finish_task(task_id, actor)
        self.load()

    def _finish_task(self, task_id: str, actor: Actor) -> None:
        # The receive task is done with its receipt; a refusal (someone else holds it) is only said.
        try:
            self._handle(CompleteTask(command_id=self._new_id(), task_id=task_id), actor)
        except DomainError as exc:
            self.state.closed_summary.append(f"Task not marked done: {exc.message}")

    # -- helpers ----------------------------------------------------------------------------------

    def _say(self, message: str, kind: str) -> None:
        self.state.message, self.state.message_kind = message, kind
        self.state.answer_no += 1

    def _set_totals(self) -> None:
        received, expected = self._units
        self.state.totals = f"{received} of {expected} units · {self.state.scans_ok} scans"

    def _refresh_receipt(self) -> None:
        self.lines_stale = False
        if self.state.receipt_id is None:
            return
        s = self._summary(self.state.receipt_id)
        doc = s.asn_number or s.po_number or "Blind receipt"
        self.state.title = f"{doc} at {s.dock_code}"
        self._units = (s.received_units, s.expected_units)
        self._set_totals()
        self.state.lines = [
            LineView(p.description or p.gtin, f"{p.received} of {p.expected}",
                     done=p.received == p.expected and p.expected > 0, over=p.received > p.expected)
            for p in s.items
        ]


def _choice(a: AsnListRow, open_here: bool) -> AsnChoice:
    bits = [f"{a.lines} line{'s' if a.lines != 1 else ''}", f"{a.units} units"]
    if a.expected_at is not None:
        bits.append(f"due {a.expected_at.astimezone(dt.UTC).strftime('%d %b %H:%M')}")
    if open_here:
        bits.append("in progress")
    who = f" · {a.supplier}" if a.supplier else ""
    return AsnChoice(a.asn_id, f"{a.number}{who}", " · ".join(bits))


def _discrepancy(d: dict[str, object]) -> str:
    kinds = d.get("kinds") or []
    what = ", ".join(str(k) for k in kinds) if isinstance(kinds, list) else str(kinds)
    return f"{d.get('description') or d.get('gtin')}: {d.get('received')} of {d.get('expected')} ({what})"
