"""The sync status the banner and the manager's device board show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, select

from edge_sync.db import driver
from edge_sync.tables import SyncState

_state = SyncState.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Where the device's sync stands."""

    online: bool
    """The last attempt reached the service."""
    pending: int
    oldest_pending_at: dt.datetime | None
    parked: int
    last_success_at: dt.datetime | None
    last_pull_at: dt.datetime | None
    last_error: str | None
    clock_offset_ms: int

    def oldest_pending_age_s(self, now: dt.datetime) -> float | None:
        """How long the oldest unsent op has waited."""
        return None if self.oldest_pending_at is None else max(0.0, (now - self.oldest_pending_at).total_seconds())


def read_status(engine: Engine) -> SyncStatus:
    """Read the outbox and the sync state."""
    with engine.connect() as conn:
        raw = driver(conn)
        pending, oldest = raw.execute("SELECT count(*), min(occurred_at) FROM outbox WHERE state = 'pending'").fetchone()
        parked = raw.execute("SELECT count(*) FROM outbox WHERE state = 'parked'").fetchone()[0]
        row = conn.execute(select(_state)).first()
    if row is None:
        return SyncStatus(False, pending, None, parked, None, None, "this device is not set up for a store", 0)
    return SyncStatus(
        online=row.last_success_at is not None and row.consecutive_failures == 0,
        pending=int(pending),
        oldest_pending_at=None if oldest is None else dt.datetime.fromisoformat(oldest),
        parked=int(parked),
        last_success_at=row.last_success_at,
        last_pull_at=row.last_pull_at,
        last_error=row.last_error,
        clock_offset_ms=int(row.clock_offset_ms),
    )
