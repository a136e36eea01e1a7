"""Reading the change feed and the ERP feed by cursor.

Both are append-only tables numbered per store in commit order (the store's counter row is locked
by every writer), so paging by `seq > cursor` never skips a row and never returns one twice. The
cursor is opaque to clients: today the last seq read, as a decimal string.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from edge_sync.contract import Change, ChangeKind, ChangesPage
from server_stub import tables as t
from server_stub.errors import InvalidRequest


class ErpEventType(StrEnum):
    """The canonical events an ERP or middleware consumes."""

    GOODS_RECEIVED = "goods_received"
    RECEIPT_DISCREPANCY = "receipt_discrepancy"
    PUTAWAY_CONFIRMED = "putaway_confirmed"
    INVENTORY_ADJUSTED = "inventory_adjusted"
    COUNT_POSTED = "count_posted"
    PICK_CONFIRMED = "pick_confirmed"
    PICK_SHORT = "pick_short"
    ORDER_STAGED = "order_staged"


class ErpEvent(BaseModel):
    """One canonical event. `event_id` is unique and stable: a consumer may dedupe on it."""

    event_id: str
    store_id: str
    seq: int
    type: ErpEventType
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    op_id: uuid.UUID | None
    data: dict[str, Any]


class ErpEventsPage(BaseModel):
    events: list[ErpEvent]
    next_cursor: str
    has_more: bool
    server_time: dt.datetime


def parse_cursor(cursor: str | None) -> int:
    """The seq a cursor stands for; InvalidRequest when it is not one of ours."""
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 19:
        raise InvalidRequest(f"cursor {cursor[:40]!r} is not valid; start again without a cursor")
    return int(cursor)


def read_changes(conn: Connection, store_id: str, cursor: str | None, limit: int, now: dt.datetime) -> ChangesPage:
    """The next page of the store's change feed after `cursor`."""
    after = parse_cursor(cursor)
    ch = t.changes
    rows = conn.execute(
        sa.select(ch.c.change_seq, ch.c.kind, ch.c.key, ch.c.data)
        .where(ch.c.store_id == store_id, ch.c.change_seq > after)
        .order_by(ch.c.change_seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else after
    return ChangesPage(
        changes=[Change(kind=ChangeKind(kind), key=key, data=data) for _, kind, key, data in rows],
        next_cursor=str(last),
        has_more=has_more,
        server_time=now,
    )


def read_erp_events(conn: Connection, store_id: str, cursor: str | None, limit: int, now: dt.datetime) -> ErpEventsPage:
    """The next page of the store's ERP events after `cursor`, oldest first."""
    after = parse_cursor(cursor)
    ev = t.erp_events
    rows = conn.execute(
        sa.select(ev).where(ev.c.store_id == store_id, ev.c.event_seq > after).order_by(ev.c.event_seq).limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    events = [
        ErpEvent(
            event_id=f"{store_id}:{r.event_seq}",
            store_id=store_id,
            seq=r.event_seq,
            type=ErpEventType(r.type),
            occurred_at=r.occurred_at,
            recorded_at=r.recorded_at,
            op_id=r.op_id,
            data=r.data,
        )
        for r in rows
    ]
    return ErpEventsPage(
        events=events,
        next_cursor=str(events[-1].seq if events else after),
        has_more=has_more,
        server_time=now,
    )
