"""putaway.confirm: received units move from the dock to a scanned location and become available."""

from __future__ import annotations

from typing import Any

from edge_sync.contract import PutawayConfirmPayload, StockStatus
from server_stub.appliers.base import OpContext
from server_stub.feeds import ErpEventType
from server_stub.tasks import record_line_progress


def confirm_putaway(ctx: OpContext) -> dict[str, Any]:
    """−qty received at `from`, +qty available at `to`; a full location is recorded and raised."""
    p: PutawayConfirmPayload = ctx.payload
    ctx.need_item(p.item_id)
    ctx.need_location(p.from_location_id)
    to = ctx.need_location(p.to_location_id)
    if to.capacity > 0:
        occupancy = ctx.tx.location_occupancy(p.to_location_id)
        if occupancy + p.qty > to.capacity:
            ctx.raise_exception(
                "location_full",
                f"{p.qty} of {p.item_id} put away to {p.to_location_id}, which holds {occupancy} of {to.capacity}",
                {"item_id": p.item_id, "qty": p.qty, "location_id": p.to_location_id, "occupancy": occupancy, "capacity": to.capacity},
            )
    ctx.post(p.item_id, p.from_location_id, StockStatus.RECEIVED.value, -p.qty, "putaway")
    ctx.post(p.item_id, p.to_location_id, StockStatus.AVAILABLE.value, p.qty, "putaway")
    ctx.erp(
        ErpEventType.PUTAWAY_CONFIRMED,
        {"item_id": p.item_id, "qty": p.qty, "from_location_id": p.from_location_id, "to_location_id": p.to_location_id},
    )
    overridden = p.suggested_location_id is not None and p.suggested_location_id != p.to_location_id
    # Task progress is the only non-buffered write, and it comes last: nothing can refuse after it.
    record_line_progress(ctx.tx, p.task_id, None, p.item_id, p.qty)
    return ctx.result(overrode_suggestion=overridden) if overridden else ctx.result()
