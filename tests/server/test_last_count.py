"""The store's latest count (stores.last_count_at) spares movements the count-anchor read.

A movement effective at or after every count cannot precede one, so StoreTx._rebase_on_counts
reads nothing for it; one effective before a count, flushed or still buffered, is still rebased.
On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server_stub import tables as t
from server_stub import txn
from server_stub.db import create_engine_for, migrate
from server_stub.ledger import verify_balances
from server_stub.txn import COUNT_REASON, REBASE_REASON, StoreTx, utcnow
from tests.server.helpers import STORE, insert_store_row, upgraded_to


@pytest.fixture
def engine(store_engine: Engine) -> Engine:
    return store_engine


@pytest.fixture
def anchor_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = txn.select_in

    def spy(conn: Any, sql: str, *args: Any, **kw: Any) -> Any:
        if "JOIN ledger" in sql:
            seen.append(sql)
        return real(conn, sql, *args, **kw)

    monkeypatch.setattr(txn, "select_in", spy)
    return seen


def _last_count(engine: Engine) -> dt.datetime | None:
    with engine.connect() as conn:
        value = conn.execute(sa.select(t.stores.c.last_count_at).where(t.stores.c.store_id == STORE)).scalar_one()
    return None if value is None else value.astimezone(dt.UTC)


def _rebased(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            sa.select(t.ledger.c.item_id, t.ledger.c.delta).where(t.ledger.c.reason == REBASE_REASON).order_by(t.ledger.c.entry_seq)
        )]


T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _count(engine: Engine, at: dt.datetime, item_id: str = "I-1") -> None:
    with StoreTx.open(engine, STORE) as tx:
        tx.post(item_id, "A-01", "available", 0, effective_at=at, reason=COUNT_REASON)


def _sale(engine: Engine, at: dt.datetime, item_id: str = "I-1") -> None:
    with StoreTx.open(engine, STORE) as tx:
        tx.post(item_id, "A-01", "available", -1, effective_at=at, reason="pick")


def test_movements_with_no_count_or_after_the_latest_read_no_anchors(engine: Engine, anchor_reads: list[str]) -> None:
    _sale(engine, T0)
    assert anchor_reads == [] and _last_count(engine) is None
    _count(engine, T0 + dt.timedelta(minutes=5))
    assert _last_count(engine) == T0 + dt.timedelta(minutes=5)
    _count(engine, T0 + dt.timedelta(minutes=1), item_id="I-2")  # an older count does not move it back
    assert _last_count(engine) == T0 + dt.timedelta(minutes=5)
    _sale(engine, T0 + dt.timedelta(minutes=5))
    _sale(engine, T0 + dt.timedelta(minutes=9))
    assert anchor_reads == []
    assert _rebased(engine) == []


def test_a_movement_before_the_latest_count_is_still_rebased(engine: Engine, anchor_reads: list[str]) -> None:
    _count(engine, T0 + dt.timedelta(minutes=5))
    _sale(engine, T0 + dt.timedelta(minutes=2))
    assert len(anchor_reads) == 1
    assert _rebased(engine) == [("I-1", 1)]
    with engine.connect() as conn:
        assert verify_balances(conn, STORE) == []


def test_a_count_earlier_in_the_same_transaction_still_anchors_a_movement(engine: Engine) -> None:
    with StoreTx.open(engine, STORE) as tx:
        tx.post("I-1", "A-01", "available", 0, effective_at=T0 + dt.timedelta(minutes=5), reason=COUNT_REASON)
        tx.flush()
        tx.post("I-1", "A-01", "available", -1, effective_at=T0 + dt.timedelta(minutes=2), reason="pick")
    assert _rebased(engine) == [("I-1", 1)]
    with StoreTx.open(engine, STORE) as tx:
        tx.post("I-2", "A-01", "available", 0, effective_at=T0 + dt.timedelta(minutes=8), reason=COUNT_REASON)
        tx.post("I-2", "A-01", "available", -3, effective_at=T0 + dt.timedelta(minutes=7), reason="pick")
    assert _rebased(engine) == [("I-1", 1), ("I-2", 3)]
    assert _last_count(engine) == T0 + dt.timedelta(minutes=8)


def test_migration_0008_takes_the_latest_count_from_the_ledger(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        upgraded_to(engine, "0007")
        now = utcnow()
        with engine.begin() as conn:
            for store in ("S-1", "S-2"):
                insert_store_row(conn, store, ledger_seq=3)
            conn.execute(t.ledger.insert(), [
                {"store_id": "S-1", "entry_seq": n, "item_id": "I-1", "location_id": "A-01", "status": status, "delta": 0,
                 "effective_at": T0 + dt.timedelta(minutes=minutes), "recorded_at": now, "reason": reason}
                for n, (status, reason, minutes) in enumerate(
                    [("available", "count", 3), ("available", "count", 1), ("damaged", "count", 9), ("available", "pick", 7)], 1)
            ])
        migrate(engine)
        with engine.connect() as conn:
            found = dict(conn.execute(sa.select(t.stores.c.store_id, t.stores.c.last_count_at)).all())
        assert found["S-1"] is not None and found["S-1"].astimezone(dt.UTC) == T0 + dt.timedelta(minutes=3)
        assert found["S-2"] is None
    finally:
        engine.dispose()
