"""Opening the device's SQLite file the one way Backroom does it.

- WAL journal, `synchronous=FULL`: an acknowledged commit survives a crash and a power loss.
- A busy timeout, so the sync thread and the UI thread wait for each other instead of failing.
- Every write transaction starts with `BEGIN IMMEDIATE`: the write lock is taken at the start,
  so two writers never both read a seq and then collide at commit (SQLite's default deferred
  BEGIN would upgrade the lock late and fail with SQLITE_BUSY mid-transaction).

pysqlite's own transaction handling is turned off (isolation_level=None) and SQLAlchemy's
`begin` event emits the BEGIN, the recipe from SQLAlchemy's SQLite dialect documentation.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from edge_sync import migrations

BUSY_TIMEOUT_MS = 5_000

AUTOCHECKPOINT_PAGES = 10_000
"""A safety net only: checkpoints normally run off the scan path, in a `Checkpointer` thread. With
SQLite's default (1,000 pages) about one scan in a hundred paid for a checkpoint inside its commit."""

PRAGMAS: tuple[str, ...] = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}",
)


def apply_pragmas(dbapi_conn: sqlite3.Connection) -> None:
    """Set the pragmas Backroom relies on; shared with the raw-sqlite3 reference in the benches."""
    cursor = dbapi_conn.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def driver(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy connection, inside the same transaction.

    The statements every scan runs (GTIN lookup, receipt line, outbox append, command dedupe) go
    straight to sqlite3: SQLAlchemy's per-statement work costs several times SQLite's own there
    (bench/scan_to_durable.py). Everything else uses SQLAlchemy Core.
    """
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def create_device_engine(path: str | Path) -> Engine:
    """An engine on the device database file at `path`, with Backroom's pragmas and BEGIN IMMEDIATE."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=4,
        max_overflow=4,
        # Every unit of work ends in an explicit commit or rollback, and a Connection rolls back on
        # close: the pool's own reset on return would be a second, useless rollback per scan.
        pool_reset_on_return=None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        apply_pragmas(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        raw = driver(conn)
        # A unit of work begins on sqlite3 itself (edge_sync.uow): SQLAlchemy's transaction,
        # autobegun by a Core statement inside it, joins that one instead of nesting a BEGIN.
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")

    return engine


class Checkpointer:
    """Copies the WAL back into the database file every few seconds, on its own thread.

    PASSIVE checkpoints take no lock a writer waits for, so a scan's commit never pays for one;
    the WAL stays as small as a few seconds of work.
    """

    def __init__(self, path: str | Path, *, interval_s: float = 2.0) -> None:
        self.path = Path(path)
        self.interval_s = interval_s
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)

    def start(self) -> Checkpointer:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after a last checkpoint."""
        self._stop.set()
        self._thread.join(10)

    def checkpoint(self, conn: sqlite3.Connection) -> None:
        """One PASSIVE checkpoint."""
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval_s):
                self.checkpoint(conn)
            self.checkpoint(conn)
        except sqlite3.Error:  # the file went away (a test's temp dir): nothing left to copy
            pass
        finally:
            conn.close()


def open_device_database(path: str | Path) -> Engine:
    """Open (creating if needed) the device database and migrate it to head."""
    engine = create_device_engine(path)
    migrations.migrate(engine)
    return engine
