"""Operations: liveness with a database round trip, and Prometheus metrics."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import Response

from server_stub.api.deps import ServicesDep
from server_stub.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness, with a database round trip")
def healthz(services: ServicesDep) -> dict[str, str]:
    """`ok` when the database answers."""
    with services.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return {"status": "ok", "database": services.engine.dialect.name}


@router.get(
    "/metrics", summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format"}},
)
def metrics(services: ServicesDep) -> Response:
    """Ops applied / duplicate / rejected, ingest latency, per-device lag and pending age."""
    return Response(content=services.metrics.render(), media_type=CONTENT_TYPE)
