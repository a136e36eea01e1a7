"""The composition root: `create_app(database_url)` builds the engine, migrates, wires services."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from server_stub.api import enrolment, feeds, health, ops, store, tasks
from server_stub.api import figures as figures_api
from server_stub.api.deps import Services, signed_device
from server_stub.api.readers import read_gate
from server_stub.balance import Balance, Board, ShedConnections, heartbeat
from server_stub.db import create_engine_for, is_sqlite, migrate
from server_stub.errors import ServiceError
from server_stub.ingest import Ingestor
from server_stub.limits import document_errors, install_limits
from server_stub.metrics import Metrics
from server_stub.settings import Settings
from server_stub.signatures import SignatureGuard

log = logging.getLogger(__name__)


def create_app(database_url: str, *, settings: Settings | None = None, run_migrations: bool = True,
               workers_dir: Path | None = None) -> FastAPI:
    """The central inventory service as an ASGI app on `database_url` (SQLite or PostgreSQL).

    `workers_dir` is the folder the worker processes of one `backroom server --workers N` share to
    spread their connections (server_stub.balance); None for a single process.
    """
    settings = settings or Settings()
    engine = create_engine_for(database_url)
    if run_migrations:
        migrate(engine)
    services = Services(engine=engine, settings=settings, ingestor=Ingestor(engine, settings), metrics=Metrics(engine))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if is_sqlite(engine):
            # On SQLite, pushes run one at a time in a worker thread: they queue for the one writer
            # anyway, and several CPU-bound threads make each other wait for the GIL at every
            # release (sqlite3 lets it go per row of an executemany), which cost ~15% of throughput
            # with 4 devices pushing. PostgreSQL pushes keep the shared thread pool.
            app.state.push_limiter = anyio.CapacityLimiter(1)
        async with contextlib.AsyncExitStack() as stack:
            if workers_dir is not None:
                await stack.enter_async_context(heartbeat(balance, Board(workers_dir)))
            yield
        engine.dispose()

    app = FastAPI(
        title="Backroom central inventory service",
        version="1",
        description="Idempotent op ingest, stock ledger, tasks with leases, change feed and ERP feed, per store.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_limits(app, settings)
    balance = Balance()
    if workers_dir is not None:  # outermost: every request counts
        app.add_middleware(ShedConnections, balance=balance, on_shed=services.metrics.connections_shed.inc)

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.to_json()})

    @app.exception_handler(DBAPIError)
    async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("database error: %s", exc.__class__.__name__, exc_info=exc)
        return JSONResponse(
            status_code=503,
            content={"detail": {"code": "database_unavailable", "message": "the database did not answer; retry"}},
            headers={"Retry-After": "1"},
        )

    # Every store endpoint takes only requests signed by an approved device of that store
    # (server_stub.signatures); /healthz and /metrics stay open for the platform's probes.
    app.state.signature_guard = SignatureGuard(engine, settings)
    # ...and every store GET is judged by the table of reads (server_stub.authz.READS), after the device.
    signed = [Depends(signed_device), Depends(read_gate)]
    for module in (ops, feeds, tasks, store, health):
        app.include_router(module.router, dependencies=[] if module is health else signed)
    app.include_router(figures_api.router, dependencies=signed)
    app.include_router(enrolment.router, dependencies=signed)
    app.include_router(enrolment.public_router)

    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate_openapi()
            ops.document_push_body(document)
            document_errors(document)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    return app


DATABASE_URL_ENV = "BACKROOM_DATABASE_URL"


def app_from_env() -> FastAPI:
    """The app for uvicorn's factory mode (several workers): URL from BACKROOM_DATABASE_URL, already migrated."""
    import os

    from server_stub import heap

    from server_stub.balance import WORKERS_DIR_ENV

    folder = os.environ.get(WORKERS_DIR_ENV)
    app = create_app(os.environ[DATABASE_URL_ENV], run_migrations=False, workers_dir=Path(folder) if folder else None)
    heap.settle()  # this worker process's collector, as `backroom server` sets it (server_stub.heap)
    return app
