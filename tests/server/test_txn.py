"""A store transaction's balance changes carry the balances as committed, savepoints and all."""

from __future__ import annotations

import sqlalchemy as sa

from server_stub import tables as t
from server_stub.db import create_engine_for, migrate
from server_stub.txn import StoreTx


def balance_changes(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.changes.c.key, t.changes.c.data).where(t.changes.c.kind == "balance").order_by(t.changes.c.change_seq)
        ).all()
    return {key: data["qty"] for key, data in rows}


def test_balance_changes_follow_a_savepoint_rolled_back_after_a_flush(database_url: str) -> None:
    engine = create_engine_for(database_url)
    migrate(engine)
    try:
        with StoreTx.open(engine, "S-1") as tx:
            tx.post("I-1", "A-01", "available", 5, effective_at=tx.now, reason="test")
            tx.flush()
            savepoint = tx.conn.begin_nested()
            mark = tx.mark()
            tx.post("I-1", "A-01", "available", 7, effective_at=tx.now, reason="test")
            tx.post("I-2", "A-01", "available", 1, effective_at=tx.now, reason="test")
            tx.flush()
            savepoint.rollback()
            tx.rollback_to(mark)
            tx.post("I-3", "A-02", "available", 2, effective_at=tx.now, reason="test")
        assert balance_changes(engine) == {"I-1|A-01|available": 5, "I-2|A-01|available": 0, "I-3|A-02|available": 2}
        with StoreTx.open(engine, "S-1") as tx:
            tx.post("I-1", "A-01", "available", -2, effective_at=tx.now, reason="test")
            tx.flush()
            tx.post("I-1", "A-01", "available", -1, effective_at=tx.now, reason="test")
        assert balance_changes(engine)["I-1|A-01|available"] == 2
    finally:
        engine.dispose()
