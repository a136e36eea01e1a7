"""What the sync banner shows, in words: online or not, what waits, when the device last synced."""

from __future__ import annotations

from sqlalchemy import Engine

from edge_sync.status import SyncStatus, read_status

__all__ = ["SyncStatus", "sync_status"]


def sync_status(engine: Engine) -> SyncStatus:
    """The device's sync status."""
    return read_status(engine)
