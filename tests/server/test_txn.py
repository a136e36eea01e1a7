"""A store transaction's balance changes carry the balances as committed, savepoints and all."""

from __future__ import annotations

import sqlalchemy as sa

from edge_sync.contract import ChangeKind
from server_stub.db import create_engine_for, migrate
from server_stub.feeds import read_changes
from server_stub.txn import StoreTx, utcnow


def balance_changes(engine: sa.Engine) -> dict[str, int]:
    """The balances as the change feed gives them to a reader from the start."""
    with engine.connect() as conn:
        page = read_changes(conn, "S-1", None, 1000, utcnow())
    return {c.key: c.data["qty"] for c in page.changes if c.kind is ChangeKind.BALANCE and c.data is not None}


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
        # I-2 came and went inside the savepoint: no balance row, nothing in the feed.
        assert balance_changes(engine) == {"I-1|A-01|available": 5, "I-3|A-02|available": 2}
        with StoreTx.open(engine, "S-1") as tx:
            tx.post("I-1", "A-01", "available", -2, effective_at=tx.now, reason="test")
            tx.flush()
            tx.post("I-1", "A-01", "available", -1, effective_at=tx.now, reason="test")
        assert balance_changes(engine)["I-1|A-01|available"] == 2
    finally:
        engine.dispose()
