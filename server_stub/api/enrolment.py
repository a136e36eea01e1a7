"""Device enrolment over HTTP: a device asks (self-signed), a manager approves or revokes.

    POST /v1/enrolments                                   a device asks; signed by the key it presents
    GET  /v1/enrolments/{store_id}/{device_id}            a device asks how it stands; signed by its key
    GET  /v1/stores/{store_id}/enrolments                 a manager's list (signed device, like every store call)
    POST /v1/stores/{store_id}/enrolments/{id}/approve    a manager approves a pending device
    POST /v1/stores/{store_id}/enrolments/{id}/revoke     a manager revokes a device

Approving and revoking act for the manager named in X-User-Id, with their session on the signing
device in X-Session-Id (server_stub.api.readers.session_actor).

The first manager device of a store is approved by an operator with `backroom devices approve`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from edge_sync.contract import Id
from edge_sync.signature_profile import EnrolmentRecord, EnrolmentRequest
from server_stub import devices
from server_stub.api.deps import DeviceHeader, ServicesDep, StoreId, UserHeader
from server_stub.api.readers import SessionHeader, session_actor
from server_stub.authz import Action
from server_stub.db import read_transaction, write_transaction
from server_stub.errors import InvalidRequest
from server_stub.signatures import SignatureGuard, message_from_scope
from server_stub.txn import StoreTx, utcnow

public_router = APIRouter(prefix="/v1/enrolments", tags=["devices"])
router = APIRouter(prefix="/v1/stores/{store_id}/enrolments", tags=["devices"])


def _guard(request: Request) -> SignatureGuard:
    guard: SignatureGuard = request.app.state.signature_guard
    return guard


@public_router.post(
    "", response_model=EnrolmentRecord, status_code=202,
    responses={200: {"description": "already asked with this key"}, 409: {"description": "device id taken by another key"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": EnrolmentRequest.model_json_schema()}}}},
)
async def request_enrolment(request: Request, services: ServicesDep) -> Response:
    """Ask to enrol a device in a store; the request is signed with the key it presents."""
    raw = await request.body()
    try:
        body = EnrolmentRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequest(f"not an enrolment request: {exc.errors(include_url=False)[0]['msg']}") from exc
    guard = _guard(request)
    await run_in_threadpool(guard.verify_self_signed, message_from_scope(request.scope), raw, body.store_id,
                            body.device_id, body.public_key)

    def record() -> tuple[EnrolmentRecord, bool]:
        with write_transaction(services.engine) as conn:
            return devices.request_enrolment(conn, body, utcnow())

    enrolment, changed = await run_in_threadpool(record)
    return JSONResponse(status_code=202 if changed else 200, content=enrolment.model_dump(mode="json"))


@public_router.get("/{store_id}/{device_id}", response_model=EnrolmentRecord)
async def own_enrolment(store_id: StoreId, device_id: Id, request: Request) -> EnrolmentRecord:
    """How this device's enrolment stands (pending, approved, revoked); signed by the device's own key."""
    guard = _guard(request)
    record = await run_in_threadpool(guard.verify_own, message_from_scope(request.scope), await request.body())
    if (record.store_id, record.device_id) != (store_id, device_id):
        raise InvalidRequest(f"signed as {record.store_id}/{record.device_id}: a device may only read its own enrolment")
    return record


@router.get("", response_model=list[EnrolmentRecord])
def list_enrolments(
    store_id: StoreId, services: ServicesDep,
    status: Annotated[str | None, Query(pattern="^(pending|approved|revoked)$")] = None,
) -> list[EnrolmentRecord]:
    """The store's devices and where their enrolment stands (pending ones wait for a manager)."""
    with read_transaction(services.engine) as conn:
        return devices.list_enrolments(conn, store_id, status)


@router.post("/{device_id}/approve", response_model=EnrolmentRecord)
def approve_device(store_id: StoreId, device_id: Id, services: ServicesDep, x_user_id: UserHeader = None,
                   x_session_id: SessionHeader = None, acting: DeviceHeader = None) -> EnrolmentRecord:
    """Approve a pending device for this store (manager)."""
    with StoreTx.open(services.engine, store_id) as tx:
        actor = session_actor(tx, Action.DEVICE_APPROVE, x_user_id, x_session_id, acting)
        return devices.approve(tx.conn, store_id, device_id, by=actor.user_id, now=tx.now)


@router.post("/{device_id}/revoke", response_model=EnrolmentRecord)
def revoke_device(store_id: StoreId, device_id: Id, services: ServicesDep, x_user_id: UserHeader = None,
                  x_session_id: SessionHeader = None, acting: DeviceHeader = None) -> EnrolmentRecord:
    """Revoke a device: every request it signs is refused from now on (manager)."""
    with StoreTx.open(services.engine, store_id) as tx:
        actor = session_actor(tx, Action.DEVICE_REVOKE, x_user_id, x_session_id, acting)
        return devices.revoke(tx.conn, store_id, device_id, by=actor.user_id, now=tx.now)
