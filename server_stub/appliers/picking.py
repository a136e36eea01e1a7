"""pick.confirm, pick.short and order.stage: customer orders from the shelf to the staging area."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from edge_sync.contract import OrderStagePayload, PickConfirmPayload, PickShortPayload, StockStatus
from server_stub import tables as t
from server_stub.appliers.base import OpContext
from server_stub.appliers.documents import document, set_status
from server_stub.feeds import ErpEventType
from server_stub.errors import ServiceError
from server_stub.tasks import complete_task, record_line_progress


def _order_line(ctx: OpContext, order_id: str, line_id: str) -> dict[str, Any] | None:
    ol = t.order_lines
    row = ctx.tx.conn.execute(
        sa.select(ol).where(ol.c.store_id == ctx.tx.store_id, ol.c.order_id == order_id, ol.c.line_id == line_id)
    ).first()
    return None if row is None else dict(row._mapping)


def _update_line(ctx: OpContext, order_id: str, line_id: str, **values: Any) -> None:
    ol = t.order_lines
    ctx.tx.conn.execute(
        ol.update().where(ol.c.store_id == ctx.tx.store_id, ol.c.order_id == order_id, ol.c.line_id == line_id).values(**values)
    )


def confirm_pick(ctx: OpContext) -> dict[str, Any]:
    """Available becomes picked at the location; over-picks and wrong items are raised, not refused."""
    p: PickConfirmPayload = ctx.payload
    ctx.need_item(p.item_id)
    ctx.need_location(p.location_id)
    line = _order_line(ctx, p.order_id, p.line_id)
    ctx.post(p.item_id, p.location_id, StockStatus.AVAILABLE.value, -p.qty, "pick")
    ctx.post(p.item_id, p.location_id, StockStatus.PICKED.value, p.qty, "pick")
    what = {"order_id": p.order_id, "line_id": p.line_id, "item_id": p.item_id, "location_id": p.location_id, "qty": p.qty}
    if line is None:
        ctx.raise_exception("unknown_order_line", f"{p.qty} of {p.item_id} picked for unknown line {p.order_id}/{p.line_id}", what)
    else:
        if p.item_id != line["item_id"]:
            order = document(ctx.tx, "order", p.order_id) or {}
            if p.substitute_for_item_id != line["item_id"]:
                ctx.raise_exception("wrong_item", f"{p.item_id} picked for a line of {line['item_id']}", {**what, "ordered_item_id": line["item_id"]})
            elif not order.get("allow_substitution", False):
                ctx.raise_exception(
                    "substitution_not_allowed", f"{p.item_id} substituted for {line['item_id']} on {p.order_id}, which allows none", what
                )
        if line["picked_qty"] + p.qty > line["qty"]:
            ctx.raise_exception(
                "double_pick",
                f"line {p.order_id}/{p.line_id} picked {line['picked_qty'] + p.qty} of {line['qty']} ordered"
                + (f"; earlier picks by {line['last_picked_user_id']} on {line['last_picked_device_id']}" if line["picked_qty"] else ""),
                {**what, "ordered_qty": line["qty"], "already_picked_qty": line["picked_qty"],
                 "earlier_device_id": line["last_picked_device_id"], "earlier_user_id": line["last_picked_user_id"]},
            )
        _update_line(
            ctx, p.order_id, p.line_id, picked_qty=line["picked_qty"] + p.qty,
            last_picked_device_id=ctx.op.device_id, last_picked_user_id=ctx.op.user_id,
        )
        current = document(ctx.tx, "order", p.order_id)
        if current is not None and current.get("status") == "open":
            set_status(ctx.tx, "order", p.order_id, "picking")
    ctx.erp(ErpEventType.PICK_CONFIRMED, {**what, "substitute_for_item_id": p.substitute_for_item_id})
    record_line_progress(ctx.tx, p.task_id, p.line_id, p.item_id, p.qty)
    return ctx.result(picked_qty=(line["picked_qty"] + p.qty) if line else p.qty)


def short_pick(ctx: OpContext) -> dict[str, Any]:
    """A line could not be picked in full: raised for the manager and told to the ERP."""
    p: PickShortPayload = ctx.payload
    line = _order_line(ctx, p.order_id, p.line_id)
    what = {"order_id": p.order_id, "line_id": p.line_id, "item_id": p.item_id, "location_id": p.location_id,
            "short_qty": p.short_qty, "reason": p.reason}
    if line is not None:
        _update_line(ctx, p.order_id, p.line_id, short_qty=line["short_qty"] + p.short_qty)
    ctx.raise_exception("pick_short", f"{p.short_qty} of {p.item_id} short on {p.order_id}/{p.line_id}: {p.reason}", what)
    ctx.erp(ErpEventType.PICK_SHORT, what)
    return ctx.result()


def stage_order(ctx: OpContext) -> dict[str, Any]:
    """Picked units move to the staging location; the order is staged."""
    p: OrderStagePayload = ctx.payload
    ctx.need_location(p.staging_location_id)
    for line in p.lines:
        ctx.need_item(line.item_id)
        ctx.need_location(line.from_location_id)
    for line in p.lines:
        ctx.post(line.item_id, line.from_location_id, StockStatus.PICKED.value, -line.qty, "stage")
        ctx.post(line.item_id, p.staging_location_id, StockStatus.STAGED.value, line.qty, "stage")
    data = {"order_id": p.order_id, "staging_location_id": p.staging_location_id,
            "lines": [line.model_dump(mode="json") for line in p.lines]}
    if document(ctx.tx, "order", p.order_id) is None:
        ctx.raise_exception("unknown_order", f"units staged for unknown order {p.order_id}", data)
    else:
        set_status(ctx.tx, "order", p.order_id, "staged")
    ctx.erp(ErpEventType.ORDER_STAGED, data)
    if p.task_id is not None:
        # Staging is the last step of a pick task: the device finishes the task with it, as
        # task.complete would (a clash with another device is raised, not refused).
        try:
            _, clash = complete_task(ctx.tx, p.task_id, ctx.actor, op_id=ctx.op.op_id)
        except ServiceError:
            clash = None  # an unknown task: the staging itself is still recorded
        if clash is not None:
            ctx.exception_ids.append(clash)
    return ctx.result(order_status="staged")
