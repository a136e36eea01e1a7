"""Op ingest: a batch push, and a single op by its id (the idempotency key)."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from edge_sync.contract import Op, OpResult, OpStatus, PushRequest, PushResponse
from server_stub import tables as t
from server_stub.api.deps import ServicesDep, StoreId
from server_stub.db import read_transaction
from server_stub.errors import InvalidRequest, NotFound
from server_stub.ingest import IngestReport

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["ops"])


def _timed_push(services: ServicesDep, store_id: str, request: PushRequest) -> IngestReport:
    start = time.perf_counter()
    report = services.ingestor.push(store_id, request)
    services.metrics.observe_push(report, time.perf_counter() - start)
    return report


@router.post("/ops", response_model=PushResponse, summary="Push a batch of ops, in seq order")
def push_ops(store_id: StoreId, body: PushRequest, services: ServicesDep) -> Response:
    """Apply each op once; answer applied / duplicate / rejected / out_of_order per op."""
    report = _timed_push(services, store_id, body)
    response = PushResponse(results=report.results, server_time=report.server_time)
    return Response(content=response.model_dump_json(), media_type="application/json")


@router.put(
    "/ops/{op_id}",
    response_model=OpResult,
    summary="Send one op by its id",
    responses={422: {"description": "op_id reused with a different payload, or an op_id that does not match"}},
)
def put_op(store_id: StoreId, op_id: uuid.UUID, body: Op, services: ServicesDep) -> Response:
    """Apply one op; the same op again answers the stored result, a different payload 422."""
    if body.op_id != op_id:
        raise InvalidRequest(f"the body's op_id {body.op_id} does not match the path's {op_id}")
    report = _timed_push(services, store_id, PushRequest(ops=[body]))
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
