"""The change feed (devices pull) and the ERP feed (an ERP or middleware reads), by cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from edge_sync.contract import ChangesPage
from server_stub.api.deps import ServicesDep, StoreId
from server_stub.db import read_transaction
from server_stub.feeds import ErpEventsPage, read_changes, read_erp_events
from server_stub.txn import utcnow

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["feeds"])

Cursor = Annotated[str | None, Query(max_length=40, description="next_cursor of the previous page; empty to start")]
Limit = Annotated[int | None, Query(ge=1, le=5000)]


# The page is serialised here, straight to JSON bytes, rather than by FastAPI's response pipeline
# (validating the returned model again, dumping it to Python objects, then json.dumps), which cost
# more than reading the page; `response_model` keeps the documented schema.
@router.get("/changes", response_model=ChangesPage, summary="What changed for the store since the cursor")
def get_changes(store_id: StoreId, services: ServicesDep, cursor: Cursor = None, limit: Limit = None) -> Response:
    """A page of changes after `cursor`, oldest first, and the cursor to continue from."""
    n = min(limit or services.settings.page_limit, services.settings.max_page_limit)
    with read_transaction(services.engine) as conn:
        page = read_changes(conn, store_id, cursor, n, utcnow())
    return Response(content=page.model_dump_json(), media_type="application/json")


@router.get("/erp/events", response_model=ErpEventsPage, summary="Canonical events for the ERP since the cursor")
def get_erp_events(store_id: StoreId, services: ServicesDep, cursor: Cursor = None, limit: Limit = None) -> ErpEventsPage:
    """A page of ERP events after `cursor`, in the order they happened in the store."""
    n = min(limit or services.settings.page_limit, services.settings.max_page_limit)
    with read_transaction(services.engine) as conn:
        return read_erp_events(conn, store_id, cursor, n, utcnow())
