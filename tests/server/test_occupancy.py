"""Each location's occupancy has a row of its own, kept in step with the balances (StoreTx.flush).

On SQLite and on PostgreSQL: the putaway check reads it, every posting keeps it, an op rolled back
leaves it as it was, `verify_balances` catches a row out of step, and migration 0007 fills it from
the balances already there.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from server_stub import tables as t
from server_stub.db import create_engine_for, migrate
from server_stub.ledger import verify_balances
from server_stub.txn import StoreTx
from tests.server.helpers import STORE, insert_store_row, upgraded_to


@pytest.fixture
def engine(store_engine: Engine) -> Engine:
    return store_engine


def _kept(engine: Engine, store_id: str = STORE) -> dict[str, int]:
    occ = t.occupancy
    with engine.connect() as conn:
        return {loc: int(q) for loc, q in conn.execute(sa.select(occ.c.location_id, occ.c.qty).where(occ.c.store_id == store_id))}


def test_postings_of_every_status_but_in_transit_are_counted_where_they_are(engine: Engine) -> None:
    before = _kept(engine)
    with StoreTx.open(engine, STORE) as tx:
        tx.post("I-1", "A-02", "available", 5, effective_at=tx.now, reason="test")
        tx.post("I-2", "A-02", "damaged", 2, effective_at=tx.now, reason="test")
        tx.post("I-3", "A-02", "in_transit", 9, effective_at=tx.now, reason="test")
        tx.post("I-1", "DOCK", "received", 4, effective_at=tx.now, reason="test")
        tx.post("I-1", "DOCK", "received", -4, effective_at=tx.now, reason="test")
        assert tx.location_occupancy("A-02") == before.get("A-02", 0) + 7
    after = _kept(engine)
    assert after["A-02"] == before.get("A-02", 0) + 7
    assert after.get("DOCK", 0) == before.get("DOCK", 0)
    with engine.connect() as conn:
        assert verify_balances(conn, STORE) == []
    with StoreTx.open(engine, STORE) as tx:
        assert tx.location_occupancy("A-02") == after["A-02"]


def test_an_op_rolled_back_leaves_the_occupancy_as_it_was(engine: Engine) -> None:
    with StoreTx.open(engine, STORE) as tx:
        tx.post("I-1", "A-01", "available", 3, effective_at=tx.now, reason="test")
        tx.flush()
        mark = tx.mark()
        tx.post("I-1", "A-01", "available", 50, effective_at=tx.now, reason="test")
        tx.rollback_to(mark)
        held = tx.location_occupancy("A-01")
    assert _kept(engine)["A-01"] == held
    with engine.connect() as conn:
        assert verify_balances(conn, STORE) == []


def test_verify_balances_names_an_occupancy_out_of_step(engine: Engine) -> None:
    with StoreTx.open(engine, STORE) as tx:
        tx.post("I-1", "A-01", "available", 3, effective_at=tx.now, reason="test")
    with engine.begin() as conn:
        conn.execute(sa.update(t.occupancy).where(t.occupancy.c.location_id == "A-01").values(qty=t.occupancy.c.qty + 1))
        problems = verify_balances(conn, STORE)
    assert len(problems) == 1 and problems[0].startswith("occupancy of A-01")


def test_migration_0007_fills_occupancy_from_the_balances(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        upgraded_to(engine, "0006")
        with engine.begin() as conn:
            insert_store_row(conn, "S-1")
            conn.execute(t.balances.insert(), [
                {"store_id": "S-1", "item_id": i, "location_id": loc, "status": status, "qty": q}
                for i, loc, status, q in [("I-1", "A-01", "available", 4), ("I-2", "A-01", "damaged", 1),
                                          ("I-3", "A-01", "in_transit", 8), ("I-1", "B-01", "available", 2)]
            ])
        migrate(engine)
        assert _kept(engine, "S-1") == {"A-01": 5, "B-01": 2}
        with engine.connect() as conn:
            assert [p for p in verify_balances(conn, "S-1") if p.startswith("occupancy")] == []
    finally:
        engine.dispose()
