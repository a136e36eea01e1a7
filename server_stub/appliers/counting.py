"""count.record: a count is an absolute figure tied to a moment.

The adjustment posted is `counted − balance_as_of(counted_at)` at the location (status
available), effective at the count's moment, so sales and receipts around the count survive.
Stock that moved at the location during the count asks for a recount (then, after
`count_max_attempts`, a manager's approval); a variance past tolerance asks for approval.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from edge_sync.contract import CountRecordPayload, StockStatus
from server_stub import tables as t
from server_stub.appliers.base import OpContext
from server_stub.feeds import ErpEventType
from server_stub.ledger import balance_as_of, movements_between
from server_stub.txn import COUNT_REASON, StoreTx

COUNT = COUNT_REASON


def post_count(
    tx: StoreTx,
    *,
    count_id: str,
    item_id: str,
    location_id: str,
    counted_qty: int,
    counted_at: dt.datetime,
    op_id: Any,
    approved_by: str | None,
) -> tuple[int, int]:
    """Post a count as of its moment, with its ERP events; returns (balance then, adjustment)."""
    tx.flush()
    status = StockStatus.AVAILABLE.value
    balance = balance_as_of(tx.conn, tx.store_id, item_id, location_id, status, counted_at)
    adjustment = counted_qty - balance
    tx.post(item_id, location_id, status, adjustment, effective_at=counted_at, reason=COUNT, op_id=op_id)
    data = {
        "count_id": count_id, "item_id": item_id, "location_id": location_id, "counted_qty": counted_qty,
        "balance_qty": balance, "adjustment": adjustment, "counted_at": counted_at.isoformat(), "approved_by": approved_by,
    }
    tx.erp(ErpEventType.COUNT_POSTED, data, occurred_at=counted_at, op_id=op_id)
    if adjustment:
        tx.erp(
            ErpEventType.INVENTORY_ADJUSTED,
            {"item_id": item_id, "location_id": location_id, "status": status, "delta": adjustment, "reason": COUNT, "count_id": count_id},
            occurred_at=counted_at,
            op_id=op_id,
        )
    return balance, adjustment


def _supersede(tx: StoreTx, count_id: str) -> None:
    cr = t.count_reviews
    tx.conn.execute(
        cr.update()
        .where(cr.c.store_id == tx.store_id, cr.c.count_id == count_id, cr.c.status == "pending")
        .values(status="superseded", decided_at=tx.now)
    )


def record_count(ctx: OpContext) -> dict[str, Any]:
    """Post the count, or ask for a recount or an approval; never adjust silently past the rules."""
    p: CountRecordPayload = ctx.payload
    ctx.need_item(p.item_id)
    ctx.need_location(p.location_id)
    tx = ctx.tx
    started, counted_at = ctx.corrected(p.started_at), ctx.corrected(p.counted_at)
    if started > counted_at:
        ctx.reject("the count's started_at is after its counted_at; check the device clock and count again")
    status = StockStatus.AVAILABLE.value
    balance = balance_as_of(tx.conn, tx.store_id, p.item_id, p.location_id, status, counted_at)
    adjustment = p.counted_qty - balance
    moved = movements_between(tx.conn, tx.store_id, p.item_id, p.location_id, started, counted_at)
    base = {"count_id": p.count_id, "balance_qty": balance, "adjustment": adjustment, "attempt": p.attempt}

    if p.approved_by is None and moved:
        if p.attempt < ctx.settings.count_max_attempts:
            return ctx.result(outcome="recount_required", reason=f"stock moved at {p.location_id} during the count", **base)
        return _ask_approval(ctx, p, "count_moving_stock", balance, started, counted_at, base)
    if p.approved_by is None and not ctx.settings.count_within_tolerance(adjustment, balance):
        return _ask_approval(ctx, p, "count_variance", balance, started, counted_at, base)
    _supersede(tx, p.count_id)
    balance, adjustment = post_count(
        tx, count_id=p.count_id, item_id=p.item_id, location_id=p.location_id, counted_qty=p.counted_qty,
        counted_at=counted_at, op_id=ctx.op.op_id, approved_by=p.approved_by,
    )
    return ctx.result(outcome="posted", **{**base, "balance_qty": balance, "adjustment": adjustment})


def _ask_approval(
    ctx: OpContext, p: CountRecordPayload, reason: str, balance: int, started: dt.datetime, counted_at: dt.datetime,
    base: dict[str, Any],
) -> dict[str, Any]:
    tx = ctx.tx
    _supersede(tx, p.count_id)
    approval_id = f"AP-{tx.next('approval_seq')}"
    why = "stock moved during the count" if reason == "count_moving_stock" else "the variance is past tolerance"
    ex = ctx.raise_exception(
        reason,
        f"count of {p.item_id} at {p.location_id}: {p.counted_qty} counted, {balance} expected; {why}",
        {"approval_id": approval_id, "item_id": p.item_id, "location_id": p.location_id, **base, "counted_qty": p.counted_qty},
    )
    tx.conn.execute(
        sa.insert(t.count_reviews).values(
            store_id=tx.store_id, approval_id=approval_id, count_id=p.count_id, attempt=p.attempt, status="pending",
            reason=reason, item_id=p.item_id, location_id=p.location_id, counted_qty=p.counted_qty, balance_qty=balance,
            started_at=started, counted_at=counted_at, op_id=ctx.op.op_id, device_id=ctx.op.device_id,
            user_id=ctx.op.user_id, exception_id=ex, created_at=tx.now,
        )
    )
    return ctx.result(outcome="pending_approval", approval_id=approval_id, reason=why, **base)
