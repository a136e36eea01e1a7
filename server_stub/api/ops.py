"""Op ingest: a batch push, and a single op by its id (the idempotency key)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from edge_sync.contract import Op, OpResult, OpStatus, PushRequest, PushResponse
from server_stub import tables as t
from server_stub.api.deps import RequestNonceDep, ServicesDep, StoreId, VerifiedDeviceId, nonce_in_transaction
from server_stub.db import read_transaction
from server_stub.errors import InvalidRequest, NotFound
from server_stub.ingest import IngestReport
from server_stub.signatures import RequestNonce, nonce_kept

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["ops"])


def _timed_push(services: ServicesDep, store_id: str, request: PushRequest, device_id: str | None,
                nonce: RequestNonce | None) -> IngestReport:
    start = time.perf_counter()
    report = services.ingestor.push(store_id, request, device_id=device_id, nonce=nonce)
    services.metrics.observe_push(report, time.perf_counter() - start)
    return report


def _parse_push(raw: bytes) -> PushRequest:
    try:
        return PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        # The same 422 FastAPI gives for a body it validated itself.
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_url=False)], body=raw
        ) from exc


def _push_json(services: ServicesDep, store_id: str, raw: bytes, device_id: str | None, nonce: RequestNonce | None) -> bytes:
    with nonce_kept(nonce):
        report = _timed_push(services, store_id, _parse_push(raw), device_id, nonce)
    return PushResponse(results=report.results, server_time=report.server_time).model_dump_json().encode()


def document_push_body(openapi: dict[str, Any]) -> None:
    """Add PushRequest and the models it names to the OpenAPI components, for the push route's body."""
    schema = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in {**schema.pop("$defs", {}), "PushRequest": schema}.items():
        components.setdefault(name, definition)


# The body is read and validated here in one step (`model_validate_json`, straight from the bytes)
# rather than by FastAPI's generic pipeline (json.loads, then validation of Python objects, then a
# copy), which cost more than applying the batch on a 100-op push; `openapi_extra` keeps the
# documented schema.
@router.post(
    "/ops",
    response_model=PushResponse,
    summary="Push a batch of ops, in seq order",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
        }
    },
)
@nonce_in_transaction
async def push_ops(store_id: StoreId, request: Request, services: ServicesDep, device_id: VerifiedDeviceId,
                   nonce: RequestNonceDep) -> Response:
    """Apply each op once; answer applied / duplicate / rejected / out_of_order per op."""
    raw = await request.body()
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "push_limiter", None)
    if limiter is None:
        content = await run_in_threadpool(_push_json, services, store_id, raw, device_id, nonce)
    else:
        content = await anyio.to_thread.run_sync(_push_json, services, store_id, raw, device_id, nonce, limiter=limiter)
    return Response(content=content, media_type="application/json")


@router.put(
    "/ops/{op_id}",
    response_model=OpResult,
    summary="Send one op by its id",
    responses={422: {"description": "op_id reused with a different payload, or an op_id that does not match"}},
)
@nonce_in_transaction
def put_op(store_id: StoreId, op_id: uuid.UUID, body: Op, services: ServicesDep, device_id: VerifiedDeviceId,
           nonce: RequestNonceDep) -> Response:
    """Apply one op; the same op again answers the stored result, a different payload 422."""
    with nonce_kept(nonce):
        if body.op_id != op_id:
            raise InvalidRequest(f"the body's op_id {body.op_id} does not match the path's {op_id}")
        report = _timed_push(services, store_id, PushRequest(ops=[body]), device_id, nonce)
    if report.conflicts:
        result = report.conflicts[0]
        return JSONResponse(
            status_code=422,
            content={"detail": {"code": "op_id_reused", "message": result.reason, "result": result.model_dump(mode="json")}},
        )
    return Response(content=report.results[0].model_dump_json(), media_type="application/json")


@router.get("/ops/{op_id}", response_model=OpResult, summary="The stored result of an op")
def get_op(store_id: StoreId, op_id: uuid.UUID, services: ServicesDep) -> OpResult:
    """What the server answered when it first took this op."""
    o = t.ops
    with read_transaction(services.engine) as conn:
        row = conn.execute(
            sa.select(o.c.seq, o.c.status, o.c.reason, o.c.result, o.c.recorded_at).where(o.c.store_id == store_id, o.c.op_id == op_id)
        ).first()
    if row is None:
        raise NotFound(f"op {op_id} has not been received by store {store_id}")
    return OpResult(
        op_id=op_id, seq=row.seq, status=OpStatus(row.status), reason=row.reason, result=row.result, server_time=row.recorded_at
    )
