"""Task endpoints: managers create, assign, reprioritise, cancel; associates claim, release, complete.

Every one of them acts for the person named in X-User-Id, with that person's session on the signing
device in X-Session-Id (server_stub.api.readers.session_actor: 401 session_required without one).
The handheld sends its task commands as ops; these serve the tablet and other callers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from edge_sync.contract import Id, TaskCreatePayload, TaskRecord, TaskStatus, TaskType, Text
from server_stub import tasks
from server_stub.api.deps import (
    DeviceHeader,
    RequestNonceDep,
    ServicesDep,
    StoreId,
    UserHeader,
    VerifiedDeviceId,
    nonce_in_transaction,
)
from server_stub.api.readers import SessionHeader, session_actor
from server_stub.authz import Action
from server_stub.db import read_transaction
from server_stub.errors import InvalidRequest
from server_stub.signatures import DeviceRefused, nonce_kept
from server_stub.txn import StoreTx

router = APIRouter(prefix="/v1/stores/{store_id}/tasks", tags=["tasks"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskPatch(_Body):
    """Fields to change; send `assignee_id: null` to put the task back in the pool."""

    assignee_id: Id | None = None
    priority: int | None = Field(default=None, ge=1, le=5)


class CancelBody(_Body):
    reason: Text = ""
    user_id: Id | None = None


class WhoBody(_Body):
    """Who acts; the X-User-Id / X-Device-Id headers are used when these are absent.

    The device is the one that signed the request: a `device_id` naming another is refused (403).
    """

    user_id: Id | None = None
    device_id: Id | None = None


class ClaimBody(WhoBody):
    lease_seconds: int | None = Field(default=None, ge=10, le=24 * 3600)


@router.get("", response_model=list[TaskRecord])
def list_tasks(
    store_id: StoreId,
    services: ServicesDep,
    status: TaskStatus | None = None,
    assignee_id: Annotated[Id | None, Query()] = None,
    type: TaskType | None = None,  # noqa: A002 - the query parameter's public name
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[TaskRecord]:
    """The store's tasks, most urgent first."""
    with read_transaction(services.engine) as conn:
        return tasks.list_tasks(
            conn, store_id, status=status.value if status else None, assignee_id=assignee_id,
            task_type=type.value if type else None, limit=limit,
        )


@router.get("/{task_id}", response_model=TaskRecord)
def get_task(store_id: StoreId, task_id: Id, services: ServicesDep) -> TaskRecord:
    """One task."""
    with read_transaction(services.engine) as conn:
        return tasks.get_task(conn, store_id, task_id)


def _acting_device(claimed: str | None, acting: str | None, verified: str | None) -> str | None:
    """The device a task command acts for: the signer; a body naming another device is refused."""
    if verified is None:  # signatures switched off by setting: the body, else the header
        return claimed or acting
    if claimed is not None and claimed != verified:
        raise DeviceRefused("device_mismatch",
                            f"the body names device {claimed}, but the request is signed by device {verified}: "
                            "a device acts only as itself; leave device_id out or send its own id")
    return verified


@router.post("", response_model=TaskRecord, status_code=201)
@nonce_in_transaction
def create_task(store_id: StoreId, body: TaskCreatePayload, services: ServicesDep, nonce: RequestNonceDep,
                x_user_id: UserHeader = None, x_session_id: SessionHeader = None,
                acting: DeviceHeader = None) -> TaskRecord:
    """Create a task (manager)."""
    with nonce_kept(nonce), StoreTx.open(services.engine, store_id, nonce=nonce) as tx:
        return tasks.create_task(tx, body, session_actor(tx, Action.TASK_CREATE, x_user_id, x_session_id, acting))


@router.patch("/{task_id}", response_model=TaskRecord)
@nonce_in_transaction
def patch_task(store_id: StoreId, task_id: Id, body: TaskPatch, services: ServicesDep, nonce: RequestNonceDep,
               x_user_id: UserHeader = None, x_session_id: SessionHeader = None,
               acting: DeviceHeader = None) -> TaskRecord:
    """Assign and/or reprioritise a task (manager)."""
    with nonce_kept(nonce):
        if not body.model_fields_set:
            raise InvalidRequest("nothing to change: send assignee_id and/or priority")
        with StoreTx.open(services.engine, store_id, nonce=nonce) as tx:
            action = Action.TASK_ASSIGN if "assignee_id" in body.model_fields_set else Action.TASK_REPRIORITISE
            actor = session_actor(tx, action, x_user_id, x_session_id, acting)
            record = tasks.get_task(tx.conn, store_id, task_id)
            if "assignee_id" in body.model_fields_set:
                record = tasks.assign_task(tx, task_id, body.assignee_id, actor)
            if body.priority is not None:
                record = tasks.reprioritise_task(tx, task_id, body.priority, actor)
            return record


@router.post("/{task_id}/cancel", response_model=TaskRecord)
@nonce_in_transaction
def cancel_task(store_id: StoreId, task_id: Id, body: CancelBody, services: ServicesDep, nonce: RequestNonceDep,
                x_user_id: UserHeader = None, x_session_id: SessionHeader = None,
                acting: DeviceHeader = None) -> TaskRecord:
    """Cancel a task (manager)."""
    with nonce_kept(nonce), StoreTx.open(services.engine, store_id, nonce=nonce) as tx:
        actor = session_actor(tx, Action.TASK_CANCEL, x_user_id, x_session_id, acting, named=body.user_id)
        return tasks.cancel_task(tx, task_id, body.reason, actor)


@router.post("/{task_id}/claim", response_model=TaskRecord, responses={409: {"description": "held by another device"}})
@nonce_in_transaction
def claim_task(
    store_id: StoreId, task_id: Id, body: ClaimBody, services: ServicesDep, nonce: RequestNonceDep,
    verified: VerifiedDeviceId, x_user_id: UserHeader = None, x_device_id: DeviceHeader = None,
    x_session_id: SessionHeader = None,
) -> TaskRecord:
    """Claim a task with a lease; 409 names the holder and until when."""
    seconds = min(body.lease_seconds or services.settings.default_lease_seconds, services.settings.max_lease_seconds)
    with nonce_kept(nonce):
        device_id = _acting_device(body.device_id, x_device_id, verified)
        with StoreTx.open(services.engine, store_id, nonce=nonce) as tx:
            actor = session_actor(tx, Action.TASK_CLAIM, x_user_id, x_session_id, device_id, named=body.user_id)
            if actor.device_id is None:
                raise InvalidRequest("a claim needs a device: send device_id or X-Device-Id")
            return tasks.claim_task(tx, task_id, actor, tx.now + dt.timedelta(seconds=seconds))


@router.post("/{task_id}/release", response_model=TaskRecord)
@nonce_in_transaction
def release_task(
    store_id: StoreId, task_id: Id, body: WhoBody, services: ServicesDep, nonce: RequestNonceDep,
    verified: VerifiedDeviceId, x_user_id: UserHeader = None, x_device_id: DeviceHeader = None,
    x_session_id: SessionHeader = None,
) -> TaskRecord:
    """Give a claimed task back."""
    with nonce_kept(nonce):
        device_id = _acting_device(body.device_id, x_device_id, verified)
        with StoreTx.open(services.engine, store_id, nonce=nonce) as tx:
            actor = session_actor(tx, Action.TASK_RELEASE, x_user_id, x_session_id, device_id, named=body.user_id)
            return tasks.release_task(tx, task_id, actor)


@router.post("/{task_id}/complete", response_model=TaskRecord)
@nonce_in_transaction
def complete_task(
    store_id: StoreId, task_id: Id, body: WhoBody, services: ServicesDep, nonce: RequestNonceDep,
    verified: VerifiedDeviceId, x_user_id: UserHeader = None, x_device_id: DeviceHeader = None,
    x_session_id: SessionHeader = None,
) -> TaskRecord:
    """Mark a task done; a clash with another device's lease becomes an exception."""
    with nonce_kept(nonce):
        device_id = _acting_device(body.device_id, x_device_id, verified)
        with StoreTx.open(services.engine, store_id, nonce=nonce) as tx:
            actor = session_actor(tx, Action.TASK_COMPLETE, x_user_id, x_session_id, device_id, named=body.user_id)
            record, _ = tasks.complete_task(tx, task_id, actor)
            return record
