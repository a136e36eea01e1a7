"""Master data reads inside a store transaction, cached for the transaction's life.

A batch of 100 ops names a handful of items, locations and users; `prefetch` reads them in three
queries up front instead of one per op.
"""

from __future__ import annotations

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


def _cache(tx: StoreTx, name: str) -> dict[str, Any]:
    return tx.caches.setdefault(name, {})


def _load(tx: StoreTx, name: str, table: sa.Table, key: str, columns: list[str], ids: Iterable[str]) -> None:
    cache = _cache(tx, name)
    wanted = sorted({i for i in ids if i and i not in cache})
    if not wanted:
        return
    for i in wanted:
        cache[i] = None
    m = marker(tx.conn)
    sql = f"SELECT {key}, {', '.join(columns)} FROM {table.name} WHERE store_id = {m} AND {key} IN ({{in}})"
    for row in select_in(tx.conn, sql, wanted, before=[tx.store_id]):
        cache[row[0]] = tuple(row[1:])


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
