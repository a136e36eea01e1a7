"""A store's figures for its manager, computed from the ledger, the ops and the device board.

- receive-to-putaway: units leave `received` at a dock first in, first out; each unit put away
  (`putaway` entries) is matched to the receipt entry it came from, and its dwell time is the gap
  between the two effective times. Units still in `received` are what waits on the dock.
- count accuracy: of the counts that posted or went to a manager, the share that found exactly
  the balance the ledger had at the count's moment (a recount request is not a count yet).
- pick fill rate: units picked over units picked plus units declared short.
- sync lag: from an op's server-corrected moment to when the service recorded it.

Every figure reads plain columns and JSON the service itself wrote, with the arithmetic in
Python, so SQLite and PostgreSQL give the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edge_sync.contract import (
    DeviceLagRecord,
    DwellBucket,
    OpType,
    StockStatus,
    StoreFiguresRecord,
    WaitingPutawayRecord,
)
from server_stub import tables as t

PUTAWAY_REASON = "putaway"
DEFAULT_WAITING_MINUTES = 60
"""Received stock not put away after this long is an exception for a manager (a query parameter overrides it)."""

BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 15 min", 15), ("15-60 min", 60), ("1-4 h", 240), ("4-24 h", 1440), ("> 24 h", float("inf")),
)


@dataclass(frozen=True, slots=True)
class _Dwell:
    minutes: float
    units: int
    put_away_at: dt.datetime


@dataclass(slots=True)
class _Lot:
    qty: int
    received_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DockState:
    """Every putaway matched to its receipt, and what is still waiting, as of a moment."""

    dwells: list[_Dwell]
    waiting: list[tuple[str, str, _Lot]]


def dock_state(conn: Connection, store_id: str, *, until: dt.datetime) -> DockState:
    """Walk the store's `received` ledger entries up to `until`, first in, first out per item and location."""
    lg = t.ledger
    rows = conn.execute(
        sa.select(lg.c.item_id, lg.c.location_id, lg.c.delta, lg.c.effective_at, lg.c.reason)
        .where(lg.c.store_id == store_id, lg.c.status == StockStatus.RECEIVED.value, lg.c.effective_at <= until)
        .order_by(lg.c.effective_at, lg.c.entry_seq)
    )
    queues: dict[tuple[str, str], deque[_Lot]] = {}
    dwells: list[_Dwell] = []
    for item_id, location_id, delta, at, reason in rows:
        queue = queues.setdefault((item_id, location_id), deque())
        if delta > 0:
            queue.append(_Lot(int(delta), at))
            continue
        left = -int(delta)
        while left and queue:
            lot = queue[0]
            taken = min(left, lot.qty)
            if reason == PUTAWAY_REASON:
                dwells.append(_Dwell(max(0.0, (at - lot.received_at).total_seconds() / 60), taken, at))
            lot.qty -= taken
            left -= taken
            if lot.qty == 0:
                queue.popleft()
    waiting = [(item, loc, lot) for (item, loc), queue in sorted(queues.items()) for lot in queue if lot.qty > 0]
    return DockState(dwells, waiting)


def waiting_putaway(
    conn: Connection, store_id: str, *, now: dt.datetime, older_than_minutes: float = DEFAULT_WAITING_MINUTES
) -> list[WaitingPutawayRecord]:
    """Units received and still not put away `older_than_minutes` after they arrived, oldest first."""
    state = dock_state(conn, store_id, until=now)
    out = []
    for item_id, location_id, lot in state.waiting:
        age = (now - lot.received_at).total_seconds() / 60
        if age >= older_than_minutes:
            out.append(WaitingPutawayRecord(item_id=item_id, location_id=location_id, qty=lot.qty,
                                            received_at=lot.received_at, age_minutes=round(age, 1)))
    return sorted(out, key=lambda r: (r.received_at, r.item_id, r.location_id))


def store_figures(conn: Connection, store_id: str, *, since: dt.datetime, until: dt.datetime) -> StoreFiguresRecord:
    """The store's figures for the window (since, until]."""
    state = dock_state(conn, store_id, until=until)
    dwells = [d for d in state.dwells if d.put_away_at > since]
    weighted = [(d.minutes, d.units) for d in dwells]
    counts, exact, picked, short, lags = _op_figures(conn, store_id, since=since, until=until)
    return StoreFiguresRecord(
        store_id=store_id,
        window_start=since,
        window_end=until,
        putaway_units=sum(d.units for d in dwells),
        putaway_median_minutes=_round(weighted_percentile(weighted, 0.5)),
        putaway_p90_minutes=_round(weighted_percentile(weighted, 0.9)),
        putaway_buckets=_buckets(dwells),
        waiting_units=sum(lot.qty for _, _, lot in state.waiting),
        counts=counts,
        counts_exact=exact,
        count_accuracy_pct=_pct(exact, counts),
        picked_units=picked,
        short_units=short,
        pick_fill_rate_pct=_pct(picked, picked + short),
        synced_ops=len(lags),
        sync_lag_p50_seconds=_round(weighted_percentile([(x, 1) for x in lags], 0.5)),
        sync_lag_p95_seconds=_round(weighted_percentile([(x, 1) for x in lags], 0.95)),
        devices=_devices(conn, store_id, until),
    )


def weighted_percentile(values: Iterable[tuple[float, int]], q: float) -> float | None:
    """The smallest value at or below which a share `q` of the total weight lies; None when empty."""
    ordered = sorted((v, w) for v, w in values if w > 0)
    total = sum(w for _, w in ordered)
    if total == 0:
        return None
    running = 0
    for value, weight in ordered:
        running += weight
        if running >= q * total:
            return value
    return ordered[-1][0]


def _op_figures(
    conn: Connection, store_id: str, *, since: dt.datetime, until: dt.datetime
) -> tuple[int, int, int, int, list[float]]:
    op = t.ops
    rows = conn.execute(
        sa.select(op.c.type, op.c.status, op.c.result, op.c.payload, op.c.effective_at, op.c.recorded_at)
        .where(op.c.store_id == store_id, op.c.effective_at > since, op.c.effective_at <= until)
    )
    counts = exact = picked = short = 0
    lags: list[float] = []
    for op_type, status, result, payload, effective_at, recorded_at in rows:
        lags.append(max(0.0, (recorded_at - effective_at).total_seconds()))
        if status != "applied":
            continue
        body = result or {}
        if op_type == OpType.COUNT_RECORD.value and body.get("outcome") in ("posted", "pending_approval"):
            counts += 1
            exact += 1 if body.get("adjustment") == 0 else 0
        elif op_type == OpType.PICK_CONFIRM.value:
            picked += int((payload or {}).get("qty", 0))
        elif op_type == OpType.PICK_SHORT.value:
            short += int((payload or {}).get("short_qty", 0))
    return counts, exact, picked, short, lags


def _devices(conn: Connection, store_id: str, now: dt.datetime) -> list[DeviceLagRecord]:
    d = t.devices
    rows = conn.execute(sa.select(d).where(d.c.store_id == store_id).order_by(d.c.device_id)).all()
    return [
        DeviceLagRecord(
            device_id=r.device_id,
            lag_seconds=None if r.lag_ms is None else r.lag_ms / 1000.0,
            pending=r.pending,
            parked=r.parked,
            oldest_pending_age_seconds=(
                max(0.0, (now - r.oldest_pending_at).total_seconds()) if r.oldest_pending_at and r.pending else None
            ),
        )
        for r in rows
    ]


def _buckets(dwells: list[_Dwell]) -> list[DwellBucket]:
    units = [0] * len(BUCKETS)
    for d in dwells:
        index = next(i for i, (_, upper) in enumerate(BUCKETS) if d.minutes < upper)
        units[index] += d.units
    return [DwellBucket(label=label, units=n) for (label, _), n in zip(BUCKETS, units, strict=True)]


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
