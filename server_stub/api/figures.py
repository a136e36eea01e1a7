"""The manager's figures: receive-to-putaway, count accuracy, pick fill rate, sync lag; stock waiting on the dock."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from edge_sync.contract import StoreFiguresRecord, WaitingPutawayRecord
from server_stub import figures
from server_stub.api.deps import ServicesDep, StoreId
from server_stub.db import read_transaction
from server_stub.errors import InvalidRequest

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["figures"])


def _aware(value: dt.datetime | None, name: str) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    if value.tzinfo is None:
        raise InvalidRequest(f"{name} needs a timezone, e.g. 2025-03-01T10:00:00Z")
    return value.astimezone(dt.UTC)


@router.get("/figures", response_model=StoreFiguresRecord)
def get_figures(
    store_id: StoreId,
    services: ServicesDep,
    hours: Annotated[float, Query(gt=0, le=24 * 92)] = 24,
    until: dt.datetime | None = None,
) -> StoreFiguresRecord:
    """The store's figures over the `hours` before `until` (default: now)."""
    end = _aware(until, "until")
    with read_transaction(services.engine) as conn:
        return figures.store_figures(conn, store_id, since=end - dt.timedelta(hours=hours), until=end)


@router.get("/putaway-waiting", response_model=list[WaitingPutawayRecord], tags=["exceptions"])
def get_waiting_putaway(
    store_id: StoreId,
    services: ServicesDep,
    older_than_minutes: Annotated[float, Query(ge=0, le=60 * 24 * 92)] = figures.DEFAULT_WAITING_MINUTES,
    at: dt.datetime | None = None,
) -> list[WaitingPutawayRecord]:
    """Units received and still not put away `older_than_minutes` after they arrived (default 60), oldest first."""
    now = _aware(at, "at")
    with read_transaction(services.engine) as conn:
        return figures.waiting_putaway(conn, store_id, now=now, older_than_minutes=older_than_minutes)
