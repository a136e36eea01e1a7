"""The JSON text of a pending op on the wire: the same bytes json.dumps made of its envelope, read after a seq."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from edge_sync import contract, outbox
from edge_sync.db import driver, open_device_database
from edge_sync.uow import UnitOfWork

NOW = dt.datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=dt.UTC)
PEOPLE = [("u-assoc", "s-1"), ('u-"quoted"\\back', "s-\u00e9t\u00e9"), ("u-\u2603-snow", "s-\U0001f4e6\n\t")]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = open_device_database(tmp_path / "d.db")
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id="store-\u00f8", device_id='dev-"1"')
        for i in range(9):
            user_id, session_id = PEOPLE[i % len(PEOPLE)]
            uow.append_op(contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
                item_id=f"item-{i}", qty=1 + i, from_location_id="loc-dock-1", to_location_id="loc-a-1"),
                user_id=user_id, session_id=session_id, occurred_at=NOW + dt.timedelta(seconds=i))
        driver(uow.conn).execute("UPDATE sync_state SET clock_offset_ms = -1250")
        uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id="t-9"),
                      user_id="u-assoc", session_id="s-1", occurred_at=NOW)
        uow.commit()
    yield engine
    engine.dispose()


def _as_json_dumps_wrote_it(engine: Engine) -> list[str]:
    """Each pending op's text as `json.dumps` writes its envelope from the row, the stored payload in its place."""
    with engine.connect() as conn:
        raw = driver(conn)
        store_id, device_id = raw.execute("SELECT store_id, device_id FROM sync_state").fetchone()
        rows = raw.execute("SELECT seq, op_id, type, schema_version, user_id, session_id, occurred_at, clock_offset_ms,"
                           " payload FROM outbox WHERE state = 'pending' ORDER BY seq").fetchall()
    texts = []
    for seq, op_id, typ, version, user_id, session_id, occurred, offset, payload in rows:
        head = json.dumps({"op_id": op_id, "store_id": store_id, "device_id": device_id, "seq": seq, "type": typ,
                           "schema_version": version, "user_id": user_id, "session_id": session_id,
                           "occurred_at": occurred, "clock_offset_ms": offset})
        texts.append(f'{head[:-1]}, "payload": {payload}}}')
    return texts


def test_each_op_is_the_text_json_dumps_made_and_parses_to_the_op_as_written(db: Engine) -> None:
    with db.connect() as conn:
        batch = outbox.pending_batch(conn, limit=100)
        ops = outbox.pending_ops(conn, limit=100)
    assert [seq for seq, _ in batch.ops] == list(range(1, 11)) == [op.seq for op in ops]
    assert batch.ops_json == _as_json_dumps_wrote_it(db)
    # What the service parses (and fingerprints) is the op exactly as it was written.
    for text, op in zip(batch.ops_json, ops, strict=True):
        sent, written = json.loads(text), op.model_dump(mode="json")
        assert dt.datetime.fromisoformat(sent.pop("occurred_at")) == dt.datetime.fromisoformat(written.pop("occurred_at"))
        assert sent == written
    assert ops[-1].clock_offset_ms == -1250 and ops[1].user_id == 'u-"quoted"\\back'


def test_a_batch_after_a_seq_starts_at_the_next_pending_op(db: Engine) -> None:
    with UnitOfWork(db) as uow:
        driver(uow.conn).execute("UPDATE outbox SET state = 'applied' WHERE seq IN (5, 6)")
        uow.commit()
    with db.connect() as conn:
        assert [seq for seq, _ in outbox.pending_batch(conn, limit=3).ops] == [1, 2, 3]
        assert [seq for seq, _ in outbox.pending_batch(conn, limit=3, after_seq=3).ops] == [4, 7, 8]
        assert outbox.pending_batch(conn, limit=3, after_seq=10).ops == []
