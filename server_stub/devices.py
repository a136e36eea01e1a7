"""Device enrolment: a device asks with its public key, a manager approves it for one store, or revokes it.

    pending ──approve──▶ approved ──revoke──▶ revoked
       └──────────────revoke──────────────────▲

Only approved devices may sign requests (server_stub.signatures). A revoked device stays revoked:
it enrols again under a new device id, and a manager approves that one.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edge_sync.signature_profile import EnrolmentRecord, EnrolmentRequest
from server_stub import tables as t
from server_stub.db import loader, marker
from server_stub.errors import Conflict, NotFound

E = t.device_enrolments


class EnrolmentStatus(StrEnum):
    """Where a device's enrolment stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REVOKED = "revoked"


def _record(row: sa.Row[tuple[object, ...]]) -> EnrolmentRecord:
    m = row._mapping
    return EnrolmentRecord(
        store_id=m["store_id"], device_id=m["device_id"], status=m["status"], name=m["name"],
        public_key=m["public_key"], requested_at=m["requested_at"], decided_at=m["decided_at"],
        decided_by=m["decided_by"],
    )


_FIND_COLUMNS = ("store_id", "device_id", "status", "name", "public_key", "requested_at", "decided_at", "decided_by")


def find(conn: Connection, store_id: str, device_id: str) -> EnrolmentRecord | None:
    """The device's enrolment in the store, or None.

    Read at driver level, its times converted as the column type converts them: every signed
    request reads it, and building and compiling a Core select cost more than the read.
    """
    m = marker(conn)
    row = conn.exec_driver_sql(
        f"SELECT {', '.join(_FIND_COLUMNS)} FROM {E.name} WHERE store_id = {m} AND device_id = {m}", (store_id, device_id)
    ).first()
    if row is None:
        return None
    values = dict(zip(_FIND_COLUMNS, row, strict=True))
    at = loader(conn, E.c.requested_at)
    values["requested_at"] = at(values["requested_at"])
    values["decided_at"] = None if values["decided_at"] is None else at(values["decided_at"])
    return EnrolmentRecord.model_validate(values)


def get(conn: Connection, store_id: str, device_id: str) -> EnrolmentRecord:
    """The device's enrolment in the store; NotFound when it never asked."""
    record = find(conn, store_id, device_id)
    if record is None:
        raise NotFound(f"device {device_id} has not asked to enrol in store {store_id}")
    return record


def request_enrolment(conn: Connection, request: EnrolmentRequest, now: dt.datetime) -> tuple[EnrolmentRecord, bool]:
    """Record a device's request (pending); (the enrolment, True when it is new or its key changed).

    Asking again with the same key changes nothing. A pending device may present a new key (it
    was reinstalled before a manager got to it). An approved or revoked device id cannot take a
    new key: a manager revokes it, and the device enrols under a new id.
    """
    current = find(conn, request.store_id, request.device_id)
    if current is not None and current.public_key == request.public_key:
        return current, False
    if current is not None and current.status != EnrolmentStatus.PENDING:
        raise Conflict(
            f"device {request.device_id} is already {current.status} in store {request.store_id} with another key; "
            "enrol this device under a new device id (a manager revokes the old one)",
            status=current.status,
        )
    values = {"public_key": request.public_key, "status": EnrolmentStatus.PENDING.value, "name": request.name,
              "requested_at": now, "decided_at": None, "decided_by": None}
    if current is None:
        conn.execute(sa.insert(E).values(store_id=request.store_id, device_id=request.device_id, **values))
    else:
        conn.execute(sa.update(E).where(E.c.store_id == request.store_id, E.c.device_id == request.device_id).values(**values))
    return get(conn, request.store_id, request.device_id), True


def approve(conn: Connection, store_id: str, device_id: str, *, by: str, now: dt.datetime) -> EnrolmentRecord:
    """Let a pending device sign requests for its store; approving twice is a no-op, a revoked one a Conflict."""
    current = get(conn, store_id, device_id)
    if current.status == EnrolmentStatus.APPROVED:
        return current
    if current.status == EnrolmentStatus.REVOKED:
        raise Conflict(f"device {device_id} was revoked in store {store_id}; it must enrol again under a new device id")
    return _decide(conn, store_id, device_id, EnrolmentStatus.APPROVED, by, now)


def revoke(conn: Connection, store_id: str, device_id: str, *, by: str, now: dt.datetime) -> EnrolmentRecord:
    """Refuse every request the device signs from now on (lost, stolen, retired)."""
    current = get(conn, store_id, device_id)
    if current.status == EnrolmentStatus.REVOKED:
        return current
    return _decide(conn, store_id, device_id, EnrolmentStatus.REVOKED, by, now)


def _decide(conn: Connection, store_id: str, device_id: str, status: EnrolmentStatus, by: str,
            now: dt.datetime) -> EnrolmentRecord:
    conn.execute(
        sa.update(E).where(E.c.store_id == store_id, E.c.device_id == device_id)
        .values(status=status.value, decided_at=now, decided_by=by)
    )
    return get(conn, store_id, device_id)


def list_enrolments(conn: Connection, store_id: str, status: str | None = None) -> list[EnrolmentRecord]:
    """The store's enrolments (optionally of one status), by device id."""
    query = sa.select(E).where(E.c.store_id == store_id)
    if status is not None:
        query = query.where(E.c.status == status)
    return [_record(r) for r in conn.execute(query.order_by(E.c.device_id))]
