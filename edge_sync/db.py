"""Opening the device's SQLite file the one way Backroom does it.

- WAL journal, `synchronous=FULL`: an acknowledged commit survives a crash and a power loss.
- A busy timeout, so the sync thread and the UI thread wait for each other instead of failing.
- Every write transaction starts with `BEGIN IMMEDIATE`: the write lock is taken at the start,
  so two writers never both read a seq and then collide at commit (SQLite's default deferred
  BEGIN would upgrade the lock late and fail with SQLITE_BUSY mid-transaction).

pysqlite's own transaction handling is turned off (isolation_level=None) and SQLAlchemy's
`begin` event emits the BEGIN, the recipe from SQLAlchemy's SQLite dialect documentation.

Opt-in, where sqlcipher3 has wheels (desktop platforms; none for Android or iOS): the whole file
encrypted with SQLCipher (`BACKROOM_DB_CIPHER=sqlcipher`, or `cipher="sqlcipher"`). Its raw 32-byte
key lives in the device keystore (`edge_sync.keystore`, under `db-sqlcipher`) and is set by
`PRAGMA key` before any other statement on every connection, the Checkpointer's included. The
columns that matter are AES-GCM-encrypted either way (edge_sync.crypto).
"""

from __future__ import annotations

import importlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import URL, Connection, Engine, QueuePool, create_engine, event

from edge_sync import keystore, migrations

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


CIPHER_ENV = "BACKROOM_DB_CIPHER"
SQLCIPHER = "sqlcipher"
SQLCIPHER_KEY_NAME = "db-sqlcipher"
Cipher = Literal["none", "sqlcipher"]

_DRIVER_TYPES: tuple[type, ...] = (sqlite3.Connection,)
_DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)


class CipherUnavailable(RuntimeError):
    """SQLCipher was asked for and is not installed here."""


def resolve_cipher(cipher: str | None = None) -> Cipher:
    """`cipher`, else `BACKROOM_DB_CIPHER`: "sqlcipher" encrypts the file, unset/"" /"none" does not."""
    value = (os.environ.get(CIPHER_ENV, "") if cipher is None else cipher).strip().lower()
    if value in ("", "none"):
        return "none"
    if value == SQLCIPHER:
        return "sqlcipher"
    raise ValueError(f"{CIPHER_ENV}={value!r} is not known: set it to 'sqlcipher' or leave it unset")


def sqlcipher_dbapi() -> Any:
    """The sqlcipher3 DB-API module; CipherUnavailable when it is not installed."""
    global _DRIVER_TYPES, _DRIVER_ERRORS
    try:
        dbapi = importlib.import_module("sqlcipher3.dbapi2")
    except ImportError as exc:
        raise CipherUnavailable(
            f"SQLCipher is not available on this platform: unset {CIPHER_ENV}; columns are still encrypted "
            "with AES-GCM (to encrypt the whole file install the 'cipher' extra: pip install 'backroom[cipher]')"
        ) from exc
    if dbapi.Connection not in _DRIVER_TYPES:
        _DRIVER_TYPES = (*_DRIVER_TYPES, dbapi.Connection)
        _DRIVER_ERRORS = (*_DRIVER_ERRORS, dbapi.Error)
    return dbapi


def sqlcipher_key(store: keystore.KeyStore | None = None) -> str:
    """The device's SQLCipher key as the raw-key literal `PRAGMA key` takes: x'<64 hex digits>'."""
    secret = keystore.get_or_create_secret(SQLCIPHER_KEY_NAME, store=store, size=32)
    if len(secret) != 32:
        raise keystore.KeyStoreError(f"the keystore entry {SQLCIPHER_KEY_NAME} holds {len(secret)} bytes, not 32: "
                                     "restore the device's key; without it the database cannot be read")
    return f"x'{secret.hex()}'"


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
    # sqlcipher3's connection is pysqlite's, under another module: the same methods, not a subclass.
    assert isinstance(raw, _DRIVER_TYPES)
    return cast(sqlite3.Connection, raw)


def create_device_engine(path: str | Path, *, cipher: str | None = None,
                         store: keystore.KeyStore | None = None) -> Engine:
    """An engine on the device database file at `path`, with Backroom's pragmas and BEGIN IMMEDIATE.

    `cipher` (else `BACKROOM_DB_CIPHER`) "sqlcipher" opens it with SQLCipher, keyed from `store`
    (else the default keystore); CipherUnavailable when sqlcipher3 is not installed.
    """
    path = Path(path)
    url: str | URL = f"sqlite:///{path}"
    if resolve_cipher(cipher) == "sqlcipher":
        sqlcipher_dbapi()
        # SQLAlchemy's pysqlcipher dialect runs `PRAGMA key="<password>"` first on each new
        # connection, before the pragmas below; x'..' makes it SQLCipher's raw key (no KDF).
        url = URL.create("sqlite+pysqlcipher", password=sqlcipher_key(store), database=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        poolclass=QueuePool,  # the pysqlcipher dialect would pick a SingletonThreadPool
        pool_size=4,
        max_overflow=4,
        # Every unit of work ends in an explicit commit or rollback, and a Connection rolls back on
        # close: the pool's own reset on return would be a second, useless rollback per scan.
        pool_reset_on_return=None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
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

    def __init__(self, path: str | Path, *, interval_s: float = 2.0, cipher: str | None = None,
                 store: keystore.KeyStore | None = None) -> None:
        self.path = Path(path)
        # Resolved here, on the caller's thread: a missing sqlcipher3 or key fails at start, loudly.
        self._key = sqlcipher_key(store) if resolve_cipher(cipher) == "sqlcipher" else None
        self._dbapi: Any = sqlcipher_dbapi() if self._key is not None else sqlite3
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
        conn = self._dbapi.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            if self._key is not None:
                conn.execute(f'PRAGMA key = "{self._key}"')  # before any other statement
            while not self._stop.wait(self.interval_s):
                self.checkpoint(conn)
            self.checkpoint(conn)
        except _DRIVER_ERRORS:  # the file went away (a test's temp dir): nothing left to copy
            pass
        finally:
            conn.close()


def open_device_database(path: str | Path, *, cipher: str | None = None,
                         store: keystore.KeyStore | None = None) -> Engine:
    """Open (creating if needed) the device database and migrate it to head.

    `cipher="sqlcipher"` (or `BACKROOM_DB_CIPHER=sqlcipher`) encrypts the whole file; see the module docstring.
    """
    engine = create_device_engine(path, cipher=cipher, store=store)
    migrations.migrate(engine)
    return engine
