"""A store's write transaction: counters, buffered appends, ledger postings and feed rows.

Every write to a store goes through one `StoreTx`: the ingest of a batch of ops, a task or
exception endpoint, an approval, the master data loader. It

- opens a write transaction and locks the store's counter row first, so sequence numbers
  (changes, ERP events, ledger entries, exceptions) are handed out in commit order;
- buffers the append-only rows (ledger, changes, ERP events, ops, exceptions) and writes them with
  one executemany per table at `flush()`, which is what makes a batch of 100 ops cheap;
- keeps the derived `balances` table in step with the ledger in the same transaction; a touched
  balance row takes the next change seq, which makes it its own entry in the change feed;
- can take a `mark()` and `rollback_to(mark)` to drop what one op buffered when it is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from edge_sync.contract import ChangeKind, StockStatus
from server_stub import tables as t
from server_stub.db import (
    Memo,
    add_to,
    binder,
    driver_run,
    fast_insert,
    fast_insert_ignore,
    fast_update,
    is_sqlite,
    loader,
    marker,
    select_in,
    write_transaction,
)

class WrittenWith(Protocol):
    """Something written in the same transaction as a store's work (a signed request's nonce)."""

    def write(self, conn: Connection) -> None:
        """Insert it in `conn`'s transaction."""
        ...

    def committed(self) -> None:
        """That transaction committed."""
        ...


BalanceKey = tuple[str, str, str]
"""(item_id, location_id, status)"""

_COUNTERS = ("change_seq", "erp_seq", "ledger_seq", "exception_seq", "approval_seq")
_OCCUPYING = tuple(s.value for s in StockStatus if s is not StockStatus.IN_TRANSIT)


COUNT_REASON = "count"
"""The ledger reason of a count's adjustment (and of its zero-delta anchor)."""
REBASE_REASON = "count_rebase"
"""The ledger reason of putting back a late movement a count had already seen."""
_AVAILABLE = StockStatus.AVAILABLE.value
# The predicate of the ledger's partial index ix_ledger_count_anchors (tables.py, migration 0002).
_COUNT_ANCHOR_WHERE = f"l.reason = '{COUNT_REASON}' AND l.status = '{_AVAILABLE}'"


def _as_utc(at: dt.datetime) -> dt.datetime:
    """An aware time as is (comparisons are by instant); a naive one taken as UTC, as UTCDateTime stores it."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """The server clock, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def balance_key_str(key: BalanceKey) -> str:
    """The change-feed key of a balance: `item_id|location_id|status`."""
    return "|".join(key)


@dataclass(slots=True)
class Mark:
    """Where the buffers stood before one op, to drop its work if it is refused."""

    generation: int
    lengths: tuple[int, ...]
    counters: tuple[int, ...]


class StoreTx:
    """The write transaction of one store; see the module docstring."""

    def __init__(self, conn: Connection, store_id: str, now: dt.datetime | None = None, memo: Memo | None = None) -> None:
        self.conn = conn
        self.memo: Memo = memo if memo is not None else {}
        """Conversions of times, ids and JSON values for the inserts (see db.FastInsert), kept for
        the transaction; a caller may seed it before the transaction opens."""
        self.store_id = store_id
        self.now = now or utcnow()
        self._counters: dict[str, int] = {}
        self._tables: list[sa.Table] = [t.ops, t.ledger, t.exceptions, t.erp_events, t.changes]
        self._rows: dict[sa.Table, list[dict[str, Any]]] = {tb: [] for tb in self._tables}
        self._buffers = tuple(self._rows[tb] for tb in self._tables)
        self._postings: list[tuple[BalanceKey, int]] = []
        self._loc_pending: dict[str, int] = {}
        self._loc_db: dict[str, int] = {}
        self.raised: dict[str, tuple[str, str]] = {}
        """Exceptions opened in this transaction: id -> (kind, summary), for op results."""
        self._generation = 0
        self.caches: dict[str, dict[str, Any]] = {}
        """Per-transaction lookups (items, locations, users), filled by the readers in lookups.py."""
        self.master_version = ""
        """The store's master data version, read by `lock_store` ("" when unknown: nothing is shared)."""
        self._master_changed = False
        self._counted_until: dt.datetime | None = None
        """The store's latest count, as `lock_store` read it (stores.last_count_at)."""
        self._newest_count: dt.datetime | None = None
        """The latest count posted in this transaction (flushed or not, kept even if undone: it only
        ever makes the rebase look further)."""

    # -- opening and closing ---------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def open(cls, engine: Engine, store_id: str, now: dt.datetime | None = None, *,
             nonce: WrittenWith | None = None, memo: Memo | None = None) -> Iterator[StoreTx]:
        """A locked write transaction for `store_id`, flushed and committed when the block ends.

        `nonce` (the signed request's, server_stub.signatures) is inserted in this transaction, so the
        request's work and its nonce commit together or not at all.
        """
        with write_transaction(engine) as conn:
            tx = cls(conn, store_id, now, memo)
            tx.lock_store()
            if nonce is not None:
                nonce.write(conn)
            yield tx
            tx.finish()
        if nonce is not None:
            nonce.committed()

    def lock_store(self) -> None:
        """Create the store row if new, lock it (PostgreSQL) and read its counters."""
        fast_insert_ignore(self.conn, t.stores, [{"store_id": self.store_id, "created_at": self.now}], ["store_id"])
        sql = f"SELECT {', '.join(_COUNTERS)}, master_version, last_count_at FROM stores WHERE store_id = {marker(self.conn)}"
        if not is_sqlite(self.conn):
            sql += " FOR UPDATE"
        (*counters, self.master_version, last_count_at), = driver_run(self.conn, sql, (self.store_id,), fetch=True)
        self._counters = dict(zip(_COUNTERS, counters, strict=True))
        self._counted_until = loader(self.conn, t.stores.c.last_count_at)(last_count_at)

    def new_master_version(self) -> str:
        """Give the store's master data a new version (written by `finish`), from now on in this
        transaction too: what it reads of the new master data is kept under the new version only."""
        self.master_version = uuid.uuid4().hex
        self._master_changed = True
        return self.master_version

    def next(self, counter: str) -> int:
        """The next number of one of the store's counters."""
        value = self._counters[counter] + 1
        self._counters[counter] = value
        return value

    def counter(self, counter: str) -> int:
        """The last number handed out by one of the store's counters."""
        return self._counters[counter]

    def finish(self) -> None:
        """Flush everything, store the counters (and a new master data version)."""
        self.flush()
        values: dict[str, Any] = dict(self._counters)
        if self._master_changed:
            values["master_version"] = self.master_version
        if self._newest_count is not None and (self._counted_until is None or self._newest_count > self._counted_until):
            values["last_count_at"] = self._newest_count
        fast_update(self.conn, t.stores, {"store_id": self.store_id}, values)

    # -- buffered writes -------------------------------------------------------------------------

    def append(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Buffer one row of an append-only table (ops, ledger, exceptions, erp_events, changes)."""
        row["store_id"] = self.store_id
        self._rows[table].append(row)

    def change(self, kind: ChangeKind, key: str, data: dict[str, Any] | None) -> None:
        """Record a change for the store's change feed."""
        self.append(
            t.changes,
            {"change_seq": self.next("change_seq"), "kind": kind.value, "key": key, "data": data, "recorded_at": self.now},
        )

    def erp(self, event_type: str, data: dict[str, Any], *, occurred_at: dt.datetime, op_id: uuid.UUID | None) -> None:
        """Record a canonical event for the ERP feed."""
        self.append(
            t.erp_events,
            {
                "event_seq": self.next("erp_seq"),
                "type": event_type,
                "occurred_at": occurred_at,
                "recorded_at": self.now,
                "op_id": op_id,
                "data": data,
            },
        )

    def post(
        self,
        item_id: str,
        location_id: str,
        status: str,
        delta: int,
        *,
        effective_at: dt.datetime,
        reason: str,
        op_id: uuid.UUID | None = None,
    ) -> None:
        """Post one signed delta to the ledger (and, at flush, to the current balance).

        A zero delta is posted only for a count (reason "count"): it is the count's anchor in time,
        which a movement that arrives later but took effect before it is rebased on (see flush).
        """
        if delta == 0 and reason != COUNT_REASON:
            return
        if reason == COUNT_REASON and status == _AVAILABLE:
            at = _as_utc(effective_at)
            if self._newest_count is None or at > self._newest_count:
                self._newest_count = at
        self.append(
            t.ledger,
            {
                "entry_seq": self.next("ledger_seq"),
                "item_id": item_id,
                "location_id": location_id,
                "status": status,
                "delta": delta,
                "effective_at": effective_at,
                "recorded_at": self.now,
                "reason": reason,
                "op_id": op_id,
            },
        )
        self._postings.append(((item_id, location_id, status), delta))
        if status in _OCCUPYING:
            self._loc_pending[location_id] = self._loc_pending.get(location_id, 0) + delta

    def flush(self) -> None:
        """Write every buffered row and apply pending balance deltas."""
        self._generation += 1
        if self._rows[t.ledger]:
            self._rebase_on_counts()
        for table in self._tables:
            rows = self._rows[table]
            if rows:
                # The tables share an op's time and id objects: each converted once.
                fast_insert(self.conn, table, rows, self.memo)
                rows.clear()
        if self._postings:
            totals: dict[BalanceKey, int] = {}
            for key, delta in self._postings:
                totals[key] = totals.get(key, 0) + delta
            # A touched balance takes the next change seq: the row is its own entry in the change
            # feed (server_stub.feeds), with the quantity it holds when read; a savepoint rolled
            # back undoes its seq along with its quantity.
            add_to(
                self.conn,
                t.balances,
                ("store_id", "item_id", "location_id", "status"),
                "qty",
                [(self.store_id, *k, q, self.next("change_seq")) for k, q in totals.items()],
                stamp="change_seq",
            )
            self._postings.clear()
            moved = [(self.store_id, loc, delta) for loc, delta in self._loc_pending.items() if delta]
            add_to(self.conn, t.occupancy, ("store_id", "location_id"), "qty", moved)
            for loc, delta in self._loc_pending.items():
                if loc in self._loc_db:
                    self._loc_db[loc] += delta
            self._loc_pending.clear()

    def _rebase_on_counts(self) -> None:
        """A count is an absolute figure as of its moment. An available-stock movement posted after
        a count but effective before it (a sale made at 10:05 that reaches the service after a
        10:12 count) was already seen by the person counting: the movement is recorded, and the
        same quantity is put back at the count's moment, so the balance as of the count stays the
        figure counted and nothing is counted twice. Only the earliest later count needs it: every
        later balance is anchored on that one."""
        buffered = list(self._rows[t.ledger])
        moves = [r for r in buffered if r["status"] == _AVAILABLE and r["reason"] not in (COUNT_REASON, REBASE_REASON)]
        if not moves:
            return
        counted = [at for at in (self._counted_until, self._newest_count) if at is not None]
        if not counted or min(_as_utc(r["effective_at"]) for r in moves) >= max(counted):
            # No count in the store is later than the earliest movement (the usual case: movements
            # come in as they happen, counts are behind them): nothing to read.
            return
        keys = {(r["item_id"], r["location_id"]) for r in moves}
        anchors: dict[tuple[str, str], list[dt.datetime]] = {}
        m, at_of = marker(self.conn), loader(self.conn, t.ledger.c.effective_at)
        # A join with the keys as a table of VALUES, on the (store_id, item_id, location_id,
        # effective_at) index: SQLite answers a row-value IN by scanning the store's whole ledger.
        # Only counts after the earliest movement matter, so the index range starts there instead
        # of at the key's first entry. The partial index of count entries (ix_ledger_count_anchors)
        # holds only counts, not a key's every movement; its predicate is written out literally so
        # that both SQLite and PostgreSQL can prove the query implies it.
        rows = select_in(
            self.conn,
            "WITH k (item_id, location_id) AS ({in}) "
            "SELECT l.item_id, l.location_id, l.effective_at FROM k JOIN ledger l "
            f"ON l.store_id = {m} AND l.item_id = k.item_id AND l.location_id = k.location_id "
            f"AND l.effective_at > {m} WHERE {_COUNT_ANCHOR_WHERE}",
            sorted(keys),
            after=[self.store_id, binder(self.conn, t.ledger.c.effective_at)(min(r["effective_at"] for r in moves))],
            width=2,
        )
        for item_id, location_id, at in rows:
            anchors.setdefault((item_id, location_id), []).append(at_of(at))
        for r in buffered:
            if r["status"] != _AVAILABLE:
                continue
            key = (r["item_id"], r["location_id"])
            if r["reason"] == COUNT_REASON:
                anchors.setdefault(key, []).append(r["effective_at"])
                continue
            if r["reason"] == REBASE_REASON:
                continue
            later = [a for a in anchors.get(key, ()) if a > r["effective_at"]]
            if not later:
                continue
            at = min(later)
            self.post(r["item_id"], r["location_id"], _AVAILABLE, -r["delta"], effective_at=at,
                      reason=REBASE_REASON, op_id=r["op_id"])
            self.erp("inventory_adjusted", {
                "item_id": r["item_id"], "location_id": r["location_id"], "status": _AVAILABLE,
                "delta": -r["delta"], "reason": REBASE_REASON,
                "note": "a movement made before a count reached the service after it; the count stands",
            }, occurred_at=at, op_id=r["op_id"])

    # -- one op's work, undone ----------------------------------------------------------------------

    def mark(self) -> Mark:
        """Remember the buffers' state before an op."""
        # Taken once per op: kept to a few C-level calls.
        return Mark(self._generation, (*map(len, self._buffers), len(self._postings)), tuple(self._counters.values()))

    def rollback_to(self, mark: Mark) -> None:
        """Drop what was buffered since `mark`. Only valid if nothing was flushed in between."""
        if mark.generation != self._generation and any(mark.lengths):
            # Rows buffered before the mark were flushed since: only a savepoint taken after a
            # flush (empty buffers at the mark) can undo what follows.
            raise RuntimeError("buffers were flushed since the mark; flush, then take a savepoint and a mark")
        for table, n in zip(self._tables, mark.lengths, strict=False):
            del self._rows[table][n:]
        del self._postings[mark.lengths[-1] :]
        self._counters = dict(zip(_COUNTERS, mark.counters, strict=True))
        self._loc_pending.clear()
        self._loc_db.clear()
        for (_, loc, status), delta in self._postings:
            if status in _OCCUPYING:
                self._loc_pending[loc] = self._loc_pending.get(loc, 0) + delta

    # -- reads that see this transaction's own buffered work -----------------------------------------

    def location_occupancy(self, location_id: str) -> int:
        """Units physically at a location now (every status but in_transit), buffered work included."""
        if location_id not in self._loc_db:
            self.prefetch_occupancy([location_id])
        return self._loc_db[location_id] + self._loc_pending.get(location_id, 0)

    def prefetch_occupancy(self, location_ids: Iterator[str] | list[str] | set[str]) -> None:
        """Read the flushed occupancy of many locations in one query."""
        wanted = sorted({loc for loc in location_ids if loc not in self._loc_db})
        if not wanted:
            return
        found = dict(select_in(
            self.conn,
            f"SELECT location_id, qty FROM occupancy WHERE store_id = {marker(self.conn)} AND location_id IN ({{in}})",
            wanted,
            before=[self.store_id],
        ))
        for loc in wanted:
            self._loc_db[loc] = int(found.get(loc) or 0)

    def current_balances(self, keys: set[BalanceKey]) -> dict[BalanceKey, int]:
        """Flushed current balances of the given keys (0 where none)."""
        wanted = sorted(keys)
        m = marker(self.conn)
        # A join with the keys as a table of VALUES: SQLite answers a row-value IN by scanning the store.
        rows = select_in(
            self.conn,
            "WITH k (item_id, location_id, status) AS ({in}) "
            "SELECT b.item_id, b.location_id, b.status, b.qty FROM k JOIN balances b "
            f"ON b.store_id = {m} AND b.item_id = k.item_id AND b.location_id = k.location_id AND b.status = k.status",
            wanted,
            after=[self.store_id],
            width=3,
        )
        found = {(item_id, location_id, status): int(qty) for item_id, location_id, status, qty in rows}
        return {key: found.get(key, 0) for key in wanted}
