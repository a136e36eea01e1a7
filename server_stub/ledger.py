"""Reads of the stock ledger: balances now and as of a time, movements in a window.

Writes go through `StoreTx.post`, which appends to `ledger` and keeps `balances` in step. The
ledger is the truth; `balances` is derived and `verify_balances` proves it.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edge_sync.contract import BalanceRecord, StockStatus
from server_stub import tables as t


def balance_as_of(
    conn: Connection, store_id: str, item_id: str, location_id: str, status: str, at: dt.datetime
) -> int:
    """The balance of one key counting every entry effective at or before `at`."""
    lg = t.ledger
    query = sa.select(sa.func.coalesce(sa.func.sum(lg.c.delta), 0)).where(
        lg.c.store_id == store_id,
        lg.c.item_id == item_id,
        lg.c.location_id == location_id,
        lg.c.status == status,
        lg.c.effective_at <= at,
    )
    return int(conn.execute(query).scalar_one())


def movements_between(
    conn: Connection, store_id: str, item_id: str, location_id: str, start: dt.datetime, end: dt.datetime
) -> int:
    """How many ledger entries of the item at the location took effect in (start, end]."""
    lg = t.ledger
    query = sa.select(sa.func.count()).where(
        lg.c.store_id == store_id,
        lg.c.item_id == item_id,
        lg.c.location_id == location_id,
        lg.c.effective_at > start,
        lg.c.effective_at <= end,
    )
    return int(conn.execute(query).scalar_one())


def query_balances(
    conn: Connection,
    store_id: str,
    *,
    item_id: str | None = None,
    location_id: str | None = None,
    status: str | None = None,
    as_of: dt.datetime | None = None,
    limit: int = 5000,
) -> list[BalanceRecord]:
    """Balances matching the filters, now (from `balances`) or as of a time (from the ledger)."""
    if as_of is None:
        tb = t.balances
        query = sa.select(tb.c.item_id, tb.c.location_id, tb.c.status, tb.c.qty)
    else:
        tb = t.ledger
        query = (
            sa.select(tb.c.item_id, tb.c.location_id, tb.c.status, sa.func.sum(tb.c.delta))
            .where(tb.c.effective_at <= as_of)
            .group_by(tb.c.item_id, tb.c.location_id, tb.c.status)
        )
    query = query.where(tb.c.store_id == store_id)
    if item_id is not None:
        query = query.where(tb.c.item_id == item_id)
    if location_id is not None:
        query = query.where(tb.c.location_id == location_id)
    if status is not None:
        query = query.where(tb.c.status == status)
    query = query.order_by(tb.c.item_id, tb.c.location_id, tb.c.status).limit(limit)
    return [
        BalanceRecord(item_id=i, location_id=loc, status=StockStatus(s), qty=int(q)) for i, loc, s, q in conn.execute(query)
    ]


def verify_balances(conn: Connection, store_id: str) -> list[str]:
    """Differences between `balances` and the ledger's sums for a store, and between `occupancy` and the
    balances' sums per location; empty when they agree."""
    lg, bal = t.ledger, t.balances
    sums = {
        (i, loc, s): int(q)
        for i, loc, s, q in conn.execute(
            sa.select(lg.c.item_id, lg.c.location_id, lg.c.status, sa.func.sum(lg.c.delta))
            .where(lg.c.store_id == store_id)
            .group_by(lg.c.item_id, lg.c.location_id, lg.c.status)
        )
    }
    current = {
        (i, loc, s): int(q)
        for i, loc, s, q in conn.execute(
            sa.select(bal.c.item_id, bal.c.location_id, bal.c.status, bal.c.qty).where(bal.c.store_id == store_id)
        )
    }
    problems = []
    for key in sorted(set(sums) | set(current)):
        if sums.get(key, 0) != current.get(key, 0):
            problems.append(f"{key}: ledger {sums.get(key, 0)} balance {current.get(key, 0)}")
    # Each location's occupancy is its balances of every status but in_transit, summed.
    held: dict[str, int] = {}
    for (_, loc, status), qty in current.items():
        if status != StockStatus.IN_TRANSIT.value:
            held[loc] = held.get(loc, 0) + qty
    occ = t.occupancy
    kept = {loc: int(q) for loc, q in conn.execute(sa.select(occ.c.location_id, occ.c.qty).where(occ.c.store_id == store_id))}
    for loc in sorted(set(held) | set(kept)):
        if held.get(loc, 0) != kept.get(loc, 0):
            problems.append(f"occupancy of {loc}: balances {held.get(loc, 0)} kept {kept.get(loc, 0)}")
    return problems
