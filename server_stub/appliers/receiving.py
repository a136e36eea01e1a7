"""receipt.receive (progress on a receipt) and receipt.close (stock enters the ledger)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from edge_sync.contract import Condition, ReceiptClosePayload, ReceiptReceivePayload, StockStatus
from server_stub import lookups
from server_stub import tables as t
from server_stub.appliers.base import OpContext
from server_stub.appliers.documents import expected_lines, set_status
from server_stub.db import insert_ignore, upsert
from server_stub.feeds import ErpEventType


def _resolve_item(ctx: OpContext, item_id: str | None, gtin: str) -> str | None:
    if item_id is not None and lookups.item_exists(ctx.tx, item_id):
        return item_id
    found = lookups.item_for_gtin(ctx.tx, gtin)
    return None if found is None else found[0]


def _open_receipt(ctx: OpContext, receipt_id: str, po_id: str | None, asn_id: str | None) -> dict[str, Any]:
    rc = t.receipts
    insert_ignore(
        ctx.tx.conn,
        rc,
        [{"store_id": ctx.tx.store_id, "receipt_id": receipt_id, "po_id": po_id, "asn_id": asn_id, "status": "open", "opened_at": ctx.tx.now}],
        ["store_id", "receipt_id"],
    )
    row = ctx.tx.conn.execute(sa.select(rc).where(rc.c.store_id == ctx.tx.store_id, rc.c.receipt_id == receipt_id)).one()
    return dict(row._mapping)


def _line_key(line: dict[str, Any]) -> str:
    return str(line.get("item_id") or line["gtin"])


def receive_units(ctx: OpContext) -> dict[str, Any]:
    """Record units counted in on a receipt; unknown items and over-receipts become exceptions."""
    p: ReceiptReceivePayload = ctx.payload
    receipt = _open_receipt(ctx, p.receipt_id, p.po_id, p.asn_id)
    item_id = _resolve_item(ctx, p.item_id, p.gtin)
    damaged = p.condition is Condition.DAMAGED
    rl = t.receipt_lines
    upsert(
        ctx.tx.conn,
        rl,
        [{
            "store_id": ctx.tx.store_id, "receipt_id": p.receipt_id, "gtin": p.gtin, "item_id": item_id,
            "received_qty": 0 if damaged else p.qty, "damaged_qty": p.qty if damaged else 0,
        }],
        ["store_id", "receipt_id", "gtin"],
        update=["item_id"],
        increment=["received_qty", "damaged_qty"],
    )
    if receipt["status"] == "closed":
        ctx.raise_exception(
            "receive_after_close",
            f"{p.qty} of GTIN {p.gtin} received on receipt {p.receipt_id} after it was closed",
            {"receipt_id": p.receipt_id, "gtin": p.gtin, "qty": p.qty},
        )
    if item_id is None:
        ctx.raise_exception(
            "unknown_item",
            f"{p.qty} units of GTIN {p.gtin}, not in the item master, received on {p.receipt_id}",
            {"receipt_id": p.receipt_id, "gtin": p.gtin, "qty": p.qty, "po_id": p.po_id, "asn_id": p.asn_id},
        )
        return ctx.result(receipt_id=p.receipt_id, item_id=None)
    lines = expected_lines(ctx.tx, p.po_id or receipt["po_id"], p.asn_id or receipt["asn_id"])
    received = int(ctx.tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(rl.c.received_qty + rl.c.damaged_qty), 0)).where(
            rl.c.store_id == ctx.tx.store_id, rl.c.receipt_id == p.receipt_id, rl.c.item_id == item_id
        )
    ).scalar_one())
    if lines is None:  # a blind receipt: nothing to compare with
        return ctx.result(receipt_id=p.receipt_id, item_id=item_id, received_qty=received)
    expected = sum(int(x["qty"]) for x in lines if x.get("item_id") == item_id or x.get("gtin") == p.gtin)
    over = received - expected
    if over > ctx.settings.over_receipt_allowance(expected) and p.approved_by is None:
        flagged = ctx.tx.conn.execute(
            sa.select(rl.c.over_receipt_exception_id).where(
                rl.c.store_id == ctx.tx.store_id, rl.c.receipt_id == p.receipt_id, rl.c.gtin == p.gtin
            )
        ).scalar_one()
        if flagged is None:
            ex = ctx.raise_exception(
                "over_receipt",
                f"{received} of {item_id} received on {p.receipt_id} against {expected} expected",
                {"receipt_id": p.receipt_id, "item_id": item_id, "gtin": p.gtin, "expected_qty": expected,
                 "received_qty": received, "po_id": p.po_id, "asn_id": p.asn_id},
            )
            ctx.tx.conn.execute(
                rl.update()
                .where(rl.c.store_id == ctx.tx.store_id, rl.c.receipt_id == p.receipt_id, rl.c.gtin == p.gtin)
                .values(over_receipt_exception_id=ex)
            )
    return ctx.result(
        receipt_id=p.receipt_id, item_id=item_id, received_qty=received, expected_qty=expected,
        approved_by=p.approved_by,
    )


def close_receipt(ctx: OpContext) -> dict[str, Any]:
    """Post the receipt's totals to the dock, and report discrepancies against the ASN/PO."""
    p: ReceiptClosePayload = ctx.payload
    ctx.need_location(p.dock_location_id)
    receipt = _open_receipt(ctx, p.receipt_id, p.po_id, p.asn_id)
    if receipt["status"] == "closed":
        ctx.raise_exception(
            "receipt_closed_twice",
            f"receipt {p.receipt_id} was closed again; stock was posted by the first close only",
            {"receipt_id": p.receipt_id, "first_close_op_id": str(receipt["closed_by_op_id"])},
        )
        return ctx.result(receipt_id=p.receipt_id, posted=False)
    actual: dict[str, int] = {}
    goods: list[dict[str, Any]] = []
    for line in p.lines:
        item_id = _resolve_item(ctx, line.item_id, line.gtin)
        key = item_id or line.gtin
        # received_qty counts every unit in, damaged ones included; damaged_qty is the part damaged.
        damaged = min(line.damaged_qty, line.received_qty)
        actual[key] = actual.get(key, 0) + line.received_qty
        if item_id is None:
            if line.received_qty:
                ctx.raise_exception(
                    "unknown_item",
                    f"{line.received_qty} units of GTIN {line.gtin}, not in the item master, "
                    f"on closed receipt {p.receipt_id}; not posted to stock",
                    {"receipt_id": p.receipt_id, "gtin": line.gtin, "received_qty": line.received_qty, "damaged_qty": line.damaged_qty},
                )
            continue
        ctx.post(item_id, p.dock_location_id, StockStatus.RECEIVED.value, line.received_qty - damaged, "receipt")
        ctx.post(item_id, p.dock_location_id, StockStatus.DAMAGED.value, damaged, "receipt")
        goods.append({
            "item_id": item_id, "gtin": line.gtin, "received_qty": line.received_qty, "damaged_qty": line.damaged_qty,
            "lot": line.lot, "expiry": line.expiry.isoformat() if line.expiry else None,
        })
    po_id, asn_id = p.po_id or receipt["po_id"], p.asn_id or receipt["asn_id"]
    discrepancies: list[dict[str, Any]] = []
    lines = expected_lines(ctx.tx, po_id, asn_id)
    if lines is not None:
        expected: dict[str, int] = {}
        for x in lines:
            expected[_line_key(x)] = expected.get(_line_key(x), 0) + int(x["qty"])
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key, 0) != actual.get(key, 0):
                discrepancies.append({"item": key, "expected_qty": expected.get(key, 0), "received_qty": actual.get(key, 0)})
    doc = {"receipt_id": p.receipt_id, "po_id": po_id, "asn_id": asn_id, "dock_location_id": p.dock_location_id}
    ctx.erp(ErpEventType.GOODS_RECEIVED, {**doc, "lines": goods})
    if discrepancies:
        ctx.raise_exception(
            "receipt_discrepancy",
            f"receipt {p.receipt_id} differs from what was expected on {len(discrepancies)} line(s)",
            {**doc, "lines": discrepancies},
        )
        ctx.erp(ErpEventType.RECEIPT_DISCREPANCY, {**doc, "lines": discrepancies})
    rc = t.receipts
    ctx.tx.conn.execute(
        rc.update()
        .where(rc.c.store_id == ctx.tx.store_id, rc.c.receipt_id == p.receipt_id)
        .values(status="closed", closed_at=ctx.tx.now, closed_by_op_id=ctx.op.op_id, po_id=po_id, asn_id=asn_id)
    )
    if asn_id:
        set_status(ctx.tx, "asn", asn_id, "closed")
    if po_id:
        set_status(ctx.tx, "po", po_id, "closed")
    return ctx.result(receipt_id=p.receipt_id, posted=True, discrepancies=discrepancies)
