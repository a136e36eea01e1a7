"""Engines, migrations and transactions for SQLite and PostgreSQL, behind one small API.

SQLite: WAL, `synchronous=NORMAL` (on the server a power cut may lose the last committed
transactions but never corrupts the file; devices resend anything not acknowledged, and ops are
idempotent; an acknowledged op that was lost is answered `out_of_order` with the earlier
`expected_seq` on the device's next push, and the device sends those ops again), a 64 MiB page
cache per connection, a busy timeout, and write transactions
opened with `BEGIN IMMEDIATE` so two writers queue up front instead of failing at commit.
PostgreSQL: a plain pool; writers serialize per store by locking the store's counter row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import operator
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from pydantic_core import TzInfo, to_json
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536
SQLITE_AUTOCHECKPOINT_PAGES = 20_000
CHECKPOINT_EVERY_COMMITS = 8
CHECKPOINTER_IDLE_S = 5.0
_WRITE = "backroom_write"


def create_engine_for(url: str | sa.URL, **kwargs: Any) -> Engine:
    """An engine for `url` with the pragmas and transaction begin behaviour the service relies on."""
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {})
        kwargs["connect_args"].setdefault("check_same_thread", False)
        kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 16)
        engine = sa.create_engine(u, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(u, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        # 64 MiB of page cache per connection (the default is 2 MiB): op ids are random UUIDs, so
        # appends to the ops index land all over it, and a small cache turns each into a read.
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        driver_run(conn, "BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN", ())


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    """True when the connection or engine talks to SQLite."""
    return conn_or_engine.dialect.name == "sqlite"


class _Writers:
    """This process's queue of SQLite writers on one database, and its checkpointer.

    Every CHECKPOINT_EVERY_COMMITS commits, a background thread runs a PASSIVE checkpoint (WAL
    frames copied into the database file, then synced) on its own connection. It takes no write
    lock, so writers go on meanwhile, and it runs in C with the GIL released, so the pushes' Python
    work goes on too. SQLite's own automatic checkpoint would run inside the committing writer's
    transaction (tens of ms once the ops index is large); it stays on, set high
    (SQLITE_AUTOCHECKPOINT_PAGES), as the backstop for writes outside write_transaction. The
    thread ends after CHECKPOINTER_IDLE_S without work and is started again when needed.

    Writers of other processes on the same file (`backroom server --workers N`) queue on an
    exclusive `flock` of a lock file beside the database (`writer_lock_path`), taken after
    `lock`: the kernel wakes the next writer as soon as one is done, where SQLite's own busy
    handler would have polled with sleeps of up to 100 ms.
    """

    def __init__(self, database: str | None = None) -> None:
        self.lock = threading.Lock()
        self.commits = 0
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._lock_path = writer_lock_path(database) if database else None

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """This writer's turn: the process's lock, then the file's (other processes).

        The lock file is opened for each turn (a few µs, once per batch) rather than kept open, so
        that the many engines a process may make and drop leave no descriptors behind.
        """
        with self.lock:
            if self._lock_path is None:
                yield
                return
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks with the GIL released
                yield
            finally:
                os.close(fd)  # releases the lock

    def committed(self, engine: Engine) -> None:
        """Count a commit (under `lock`); every so often, ask for a checkpoint."""
        self.commits += 1
        if self.commits % CHECKPOINT_EVERY_COMMITS:
            return
        self._wanted.set()
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, args=(weakref.ref(engine),), name="backroom-sqlite-checkpoint", daemon=True
                )
                self._thread.start()

    def _run(self, engine_ref: weakref.ref[Engine]) -> None:
        while self._wanted.wait(timeout=CHECKPOINTER_IDLE_S):
            self._wanted.clear()
            engine = engine_ref()
            if engine is None:
                return
            _checkpoint(engine)
            del engine


_SQLITE_WRITERS: dict[int, _Writers] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def writer_lock_path(database: str) -> Path:
    """The lock file the writers of every process on the SQLite file `database` queue on."""
    return Path(f"{database}-writers.lock")


def _writers(engine: Engine) -> _Writers:
    with _SQLITE_WRITERS_GUARD:
        found = _SQLITE_WRITERS.get(id(engine.pool))
        if found is None:
            database = engine.url.database
            in_memory = not database or database == ":memory:" or database.startswith("file:")
            found = _SQLITE_WRITERS[id(engine.pool)] = _Writers(None if in_memory else database)
        return found


def _checkpoint(engine: Engine) -> None:
    try:
        raw = engine.raw_connection()
    except Exception as exc:  # noqa: BLE001 - a checkpoint that cannot run now runs next time
        log.debug("checkpoint skipped: %s", exc)
        return
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
    except Exception as exc:  # noqa: BLE001
        log.debug("checkpoint skipped: %s", exc)
    finally:
        raw.close()


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a write transaction (`BEGIN IMMEDIATE` on SQLite), committed on exit."""
    if is_sqlite(engine):
        # SQLite has one writer at a time. Queue this process's writers on a lock: SQLite's own
        # busy handler polls with sleeps of up to 100 ms, which wrecks latency under contention.
        # Other processes (several uvicorn workers) still meet at BEGIN IMMEDIATE.
        writers = _writers(engine)
        with writers.turn(), engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn
            writers.committed(engine)
        return
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextlib.contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a read-only transaction (one consistent snapshot)."""
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    *,
    update: Sequence[str] | None = None,
    increment: Sequence[str] = (),
) -> None:
    """Insert rows, or on a key conflict overwrite `update` columns and add to `increment` columns."""
    if not rows:
        return
    insert: Any
    if is_sqlite(conn):
        insert = sqlite.insert(table)
    else:
        insert = postgresql.insert(table)
    columns = list(rows[0].keys())
    to_set: dict[str, Any] = {}
    for name in update if update is not None else [c for c in columns if c not in key]:
        if name not in increment:
            to_set[name] = insert.excluded[name]
    for name in increment:
        to_set[name] = table.c[name] + insert.excluded[name]
    if to_set:
        stmt = insert.on_conflict_do_update(index_elements=list(key), set_=to_set)
    else:
        stmt = insert.on_conflict_do_nothing(index_elements=list(key))
    conn.execute(stmt, list(rows))


def marker(conn: Connection) -> str:
    """The DBAPI parameter marker of the connection's driver (`?` or `%s`), for driver-level SQL."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def driver_run(conn: Connection, sql: str, params: Any, *, many: bool = False, fetch: bool = False) -> list[Any]:
    """Run driver-level SQL on the connection's own DBAPI cursor, in its transaction; the rows when `fetch`.

    What `conn.exec_driver_sql` does, without SQLAlchemy's execution context and result objects:
    about 50 µs a statement here against 3 µs for the driver's own call, and a 100-op push runs
    some fifteen statements while it holds the store's write lock. A driver error is raised as
    SQLAlchemy's (IntegrityError, OperationalError, ...), as `exec_driver_sql` raises it. No
    cursor events fire.
    """
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        return list(cursor.fetchall()) if fetch else []
    except conn.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect, ismulti=many
        ) from exc
    finally:
        cursor.close()


def binder(conn: Connection, column: sa.Column[Any]) -> Callable[[Any], Any]:
    """What the column's type does to a Python value before it goes to the driver."""
    proc = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return proc if proc is not None else _same


def loader(conn: Connection, column: sa.Column[Any]) -> Callable[[Any], Any]:
    """What the column's type does to a value the driver returns."""
    proc = column.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
    return proc if proc is not None else _same


def _same(value: Any) -> Any:
    return value


def select_in(
    conn: Connection, sql: str, values: Sequence[Any], *, before: Sequence[Any] = (), after: Sequence[Any] = (), width: int = 1
) -> list[Any]:
    """Rows of driver-level `sql` whose `{in}` is a list of `values`, or `VALUES` rows of `width` tuples.

    `before` and `after` are the parameters around the list. Values are bound as given (see `binder`). This
    skips Core's compilation of an expanding IN, which costs more than the query on a batch's
    worth of ids; hot read paths of the ingest use it.
    """
    m = marker(conn)
    out: list[Any] = []
    chunk = max(1, 500 // width)
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        if width == 1:
            listed = ", ".join([m] * len(part))
            params = [*before, *part, *after]
        else:
            row = "(" + ", ".join([m] * width) + ")"
            listed = "VALUES " + ", ".join([row] * len(part))
            params = [*before, *(v for key in part for v in key), *after]
        out.extend(driver_run(conn, sql.format(**{"in": listed}), tuple(params), fetch=True))
    return out


_BINDERS: dict[tuple[str, str, str], Callable[[Any], Any]] = {}


def _bound(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> list[Any]:
    out = []
    for name, value in values.items():
        key = (conn.dialect.name, table.name, name)
        bind = _BINDERS.get(key)
        if bind is None:
            bind = _BINDERS[key] = binder(conn, table.c[name])
        out.append(bind(value))
    return out


def fast_update(conn: Connection, table: sa.Table, where: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """UPDATE `table` SET `values` WHERE the `where` columns equal theirs, at driver level (values bound as Core would)."""
    m, q = marker(conn), conn.dialect.identifier_preparer
    sql = (
        f"UPDATE {q.format_table(table)} SET {', '.join(f'{q.quote(c)} = {m}' for c in values)} "
        f"WHERE {' AND '.join(f'{q.quote(c)} = {m}' for c in where)}"
    )
    driver_run(conn, sql, tuple(_bound(conn, table, values) + _bound(conn, table, where)))


def fast_insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]) -> None:
    """`insert_ignore` at driver level: rows (all with the same columns) whose key exists are skipped."""
    if not rows:
        return
    m, q = marker(conn), conn.dialect.identifier_preparer
    columns = list(rows[0])
    sql = (
        f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "
        f"VALUES ({', '.join([m] * len(columns))}) ON CONFLICT ({', '.join(q.quote(c) for c in key)}) DO NOTHING"
    )
    driver_run(conn, sql, [tuple(_bound(conn, table, row)) for row in rows], many=True)


def add_to(
    conn: Connection, table: sa.Table, key: Sequence[str], column: str, rows: Sequence[Sequence[Any]], *,
    stamp: str | None = None,
) -> None:
    """Add each row's amount to `column` of the row with that key, inserting it when new.

    Rows are tuples `(*key, amount)` of plain values (no type conversion), each key at most once;
    with `stamp`, `(*key, amount, value)`, and the `stamp` column is set to `value` on insert and on
    update alike (the change feed's seq of a balance). One executemany of
    `INSERT .. ON CONFLICT DO UPDATE`.
    """
    if not rows:
        return
    m, q = marker(conn), conn.dialect.identifier_preparer
    target = q.format_table(table)
    names = [q.quote(c) for c in (*key, column)]
    keys = ", ".join(names[: len(key)])
    assign = f"{names[-1]} = {target}.{names[-1]} + excluded.{names[-1]}"
    if stamp is not None:
        names.append(q.quote(stamp))
        assign += f", {names[-1]} = excluded.{names[-1]}"
    sql = (
        f"INSERT INTO {target} ({', '.join(names)}) VALUES ({', '.join([m] * len(names))}) "
        f"ON CONFLICT ({keys}) DO UPDATE SET {assign}"
    )
    driver_run(conn, sql, [tuple(row) for row in rows], many=True)


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]) -> None:
    """Insert rows, silently skipping those whose key already exists."""
    upsert(conn, table, rows, key, update=[])


# --- migrations -----------------------------------------------------------------------------------

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at this package's migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine_or_url: Engine | str) -> None:
    """Bring the database schema to the newest migration (`alembic upgrade head`)."""
    if isinstance(engine_or_url, str):
        engine = create_engine_for(engine_or_url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        return
    cfg = alembic_config()
    with engine_or_url.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if conn.in_transaction():
            conn.commit()


def _json_text(value: Any) -> str:
    # pydantic-core's serializer: the same JSON as the JSON type's json.dumps (compact), ~8x faster.
    return to_json(value).decode()


_CHECK_TIMES = (
    dt.datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=dt.UTC),
    dt.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 30, 5, 7, tzinfo=dt.timezone(dt.timedelta(0), "Z")),
    dt.datetime(2026, 3, 29, 1, 30, 5, 8, tzinfo=TzInfo(0)),
    dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=TzInfo(0)),
)


def _utc_text_or(proc: Callable[[Any], Any]) -> tuple[Callable[[Any], Any], Callable[[str], str] | None]:
    """A SQLite time column's converter with a fast path for UTC datetimes (nearly all of them).

    `proc` (the column type's own: UTCDateTime, then SQLAlchemy's SQLite DATETIME) turns a UTC
    datetime into naive `YYYY-MM-DD HH:MM:SS.ffffff` text through two layers of Python; isoformat
    writes the same text in C. The fast path is used only if it gives `proc`'s very text on sample
    values (so a change of storage format upstream falls back rather than mixing formats); any other
    value (naive, another zone, None) goes through `proc`. A UTC time is `dt.UTC`'s, or any other
    zone at offset zero: the times of a parsed request carry pydantic's own UTC zone object.

    The second function gives the same text from an aware time's UTC isoformat already made (the
    fingerprint makes it for every op), under the same check; None where the fast path is not used.
    """
    utc, zero = dt.UTC, dt.timedelta(0)

    def fast(value: Any) -> Any:
        if type(value) is dt.datetime and (value.tzinfo is utc or (value.tzinfo is not None and value.utcoffset() == zero)):
            # The text of the naive time is that of the aware one without its "+00:00": cut, not
            # made by a replace(tzinfo=None), which costs more than the formatting.
            return value.isoformat(" ", "microseconds")[:-6]
        return proc(value)

    if all(fast(v) == proc(v) == _naive_text_of_utc_iso(v.astimezone(utc).isoformat()) for v in _CHECK_TIMES):
        return fast, _naive_text_of_utc_iso
    return proc, None


def _naive_text_of_utc_iso(iso: str) -> str:
    """`YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` (isoformat leaves out zero microseconds) as the naive
    `YYYY-MM-DD HH:MM:SS.ffffff` SQLite stores."""
    if len(iso) == 32:
        return f"{iso[:10]} {iso[11:26]}"
    return f"{iso[:10]} {iso[11:19]}.000000"


Memo = dict[str, dict[int, tuple[Any, Any]]]
"""Conversions already made, by column type, then by the value's id: (value, converted)."""


class FastInsert:
    """An INSERT for many rows of one table, run as a plain DBAPI executemany.

    Each value is converted as its column type's own bind processor would (so what is stored is
    what a Core insert would store), but without Core's per-row statement machinery, which is
    most of the cost when a batch appends a few hundred rows. JSON values are serialized once,
    with pydantic-core's serializer instead of the JSON type's json.dumps.
    """

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        self.columns = [c.name for c in table.columns]
        preparer = dialect.identifier_preparer
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in self.columns)}) "
            f"VALUES ({', '.join([marker] * len(self.columns))})"
        )
        self.values = operator.itemgetter(*self.columns)
        self.converters: list[tuple[int, Callable[[Any], Any], str | None]] = []
        self.from_utc_iso: dict[str, Callable[[str], str]] = {}
        for i, c in enumerate(table.columns):
            proc: Callable[[Any], Any] | None = (
                _json_text if isinstance(c.type, sa.JSON) else c.type.dialect_impl(dialect).bind_processor(dialect)
            )
            if proc is None:
                continue
            is_time = isinstance(c.type, sa.DateTime) or isinstance(getattr(c.type, "impl", None), sa.DateTime)
            if is_time and dialect.name == "sqlite":
                proc, from_iso = _utc_text_or(proc)
                if from_iso is not None:
                    self.from_utc_iso[c.name] = from_iso
            # A batch repeats the same timestamps and op ids (an op's row, its ledger rows, its ERP
            # event) many times, as the very same objects: convert each object once, per column
            # type (every column of one type converts alike). A memo may also come seeded with
            # conversions made before the write transaction (`seed`).
            shared = type(c.type).__name__ if is_time or isinstance(c.type, (sa.Uuid, sa.JSON)) else None
            self.converters.append((i, proc, shared))
        self.by_name = {self.columns[i]: (proc, shared) for i, proc, shared in self.converters}

    def seed(self, memo: Memo, column: str, values: Sequence[Any]) -> None:
        """Convert `values` of `column` now, into `memo`, for an insert to come (each value must be
        kept alive until then: the memo holds it). A column the driver takes as is needs nothing."""
        found = self.by_name.get(column)
        if found is None:
            return
        proc, shared = found
        if shared is None:
            raise ValueError(f"column {column} is not converted through the memo")
        seen = memo.setdefault(shared, {})
        for v in values:
            hit = seen.get(id(v))
            if hit is None or hit[0] is not v:  # the same object in two columns is converted once
                seen[id(v)] = (v, proc(v))

    def seed_times(self, memo: Memo, column: str, values: Sequence[dt.datetime], utc_isos: Sequence[str]) -> None:
        """`seed` for a time column, given each value's `astimezone(dt.UTC).isoformat()` made already:
        where the column stores the text the fast path makes, an aware value's text is reshaped from
        that isoformat rather than formatted again."""
        from_iso = self.from_utc_iso.get(column)
        if from_iso is None:
            self.seed(memo, column, values)
            return
        proc, shared = self.by_name[column]
        assert shared is not None
        seen = memo.setdefault(shared, {})
        for v, iso in zip(values, utc_isos, strict=True):
            hit = seen.get(id(v))
            if hit is None or hit[0] is not v:
                seen[id(v)] = (v, from_iso(iso) if type(v) is dt.datetime and v.tzinfo is not None else proc(v))

    def execute(self, conn: Connection, rows: Sequence[Mapping[str, Any]], memo: Memo | None = None) -> None:
        """Insert the rows (dicts keyed by column name; a missing column is NULL, a None JSON is null).

        `memo` carries conversions of times and ids from one call to the next (the tables of one
        flush): pass the same dict, and drop it when they are written.
        """
        memo = {} if memo is None else memo
        try:
            records: list[Any] = list(map(self.values, rows))
        except KeyError:
            records = [tuple(row.get(name) for name in self.columns) for row in rows]
        if self.converters:
            columns: list[Any] = list(zip(*records, strict=True))
            for i, proc, shared in self.converters:
                if shared is not None:
                    # By identity (an aware datetime's hash would ask its tzinfo for the offset);
                    # the memo keeps each value alive, so its id cannot be reused meanwhile.
                    seen = memo.setdefault(shared, {})
                    converted = []
                    for v in columns[i]:
                        hit = seen.get(id(v))
                        if hit is None or hit[0] is not v:
                            hit = seen[id(v)] = (v, proc(v))
                        converted.append(hit[1])
                    columns[i] = converted
                else:
                    columns[i] = list(map(proc, columns[i]))
            records = list(zip(*columns, strict=True))
        driver_run(conn, self.sql, records, many=True)


_FAST: dict[tuple[str, str], FastInsert] = {}


def fast_insert(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], memo: Memo | None = None) -> None:
    """Append rows to a table with one executemany (see FastInsert; `memo` as there)."""
    if not rows:
        return
    fast_writer(conn.dialect, table).execute(conn, rows, memo)


def fast_writer(dialect: sa.Dialect, table: sa.Table) -> FastInsert:
    """The bulk writer of `table` for `dialect` (made once)."""
    key = (dialect.name, table.name)
    writer = _FAST.get(key)
    if writer is None:
        writer = _FAST[key] = FastInsert(table, dialect)
    return writer
