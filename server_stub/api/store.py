"""Manager endpoints: balances, exceptions, count approvals, the device board."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from edge_sync.contract import BalanceRecord, ExceptionRecord, Id, SessionRecord, SessionStart, StockStatus, Text
from server_stub import approvals, exceptions, ledger, sessions
from server_stub import tables as t
from server_stub.api.deps import DeviceHeader, ServicesDep, StoreId, UserHeader
from server_stub.api.readers import SessionHeader, session_actor
from server_stub.auth import actor_for
from server_stub.authz import Action, require
from server_stub.db import read_transaction
from server_stub.errors import InvalidRequest
from server_stub.txn import StoreTx

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["store"])


class DecisionBody(BaseModel):
    """A manager's decision or resolution, with a note."""

    model_config = ConfigDict(extra="forbid")
    note: Text = ""
    user_id: Id | None = None


class DeviceRecord(BaseModel):
    """One device as the manager's board shows it."""

    device_id: str
    last_seq: int
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    last_op_at: dt.datetime | None
    last_user_id: str | None
    lag_seconds: float | None
    pending: int
    parked: int
    oldest_pending_at: dt.datetime | None
    app_version: str


@router.get("/balances", response_model=list[BalanceRecord], tags=["stock"])
def get_balances(
    store_id: StoreId,
    services: ServicesDep,
    item_id: Annotated[Id | None, Query()] = None,
    location_id: Annotated[Id | None, Query()] = None,
    status: StockStatus | None = None,
    as_of: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 5000,
) -> list[BalanceRecord]:
    """Balances now, or as of a time (timezone-aware), derived from the ledger."""
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidRequest("as_of needs a timezone, e.g. 2025-03-01T10:00:00Z")
    with read_transaction(services.engine) as conn:
        return ledger.query_balances(
            conn, store_id, item_id=item_id, location_id=location_id, status=status.value if status else None,
            as_of=as_of, limit=limit,
        )


@router.get("/exceptions", response_model=list[ExceptionRecord], tags=["exceptions"])
def list_exceptions(
    store_id: StoreId,
    services: ServicesDep,
    status: Annotated[str | None, Query(pattern="^(open|resolved)$")] = None,
    kind: Annotated[Id | None, Query()] = None,
    device_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[ExceptionRecord]:
    """The store's exceptions, newest first."""
    with read_transaction(services.engine) as conn:
        return exceptions.list_exceptions(conn, store_id, status=status, kind=kind, device_id=device_id, limit=limit)


@router.get("/exceptions/{exception_id}", response_model=ExceptionRecord, tags=["exceptions"])
def get_exception(store_id: StoreId, exception_id: Id, services: ServicesDep) -> ExceptionRecord:
    """One exception."""
    with read_transaction(services.engine) as conn:
        return exceptions.get_exception(conn, store_id, exception_id)


@router.post("/exceptions/{exception_id}/resolve", response_model=ExceptionRecord, tags=["exceptions"])
def resolve_exception(
    store_id: StoreId, exception_id: Id, body: DecisionBody, services: ServicesDep, x_user_id: UserHeader = None,
    x_session_id: SessionHeader = None, acting: DeviceHeader = None,
) -> ExceptionRecord:
    """Resolve an exception with a note (manager, with their session on this device)."""
    with StoreTx.open(services.engine, store_id) as tx:
        actor = session_actor(tx, Action.EXCEPTION_RESOLVE, x_user_id, x_session_id, acting, named=body.user_id)
        return exceptions.resolve_exception(tx, exception_id, note=body.note, user_id=actor.user_id)


@router.get("/approvals", response_model=list[approvals.ApprovalRecord], tags=["stock"])
def list_approvals(
    store_id: StoreId,
    services: ServicesDep,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|superseded)$")] = None,
) -> list[approvals.ApprovalRecord]:
    """Counts waiting for a manager (or decided)."""
    with read_transaction(services.engine) as conn:
        return approvals.list_approvals(conn, store_id, status=status)


@router.post("/approvals/{approval_id}/approve", response_model=approvals.ApprovalRecord, tags=["stock"])
def approve(
    store_id: StoreId, approval_id: Id, body: DecisionBody, services: ServicesDep, x_user_id: UserHeader = None,
    x_session_id: SessionHeader = None, acting: DeviceHeader = None,
) -> approvals.ApprovalRecord:
    """Approve a count: it posts as of its moment against the ledger as it stands now (manager, with their session on this device)."""
    with StoreTx.open(services.engine, store_id) as tx:
        actor = session_actor(tx, Action.COUNT_APPROVE, x_user_id, x_session_id, acting, named=body.user_id)
        return approvals.decide(tx, approval_id, actor, approve=True, note=body.note)


@router.post("/approvals/{approval_id}/reject", response_model=approvals.ApprovalRecord, tags=["stock"])
def reject(
    store_id: StoreId, approval_id: Id, body: DecisionBody, services: ServicesDep, x_user_id: UserHeader = None,
    x_session_id: SessionHeader = None, acting: DeviceHeader = None,
) -> approvals.ApprovalRecord:
    """Reject a count: nothing posts (manager, with their session on this device)."""
    with StoreTx.open(services.engine, store_id) as tx:
        actor = session_actor(tx, Action.COUNT_APPROVE, x_user_id, x_session_id, acting, named=body.user_id)
        return approvals.decide(tx, approval_id, actor, approve=False, note=body.note)


@router.post("/sessions", response_model=SessionRecord, status_code=201, tags=["people"])
def start_session(store_id: StoreId, body: SessionStart, services: ServicesDep, x_device_id: DeviceHeader = None) -> SessionRecord:
    """Record a session started online at sign-in: the role its ops are authorised with, and until when."""
    with StoreTx.open(services.engine, store_id) as tx:
        actor = actor_for(tx, services.settings, body.user_id, x_device_id or body.device_id)
        require(actor, Action.SESSION_START)
        return sessions.start_online(tx, body, x_device_id)


@router.get("/devices", response_model=list[DeviceRecord], tags=["devices"])
def list_devices(store_id: StoreId, services: ServicesDep) -> list[DeviceRecord]:
    """Every device that pushed to the store: last seen, last seq, its queue as it reported it."""
    d = t.devices
    with read_transaction(services.engine) as conn:
        rows = conn.execute(sa.select(d).where(d.c.store_id == store_id).order_by(d.c.device_id)).all()
    return [
        DeviceRecord(
            device_id=r.device_id, last_seq=r.last_seq, first_seen_at=r.first_seen_at, last_seen_at=r.last_seen_at,
            last_op_at=r.last_op_at, last_user_id=r.last_user_id,
            lag_seconds=None if r.lag_ms is None else r.lag_ms / 1000.0, pending=r.pending, parked=r.parked,
            oldest_pending_at=r.oldest_pending_at, app_version=r.app_version,
        )
        for r in rows
    ]
