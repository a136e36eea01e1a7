"""Reading the change feed and the ERP feed by cursor.

Both are numbered per store in commit order (the store's counter row is locked by every writer), so
paging by `seq > cursor` never skips an entry and never returns one twice. The change feed is read
from three tables (see `read_changes`), the ERP feed from one append-only table. The cursor is
opaque to clients: today the last seq read, as a decimal string.
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
from server_stub.txn import balance_key_str


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
    """The next page of the store's change feed after `cursor`.

    The feed is three sources numbered by the store's one change counter: `changes` (master data,
    tasks, exceptions, documents: a row per change), `ops` (each stored op is its own result's
    entry) and `balances` (a balance's entry moves up to a new seq each time its quantity changes,
    so a reader gets the balance as it stands, once, however often it moved since). Each is read
    from its (store_id, change_seq) index after the cursor, and the three are merged in seq order.
    """
    after = parse_cursor(cursor)
    ch, op, bal = t.changes, t.ops, t.balances
    entries: list[tuple[int, Change]] = []
    for seq, kind, key, data in conn.execute(
        sa.select(ch.c.change_seq, ch.c.kind, ch.c.key, ch.c.data)
        .where(ch.c.store_id == store_id, ch.c.change_seq > after)
        .order_by(ch.c.change_seq)
        .limit(limit + 1)
    ):
        entries.append((seq, Change(kind=ChangeKind(kind), key=key, data=data)))
    for row in conn.execute(
        sa.select(op.c.change_seq, op.c.op_id, op.c.seq, op.c.status, op.c.reason, op.c.result, op.c.recorded_at)
        .where(op.c.store_id == store_id, op.c.change_seq > after)
        .order_by(op.c.change_seq)
        .limit(limit + 1)
    ):
        result = {
            "op_id": str(row.op_id), "seq": row.seq, "status": row.status, "reason": row.reason, "expected_seq": None,
            "result": row.result, "server_time": row.recorded_at.isoformat(),
        }
        entries.append((row.change_seq, Change(kind=ChangeKind.OP_RESULT, key=str(row.op_id), data=result)))
    for seq, item_id, location_id, status, qty in conn.execute(
        sa.select(bal.c.change_seq, bal.c.item_id, bal.c.location_id, bal.c.status, bal.c.qty)
        .where(bal.c.store_id == store_id, bal.c.change_seq > after)
        .order_by(bal.c.change_seq)
        .limit(limit + 1)
    ):
        data = {"item_id": item_id, "location_id": location_id, "status": status, "qty": qty}
        key = balance_key_str((item_id, location_id, status))
        entries.append((seq, Change(kind=ChangeKind.BALANCE, key=key, data=data)))
    entries.sort(key=lambda entry: entry[0])
    has_more = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1][0] if entries else after
    return ChangesPage(
        changes=[change for _, change in entries],
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
