"""Count approvals: a manager approves (the count posts as of its moment) or rejects it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from server_stub import tables as t
from server_stub.appliers.counting import post_count
from server_stub.auth import Actor
from server_stub.authz import Action, require
from server_stub.errors import Conflict, NotFound
from server_stub.exceptions import resolve_exception
from server_stub.txn import StoreTx


class ApprovalRecord(BaseModel):
    """A count waiting for (or decided by) a manager."""

    approval_id: str
    count_id: str
    attempt: int
    status: str
    """pending, approved, rejected, superseded (a later count of the same count_id came in)"""
    reason: str
    item_id: str
    location_id: str
    counted_qty: int
    balance_qty: int
    started_at: dt.datetime
    counted_at: dt.datetime
    device_id: str | None
    user_id: str | None
    exception_id: str | None
    created_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    note: str | None
    posted_qty: int | None


def list_approvals(conn: Connection, store_id: str, *, status: str | None = None, limit: int = 500) -> list[ApprovalRecord]:
    """The store's count approvals, oldest first."""
    cr = t.count_reviews
    query = sa.select(cr).where(cr.c.store_id == store_id)
    if status is not None:
        query = query.where(cr.c.status == status)
    query = query.order_by(cr.c.created_at, cr.c.approval_id).limit(limit)
    return [ApprovalRecord.model_validate(dict(r._mapping)) for r in conn.execute(query)]


def get_approval(conn: Connection, store_id: str, approval_id: str) -> ApprovalRecord:
    """One approval; NotFound when unknown."""
    cr = t.count_reviews
    row = conn.execute(sa.select(cr).where(cr.c.store_id == store_id, cr.c.approval_id == approval_id)).first()
    if row is None:
        raise NotFound(f"approval {approval_id} not found in store {store_id}")
    return ApprovalRecord.model_validate(dict(row._mapping))


def decide(tx: StoreTx, approval_id: str, actor: Actor, *, approve: bool, note: str) -> ApprovalRecord:
    """Approve (post the count as of its moment, against the ledger as it stands now) or reject."""
    require(actor, Action.COUNT_APPROVE)
    current = get_approval(tx.conn, tx.store_id, approval_id)
    if current.status != "pending":
        raise Conflict(f"approval {approval_id} is {current.status}", status=current.status)
    posted: int | None = None
    if approve:
        _, posted = post_count(
            tx, count_id=current.count_id, item_id=current.item_id, location_id=current.location_id,
            counted_qty=current.counted_qty, counted_at=current.counted_at, op_id=None, approved_by=actor.user_id,
        )
    cr = t.count_reviews
    tx.conn.execute(
        cr.update()
        .where(cr.c.store_id == tx.store_id, cr.c.approval_id == approval_id)
        .values(status="approved" if approve else "rejected", decided_by=actor.user_id, decided_at=tx.now, note=note, posted_qty=posted)
    )
    if current.exception_id:
        verdict = f"count {'approved' if approve else 'rejected'}" + (f": {note}" if note else "")
        try:
            resolve_exception(tx, current.exception_id, note=verdict[:500], user_id=actor.user_id)
        except Conflict:
            pass  # the exception was resolved by hand already; the decision stands
    return get_approval(tx.conn, tx.store_id, approval_id)
