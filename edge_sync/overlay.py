"""What the associate sees: the service's state plus this device's own work not yet reflected in it.

- Pulled balances land in `server_stock`. Every stock movement a handler makes lands in `stock`
  (what screens read) and in `local_moves`, tied to the op that carries it.
- When an op's result comes down the change feed, the pulled state includes whatever the op did:
  the op is *acknowledged*, its moves are dropped, and `stock` is recomputed for their keys as
  `server_stock + remaining local moves`. A dismissed parked op is dropped the same way.
- A pulled task or order that an unacknowledged op of this device changes is held back in
  `deferred_records` and applied once no such op is left, so a pull never undoes a claim or a
  pick on screen that the service has not seen yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from edge_sync.db import driver

Key = tuple[str, str, str]
"""(item_id, location_id, status)"""

_RECOMPUTE_SQL = (
    "INSERT INTO stock (item_id, location_id, status, qty) VALUES (?1, ?2, ?3,"
    " coalesce((SELECT qty FROM server_stock WHERE item_id = ?1 AND location_id = ?2 AND status = ?3), 0)"
    " + coalesce((SELECT sum(delta) FROM local_moves WHERE item_id = ?1 AND location_id = ?2 AND status = ?3), 0))"
    " ON CONFLICT (item_id, location_id, status) DO UPDATE SET qty = excluded.qty"
)


_MOVED = "backroom.moved"
"""Set on the connection's info by `record_move`, so `link_moves` runs only when stock moved."""


class MoveWithoutOp(RuntimeError):
    """Stock was moved in a unit of work that queued no op: the service would never hear of it."""


def record_move(conn: Connection, item_id: str, location_id: str, status: str, delta: int) -> None:
    """Remember a movement made in the current transaction; `link_moves` ties it to its op."""
    conn.info[_MOVED] = True
    driver(conn).execute(
        "INSERT INTO local_moves (seq, item_id, location_id, status, delta) VALUES (NULL, ?, ?, ?, ?)",
        (item_id, location_id, status, delta),
    )


def link_moves(conn: Connection, seq: int | None) -> None:
    """Tie this transaction's movements to the last op it queued; refuse movements with no op."""
    if not conn.info.pop(_MOVED, False):
        return  # nothing moved in this transaction (a receive scan): no statement at all
    raw = driver(conn)
    if seq is not None:
        raw.execute("UPDATE local_moves SET seq = ? WHERE seq IS NULL", (seq,))
    elif raw.execute("SELECT 1 FROM local_moves WHERE seq IS NULL LIMIT 1").fetchone() is not None:
        raise MoveWithoutOp("stock moved without an op: nothing would tell the service")


def recompute(conn: Connection, keys: Iterable[Key]) -> None:
    """Set `stock` for `keys` to the pulled balance plus the remaining local moves."""
    keys = list(set(keys))
    if keys:
        driver(conn).executemany(_RECOMPUTE_SQL, keys)


def set_server_balances(conn: Connection, rows: Iterable[tuple[str, str, str, int]]) -> None:
    """Store pulled balances (item, location, status, qty) and recompute what screens show."""
    rows = list(rows)
    driver(conn).executemany(
        "INSERT INTO server_stock (item_id, location_id, status, qty) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (item_id, location_id, status) DO UPDATE SET qty = excluded.qty",
        rows,
    )
    recompute(conn, ((i, loc, st) for i, loc, st, _ in rows))


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def drop_moves(conn: Connection, seqs: Iterable[int]) -> set[Key]:
    """Forget the moves and references of ops the pulled state now includes (or that were
    dismissed or replaced); return the stock keys they touched."""
    raw = driver(conn)
    keys: set[Key] = set()
    for chunk in _chunks(list(seqs)):
        marks = ",".join("?" * len(chunk))
        keys.update(raw.execute(
            f"SELECT item_id, location_id, status FROM local_moves WHERE seq IN ({marks})", chunk).fetchall())
        raw.execute(f"DELETE FROM local_moves WHERE seq IN ({marks})", chunk)
        raw.execute(f"DELETE FROM op_refs WHERE seq IN ({marks})", chunk)
    return keys


def acknowledge(conn: Connection, op_ids: Iterable[str]) -> tuple[list[int], set[Key]]:
    """Mark this device's ops whose results came down the feed; return their seqs and stock keys."""
    raw = driver(conn)
    seqs: list[int] = []
    for chunk in _chunks(list(op_ids)):
        marks = ",".join("?" * len(chunk))
        seqs.extend(int(r[0]) for r in raw.execute(
            f"UPDATE outbox SET feed_seen = 1 WHERE op_id IN ({marks}) AND feed_seen = 0 RETURNING seq", chunk))
    return seqs, drop_moves(conn, seqs)


def touched(conn: Connection) -> set[tuple[str, str]]:
    """(kind, id) of every task and order an unacknowledged op of this device changes."""
    return {(k, key) for k, key in driver(conn).execute('SELECT DISTINCT kind, "key" FROM op_refs')}


def defer(conn: Connection, kind: str, key: str, data: dict[str, Any]) -> None:
    """Hold back a pulled record until this device's ops on it are acknowledged."""
    driver(conn).execute(
        "INSERT INTO deferred_records (kind, \"key\", data) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, \"key\") DO UPDATE SET data = excluded.data",
        (kind, key, json.dumps(data)),
    )


def releasable(conn: Connection) -> list[tuple[str, str, dict[str, Any]]]:
    """Held-back records no unacknowledged op changes any more; removed from the holding table."""
    busy = touched(conn)
    raw = driver(conn)
    out = [(k, key, json.loads(d)) for k, key, d in raw.execute('SELECT kind, "key", data FROM deferred_records')
           if (k, key) not in busy]
    raw.executemany('DELETE FROM deferred_records WHERE kind = ? AND "key" = ?', [(k, key) for k, key, _ in out])
    return out
