"""Exceptions for a manager: what happened, who did it, and how it was resolved.

Raised by the appliers when a physical fact conflicts with what the server knew (receipt over the
PO, double pick, putaway into a full location, count over moving stock). The fact is recorded all
the same; the exception is the manager's to-do. (Python exceptions are in `errors.py`.)
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edge_sync.contract import ChangeKind, ExceptionRecord
from server_stub import tables as t
from server_stub.errors import Conflict, NotFound
from server_stub.records import exception_record_from_row
from server_stub.txn import StoreTx


def raise_exception(
    tx: StoreTx,
    kind: str,
    summary: str,
    details: dict[str, Any],
    *,
    op_id: uuid.UUID | None = None,
    device_id: str | None = None,
    user_id: str | None = None,
) -> str:
    """Open an exception for a manager and put it on the change feed; returns its id."""
    exception_id = f"EX-{tx.next('exception_seq')}"
    tx.raised[exception_id] = (kind, summary[:500])
    row: dict[str, Any] = {
        "exception_id": exception_id,
        "kind": kind,
        "status": "open",
        "summary": summary[:500],
        "details": details,
        "op_id": op_id,
        "device_id": device_id,
        "user_id": user_id,
        "created_at": tx.now,
        "resolved_by": None,
        "resolved_at": None,
        "resolution_note": None,
    }
    tx.append(t.exceptions, row)
    tx.change(ChangeKind.EXCEPTION, exception_id, exception_record_from_row(row).model_dump(mode="json"))
    return exception_id


def list_exceptions(
    conn: Connection,
    store_id: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    device_id: str | None = None,
    limit: int = 500,
) -> list[ExceptionRecord]:
    """The store's exceptions, newest first, filtered."""
    ex = t.exceptions
    query = sa.select(ex).where(ex.c.store_id == store_id)
    if status is not None:
        query = query.where(ex.c.status == status)
    if kind is not None:
        query = query.where(ex.c.kind == kind)
    if device_id is not None:
        query = query.where(ex.c.device_id == device_id)
    query = query.order_by(ex.c.created_at.desc(), ex.c.exception_id.desc()).limit(limit)
    return [exception_record_from_row(row._mapping) for row in conn.execute(query)]


def get_exception(conn: Connection, store_id: str, exception_id: str) -> ExceptionRecord:
    """One exception; NotFound if the store has no such exception."""
    ex = t.exceptions
    row = conn.execute(sa.select(ex).where(ex.c.store_id == store_id, ex.c.exception_id == exception_id)).first()
    if row is None:
        raise NotFound(f"exception {exception_id} not found in store {store_id}")
    return exception_record_from_row(row._mapping)


def resolve_exception(tx: StoreTx, exception_id: str, *, note: str, user_id: str) -> ExceptionRecord:
    """Mark an open exception resolved, with the manager's note."""
    tx.flush()
    current = get_exception(tx.conn, tx.store_id, exception_id)
    if current.status == "resolved":
        raise Conflict(
            f"exception {exception_id} was already resolved by {current.resolved_by}",
            resolved_by=current.resolved_by,
        )
    ex = t.exceptions
    tx.conn.execute(
        ex.update()
        .where(ex.c.store_id == tx.store_id, ex.c.exception_id == exception_id)
        .values(status="resolved", resolved_by=user_id, resolved_at=tx.now, resolution_note=note)
    )
    record = get_exception(tx.conn, tx.store_id, exception_id)
    tx.change(ChangeKind.EXCEPTION, exception_id, record.model_dump(mode="json"))
    return record
