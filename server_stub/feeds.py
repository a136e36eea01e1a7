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
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from edge_sync.contract import Change, ChangeKind, ChangesPage
from server_stub import tables as t
from server_stub.db import loader, marker
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
    m = marker(conn)
    op_id_text, time_text = _uuid_loader(conn), _remembered(_iso_loader(conn))
    result_of = _remembered(loader(conn, op.c.result))
    for change_seq, op_id, seq, status, reason, result, recorded_at in conn.exec_driver_sql(
        "SELECT change_seq, op_id, seq, status, reason, result, recorded_at FROM ops"
        f" WHERE store_id = {m} AND change_seq > {m} ORDER BY change_seq LIMIT {m}",
        (store_id, after, limit + 1),
    ):
        key = op_id_text(op_id)
        data = {
            "op_id": key, "seq": seq, "status": status, "reason": reason, "expected_seq": None,
            "result": result_of(result), "server_time": time_text(recorded_at),
        }
        entries.append((change_seq, _change(ChangeKind.OP_RESULT, key, data)))
    for seq, item_id, location_id, status, qty in conn.exec_driver_sql(
        "SELECT change_seq, item_id, location_id, status, qty FROM balances"
        f" WHERE store_id = {m} AND change_seq > {m} ORDER BY change_seq LIMIT {m}",
        (store_id, after, limit + 1),
    ):
        data = {"item_id": item_id, "location_id": location_id, "status": status, "qty": qty}
        key = balance_key_str((item_id, location_id, status))
        entries.append((seq, _change(ChangeKind.BALANCE, key, data)))
    entries.sort(key=lambda entry: entry[0])
    has_more = len(entries) > limit
    entries = entries[:limit]
    last = entries[-1][0] if entries else after
    # Every field is ours and of its declared type: the page is built without validating it again.
    return ChangesPage.model_construct(
        changes=[change for _, change in entries],
        next_cursor=str(last),
        has_more=has_more,
        server_time=now,
    )


_CHANGE_FIELDS = frozenset(Change.model_fields)
_new = object.__new__
_set = object.__setattr__


def _change(kind: ChangeKind, key: str, data: dict[str, Any]) -> Change:
    """The very object `Change.model_construct(kind=, key=, data=)` makes (a test holds them equal), at a
    fraction of its cost, which is paid for every entry of a page."""
    change = _new(Change)
    _set(change, "__dict__", {"kind": kind, "key": key, "data": data})
    _set(change, "__pydantic_fields_set__", set(_CHANGE_FIELDS))
    _set(change, "__pydantic_extra__", None)
    _set(change, "__pydantic_private__", None)
    return change


def _remembered(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, each distinct value converted once a page: a page's ops share a few push times, and
    most results are the same text (`{}`); the entries holding one share its value, which is only
    serialised. An unhashable value (PostgreSQL hands JSON over parsed) is converted as it comes."""
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            found = seen[value] = convert(value)
            return found
        except TypeError:
            return convert(value)

    return remembered


def _uuid_loader(conn: Connection) -> Callable[[Any], str]:
    """An op id as the driver returns it (32 hex digits on SQLite, a UUID on PostgreSQL), as text."""
    load = loader(conn, t.ops.c.op_id)

    def text(value: Any) -> str:
        if type(value) is str and len(value) == 32:
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
        return str(load(value))

    return text


def _iso_loader(conn: Connection) -> Callable[[Any], str]:
    """A stored time as the driver returns it, as the ISO text of its UTC datetime."""
    load = loader(conn, t.ops.c.recorded_at)
    return lambda value: load(value).isoformat()


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
