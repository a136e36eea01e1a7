"""Master data reads inside a store transaction, kept for as long as the store's master data stands.

A batch of 100 ops names a handful of items, locations and users; `prefetch` reads them in three
queries up front instead of one per op. What a transaction reads is kept, for this process's
later transactions of the same store, under the store's master data version (`stores.master_version`,
read with the store's lock by `StoreTx.lock_store` and replaced by every load of master data in
the load's own transaction): a transaction uses it only while the store holds that very version,
so an item, location or user changed since is read again, never served stale. A transaction that
did not read the version (no store lock) keeps its reads to itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server_stub import tables as t
from server_stub.db import marker, select_in
from server_stub.txn import StoreTx


@dataclass(frozen=True, slots=True)
class LocationInfo:
    """What the appliers need to know of a location."""

    location_id: str
    kind: str
    capacity: int


_KEPT_VERSIONS = 64
_kept: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
"""(store, master version) -> name -> id -> row (None: no such id), oldest first."""
_kept_guard = threading.Lock()


def _cache(tx: StoreTx, name: str) -> dict[str, Any]:
    found = tx.caches.get(name)
    if found is None:
        found = tx.caches[name] = _kept_for(tx, name)
    return found


def _kept_for(tx: StoreTx, name: str) -> dict[str, Any]:
    if not tx.master_version:
        return {}
    key = (tx.store_id, tx.master_version)
    with _kept_guard:
        held = _kept.get(key)
        if held is None:
            held = _kept[key] = {}
            while len(_kept) > _KEPT_VERSIONS:
                del _kept[next(iter(_kept))]
        return held.setdefault(name, {})


def _load(tx: StoreTx, name: str, table: sa.Table, key: str, columns: list[str], ids: Iterable[str]) -> None:
    cache = _cache(tx, name)
    wanted = sorted({i for i in ids if i and i not in cache})
    if not wanted:
        return
    found: dict[str, Any] = dict.fromkeys(wanted)
    m = marker(tx.conn)
    sql = f"SELECT {key}, {', '.join(columns)} FROM {table.name} WHERE store_id = {m} AND {key} IN ({{in}})"
    for row in select_in(tx.conn, sql, wanted, before=[tx.store_id]):
        found[row[0]] = tuple(row[1:])
    # All at once, when read whole: the cache may be shared with other threads' transactions.
    cache.update(found)


def prefetch(tx: StoreTx, *, items: Iterable[str] = (), locations: Iterable[str] = (), users: Iterable[str] = ()) -> None:
    """Read the named items, locations and users into the transaction's cache."""
    _load(tx, "items", t.items, "item_id", ["sku"], items)
    _load(tx, "locations", t.locations, "location_id", ["kind", "capacity"], locations)
    _load(tx, "users", t.users, "user_id", ["role"], users)


def _cached(tx: StoreTx, name: str, table: sa.Table, key: str, columns: list[str], wanted: str) -> Any:
    cache = _cache(tx, name)
    if wanted not in cache:
        _load(tx, name, table, key, columns, [wanted])
    return cache[wanted]


def item_exists(tx: StoreTx, item_id: str) -> bool:
    """True when the item is in the store's item master."""
    return _cached(tx, "items", t.items, "item_id", ["sku"], item_id) is not None


def location(tx: StoreTx, location_id: str) -> LocationInfo | None:
    """The location, or None when the store has no such location."""
    found = _cached(tx, "locations", t.locations, "location_id", ["kind", "capacity"], location_id)
    return None if found is None else LocationInfo(location_id, found[0], int(found[1]))


def with_capacity(tx: StoreTx, location_ids: Iterable[str]) -> list[str]:
    """Those of the locations (read by `prefetch`) that are known and have a capacity, or not read yet."""
    cache = _cache(tx, "locations")
    out = []
    for location_id in location_ids:
        found = cache.get(location_id, _UNREAD)
        if found is _UNREAD or (found is not None and int(found[1]) > 0):
            out.append(location_id)
    return out


_UNREAD = object()


def user_role(tx: StoreTx, user_id: str) -> str | None:
    """The user's role in this store, or None when unknown."""
    found = _cached(tx, "users", t.users, "user_id", ["role"], user_id)
    return None if found is None else str(found[0])


def item_for_gtin(tx: StoreTx, gtin: str) -> tuple[str, int] | None:
    """(item_id, units per scan) for a GTIN of the item master, or None."""
    row = tx.conn.execute(
        sa.select(t.item_gtins.c.item_id, t.item_gtins.c.pack_qty).where(
            t.item_gtins.c.store_id == tx.store_id, t.item_gtins.c.gtin == gtin
        )
    ).first()
    return None if row is None else (row[0], int(row[1]))
