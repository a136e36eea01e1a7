"""Receiving handlers: start a receipt, count units in, close it; and the queries its screens use.

Each handler loads what the rule needs through repositories, lets `app.domain.receiving` decide,
then writes the receipt lines or stock and appends the op in the bus's unit of work, so the state
and its op commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from app.domain import receiving as rules
from app.domain.commands import CloseReceipt, Command, ReceiveUnits, StartReceipt
from app.domain.errors import NotFound
from app.services.bus import Handler, HandlerContext, Outcome
from edge_sync.contract import (
    Condition,
    OpType,
    ReceiptClosePayload,
    ReceiptLineTotal,
    ReceiptReceivePayload,
)
from edge_sync.repositories.master import MasterRepository, StockRepository
from edge_sync.repositories.receiving import AsnListRow as AsnListRow
from edge_sync.repositories.receiving import ExpectedRow, ReceiptLineRow, ReceiptRow, ReceivingRepository
from edge_sync.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ReceiptSummary:
    """What the receipt screen shows: the header and, per item, expected against counted."""

    receipt_id: str
    status: str
    po_number: str | None
    asn_number: str | None
    dock_location_id: str
    dock_code: str
    blind: bool
    items: tuple[rules.ItemProgress, ...]
    discrepancies: tuple[tuple[rules.ItemProgress, tuple[str, ...]], ...]

    @property
    def received_units(self) -> int:
        """Units counted in so far, damaged included."""
        return sum(p.received for p in self.items)

    @property
    def expected_units(self) -> int:
        """Units expected on the receipt."""
        return sum(p.expected for p in self.items)


@contextmanager
def read_connection(source: UnitOfWork | Engine) -> Iterator[Connection]:
    """A connection to read from: the unit of work's own, or a short one on the engine."""
    if isinstance(source, UnitOfWork):
        yield source.conn
        return
    with source.connect() as conn:
        yield conn


def _receipt(row: ReceiptRow) -> rules.Receipt:
    return rules.Receipt(row.receipt_id, row.po_id, row.asn_id, row.dock_location_id, row.status)


def _line(row: ReceiptLineRow) -> rules.ReceiptLine:
    return rules.ReceiptLine(row.gtin, row.item_id, row.lot, row.expected_qty, row.received_qty, row.damaged_qty,
                             row.description, row.expiry)


def _load(repo: ReceivingRepository, receipt_id: str) -> tuple[rules.Receipt, list[rules.ReceiptLine]]:
    row = repo.receipt(receipt_id)
    if row is None:
        raise NotFound(f"No receipt {receipt_id}: start a receipt first")
    return _receipt(row), [_line(ln) for ln in repo.lines(receipt_id)]


def _progress_data(p: rules.ItemProgress, kinds: tuple[str, ...] = ()) -> dict[str, object]:
    return {"item_id": p.item_id, "gtin": p.gtin, "description": p.description, "expected": p.expected,
            "received": p.received, "damaged": p.damaged, "kinds": list(kinds)}


def start_receipt(cmd: StartReceipt, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Open a receipt against an ASN, a PO or blind, seeded with the quantities expected."""
    repo = ReceivingRepository(uow.conn)
    master = MasterRepository(uow.conn)
    asn = repo.asn(cmd.asn_id) if cmd.asn_id is not None else None
    po = repo.purchase_order(cmd.po_id) if cmd.po_id is not None else None
    dock_id = cmd.dock_location_id if cmd.dock_location_id is not None else repo.first_dock()
    dock = master.location(dock_id) if dock_id is not None else None
    started = rules.start(
        cmd.receipt_id,
        exists=repo.receipt(cmd.receipt_id) is not None,
        po_id=cmd.po_id,
        asn_id=cmd.asn_id,
        po=None if po is None else rules.Document(po.doc_id, po.number, po.status),
        asn=None if asn is None else rules.Document(asn.doc_id, asn.number, asn.status, asn.po_id),
        dock=None if dock is None else rules.Dock(dock.location_id, dock.code, dock.kind),
        dock_requested=cmd.dock_location_id,
        already_open_on=repo.open_receipt_for(po_id=cmd.po_id, asn_id=cmd.asn_id),
    )
    r = started.receipt
    repo.add_receipt(ReceiptRow(r.receipt_id, r.po_id, r.asn_id, r.dock_location_id, r.status,
                                ctx.actor.user_id, ctx.clock.now(), None))
    expected: list[ExpectedRow] = []
    if started.expected_from is not None:
        for ln in repo.expected_lines(*started.expected_from):
            if ln.item_id is None and (match := master.item_by_gtin(ln.gtin)) is not None:
                ln = ExpectedRow(ln.line_id, match.item.item_id, ln.gtin, ln.qty)
            expected.append(ln)
        repo.add_expected(r.receipt_id, expected)
    return Outcome(started.message, {
        "receipt_id": r.receipt_id, "po_id": r.po_id, "asn_id": r.asn_id, "dock_location_id": r.dock_location_id,
        "expected_lines": len(expected), "expected_units": sum(ln.qty for ln in expected),
    })


def receive_units(cmd: ReceiveUnits, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Count units of a scanned GTIN in on an open receipt."""
    repo = ReceivingRepository(uow.conn)
    master = MasterRepository(uow.conn)
    row = repo.receipt(cmd.receipt_id)
    if row is None:
        raise NotFound(f"No receipt {cmd.receipt_id}: start a receipt first")
    receipt = _receipt(row)
    rules.require_open(receipt)
    rules.check_qty(cmd.qty)
    rules.check_gtin(cmd.gtin)
    match = master.item_by_gtin(cmd.gtin)
    # Only this item's lines decide the scan: the cost of a scan does not grow with the receipt.
    lines = [_line(ln) for ln in repo.lines_of_item(receipt.receipt_id, match.item.item_id if match else None, cmd.gtin)]
    scan = rules.Scan(
        gtin=cmd.gtin,
        item_id=match.item.item_id if match else None,
        description=match.item.description if match else None,
        units=cmd.qty * (match.units if match else 1),
        damaged=cmd.damaged,
        lot=cmd.lot or None,
        expiry=cmd.expiry,
    )
    event = rules.receive(receipt, lines, scan, ctx.policy, _approver(cmd.approved_by, master, ctx))
    lot = scan.lot or ""
    repo.add_to_line(
        receipt.receipt_id, gtin=scan.gtin, lot=lot, item_id=scan.item_id, received=scan.units,
        damaged=scan.units if scan.damaged else 0, expiry=scan.expiry.isoformat() if scan.expiry else None,
        item_on_line=any(ln.gtin == scan.gtin and ln.lot == lot and ln.item_id is not None for ln in lines),
    )
    payload = ReceiptReceivePayload(
        receipt_id=receipt.receipt_id, po_id=receipt.po_id, asn_id=receipt.asn_id, item_id=scan.item_id,
        gtin=scan.gtin, qty=scan.units, condition=Condition.DAMAGED if scan.damaged else Condition.GOOD,
        lot=scan.lot, expiry=scan.expiry, serial=cmd.serial or None, approved_by=event.approved_by,
    )
    _append(uow, ctx, OpType.RECEIPT_RECEIVE, payload, cmd)
    return Outcome(event.message, {
        "receipt_id": receipt.receipt_id, "item_id": scan.item_id, "gtin": scan.gtin, "units": scan.units,
        "damaged": scan.damaged, "received": event.received, "expected": event.expected,
        "unknown_item": scan.item_id is None, "approved_by": event.approved_by,
    })


def _approver(approved_by: str | None, master: MasterRepository, ctx: HandlerContext) -> rules.Approver | None:
    # A manager receiving past the tolerance approves it themself: no second badge scan.
    user_id = approved_by or (ctx.actor.user_id if ctx.actor.is_manager else None)
    if user_id is None:
        return None
    user = master.user(user_id)
    return rules.Approver(user_id, user.name if user else None, user.role if user else None)


def close_receipt(cmd: CloseReceipt, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Close a receipt: its units go to the dock, its discrepancies travel with the op."""
    repo = ReceivingRepository(uow.conn)
    receipt, lines = _load(repo, cmd.receipt_id)
    closed = rules.close(receipt, lines)
    stock = StockRepository(uow.conn)
    for move in closed.moves:
        stock.move(move.item_id, move.location_id, move.status, move.qty)
    repo.close(receipt.receipt_id, ctx.clock.now())
    payload = ReceiptClosePayload(
        receipt_id=receipt.receipt_id, po_id=receipt.po_id, asn_id=receipt.asn_id,
        dock_location_id=receipt.dock_location_id,
        lines=[
            ReceiptLineTotal(item_id=ln.item_id, gtin=ln.gtin, expected_qty=ln.expected_qty,
                             received_qty=ln.received_qty, damaged_qty=ln.damaged_qty, lot=ln.lot or None,
                             expiry=dt.date.fromisoformat(ln.expiry) if ln.expiry else None)
            for ln in lines
        ],
    )
    _append(uow, ctx, OpType.RECEIPT_CLOSE, payload, cmd)
    return Outcome(closed.message, {
        "receipt_id": receipt.receipt_id,
        "dock_location_id": receipt.dock_location_id,
        "moves": [{"item_id": m.item_id, "status": m.status, "qty": m.qty} for m in closed.moves],
        "discrepancies": [_progress_data(p, kinds) for p, kinds in closed.discrepancies],
    })


def _append(
    uow: UnitOfWork,
    ctx: HandlerContext,
    op_type: OpType,
    payload: ReceiptReceivePayload | ReceiptClosePayload,
    cmd: Command,
) -> None:
    uow.append_op(op_type, payload, user_id=ctx.actor.user_id, session_id=ctx.actor.session_id,
                  occurred_at=ctx.clock.now(), command_id=cmd.command_id)


def receipt_summary(source: UnitOfWork | Engine, receipt_id: str) -> ReceiptSummary:
    """A receipt's header and per-item progress; raises NotFound for an unknown receipt."""
    with read_connection(source) as conn:
        repo = ReceivingRepository(conn)
        header = repo.header(receipt_id)
        if header is None:
            raise NotFound(f"No receipt {receipt_id}")
        lines = [_line(ln) for ln in repo.lines(receipt_id)]
    receipt = _receipt(header.receipt)
    items = tuple(rules.progress(lines))
    return ReceiptSummary(
        receipt_id=receipt_id, status=receipt.status, po_number=header.po_number, asn_number=header.asn_number,
        dock_location_id=receipt.dock_location_id, dock_code=header.dock_code, blind=receipt.blind, items=items,
        discrepancies=tuple((p, k) for p in items if (k := p.discrepancies(blind=receipt.blind))),
    )


def open_receipts(source: UnitOfWork | Engine) -> list[ReceiptSummary]:
    """Every receipt still open on this device, oldest first, to pick up where one left off."""
    with read_connection(source) as conn:
        ids = [r.receipt_id for r in ReceivingRepository(conn).open_receipts()]
    return [receipt_summary(source, rid) for rid in ids]


def open_asns(source: UnitOfWork | Engine) -> list[AsnListRow]:
    """The ASNs on this device still open for receiving, soonest expected first."""
    with read_connection(source) as conn:
        return ReceivingRepository(conn).open_asns()


HANDLERS: dict[type[Command], Handler] = {
    StartReceipt: start_receipt,
    ReceiveUnits: receive_units,
    CloseReceipt: close_receipt,
}
