"""What the sync banner shows: how much is waiting, and when the device last heard the service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from edge_sync import outbox
from edge_sync.tables import SyncState
from edge_sync.uow import UnitOfWorkFactory

_state = SyncState.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the outbox and the last pull."""

    pending: int
    parked: int
    last_pull_at: dt.datetime | None


def sync_status(uow_factory: UnitOfWorkFactory) -> SyncStatus:
    """Counts of pending and parked ops and the time of the last pull."""
    with uow_factory() as uow:
        counts = outbox.count_by_state(uow.conn)
        row = uow.conn.execute(select(_state.c.last_pull_at)).first()
    return SyncStatus(pending=counts.get("pending", 0), parked=counts.get("parked", 0),
                      last_pull_at=None if row is None else row.last_pull_at)
