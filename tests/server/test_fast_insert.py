"""The bulk writer stores exactly what a Core insert stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from edge_sync.contract import Op
from server_stub import tables as t
from server_stub.db import Memo, create_engine_for, driver_run, fast_insert, fast_writer, migrate


_OP_JSON = (
    '{"op_id": "01a20607-616b-76c4-a102-bd0586069281", "store_id": "S-FI", "device_id": "HH-1", "seq": 1, '
    '"type": "putaway.confirm", "schema_version": 1, "user_id": "U1", "session_id": "s", '
    '"occurred_at": "2026-03-29T01:30:05.000011Z", "payload": {}}'
)


def _rows(op_id: uuid.UUID, at: dt.datetime, *seqs: int) -> list[dict[str, object]]:
    return [{"store_id": "S-FI", "entry_seq": s, "item_id": "I1", "location_id": "L1", "status": "available", "delta": 1,
             "effective_at": at, "recorded_at": at, "reason": "putaway", "op_id": op_id} for s in seqs]


def test_times_and_op_ids_are_stored_as_a_core_insert_stores_them(database_url: str) -> None:
    engine = create_engine_for(database_url)
    migrate(engine)
    op_id = uuid.uuid4()
    plus_two = dt.timezone(dt.timedelta(hours=2))
    times = [
        dt.datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 3, 30, 5, 7, tzinfo=plus_two),
        dt.datetime(2026, 3, 29, 1, 30, 5, 9),
        # A parsed request's times carry pydantic's own UTC zone object.
        Op.model_validate_json(_OP_JSON).occurred_at,
    ]
    try:
        with engine.begin() as conn:
            for n, at in enumerate(times):
                # The same objects twice (as an op's ledger rows are), then a Core insert of equal values.
                fast_insert(conn, t.ledger, _rows(op_id, at, 10 * n + 1, 10 * n + 2))
                conn.execute(sa.insert(t.ledger), _rows(op_id, at, 10 * n + 3))
        with engine.connect() as conn:
            raw = conn.exec_driver_sql("SELECT entry_seq, effective_at, recorded_at, op_id FROM ledger ORDER BY entry_seq").all()
            loaded = conn.execute(sa.select(t.ledger.c.entry_seq, t.ledger.c.effective_at).order_by(t.ledger.c.entry_seq)).all()
    finally:
        engine.dispose()
    by_seq = {row[0]: tuple(row[1:]) for row in raw}
    for n in range(len(times)):
        core = by_seq[10 * n + 3]
        assert by_seq[10 * n + 1] == by_seq[10 * n + 2] == core
    expected = {10 * n + k: (at if at.tzinfo else at.replace(tzinfo=dt.UTC)) for n, at in enumerate(times) for k in (1, 2, 3)}
    assert {seq: at for seq, at in loaded} == expected


def test_values_converted_ahead_into_a_memo_are_stored_as_a_core_insert_stores_them(database_url: str) -> None:
    """The ingest converts an op's id and times before it takes the store's lock (a seeded memo)."""
    engine = create_engine_for(database_url)
    migrate(engine)
    op_id, at = uuid.uuid4(), Op.model_validate_json(_OP_JSON).occurred_at
    equal_but_another = dt.datetime(2026, 3, 29, 1, 30, 5, 11, tzinfo=dt.UTC)  # == at, not the same object
    try:
        memo: Memo = {}
        writer = fast_writer(engine.dialect, t.ledger)
        writer.seed(memo, "op_id", [op_id])
        writer.seed(memo, "effective_at", [at])
        with engine.begin() as conn:
            fast_insert(conn, t.ledger, _rows(op_id, at, 1, 2), memo)
            fast_insert(conn, t.ledger, _rows(op_id, equal_but_another, 3), memo)
            conn.execute(sa.insert(t.ledger), _rows(op_id, at, 4))
        with engine.connect() as conn:
            raw = conn.exec_driver_sql("SELECT entry_seq, effective_at, recorded_at, op_id FROM ledger ORDER BY entry_seq").all()
    finally:
        engine.dispose()
    assert len({tuple(row[1:]) for row in raw}) == 1


def test_a_utc_time_takes_the_fast_path_on_sqlite() -> None:
    """The cut isoformat text is only used where it is the column type's own: were the check at
    import to fail, every time would go through SQLAlchemy's two layers again, slower, unseen."""
    writer = fast_writer(sa.create_engine("sqlite://").dialect, t.ops)
    procs = {writer.columns[i]: proc for i, proc, _ in writer.converters}
    assert procs["occurred_at"].__name__ == "fast"
    parsed = Op.model_validate_json(_OP_JSON).occurred_at
    assert procs["occurred_at"](parsed) == "2026-03-29 01:30:05.000011"
    assert procs["recorded_at"](dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=dt.UTC)) == "2026-03-29 01:30:05.000000"


def test_times_seeded_from_their_utc_isoformat_are_stored_as_a_core_insert_stores_them(database_url: str) -> None:
    """The ingest seeds an op's stored time from the UTC isoformat its fingerprint made (cut, on
    SQLite's fast path): for times in UTC, in another zone, with and without microseconds, and a
    naive one (taken as UTC by the column, converted the slow way), what is stored is Core's."""
    engine = create_engine_for(database_url)
    migrate(engine)
    times = [
        Op.model_validate_json(_OP_JSON).occurred_at,
        dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 3, 30, 5, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2026, 3, 29, 1, 30, 5, 9),
    ]
    isos = [at.astimezone(dt.UTC).isoformat() if at.tzinfo is not None else "not used for a naive time" for at in times]
    op_id = uuid.uuid4()
    try:
        memo: Memo = {}
        writer = fast_writer(engine.dialect, t.ledger)
        writer.seed_times(memo, "effective_at", times, isos)
        assert (engine.dialect.name == "sqlite") == ("effective_at" in writer.from_utc_iso)
        with engine.begin() as conn:
            for n, at in enumerate(times):
                fast_insert(conn, t.ledger, _rows(op_id, at, 10 + n), memo)
                conn.execute(sa.insert(t.ledger), _rows(op_id, at, 20 + n))
        with engine.connect() as conn:
            raw: dict[int, object] = dict(conn.exec_driver_sql("SELECT entry_seq, effective_at FROM ledger").all())
    finally:
        engine.dispose()
    assert [raw[10 + n] for n in range(len(times))] == [raw[20 + n] for n in range(len(times))]


def test_driver_level_statements_run_in_the_transaction_and_raise_sqlalchemys_errors(database_url: str) -> None:
    """driver_run uses the connection's own DBAPI cursor: its writes commit or roll back with the
    transaction, and a broken key is SQLAlchemy's IntegrityError (the ingest retries on it)."""
    engine = create_engine_for(database_url)
    migrate(engine)
    at = dt.datetime(2026, 3, 29, 1, 30, 5, tzinfo=dt.UTC)
    try:
        with pytest.raises(sa.exc.IntegrityError) as caught:
            with engine.begin() as conn:
                fast_insert(conn, t.ledger, _rows(uuid.uuid4(), at, 1, 2))
                assert driver_run(conn, "SELECT COUNT(*) FROM ledger", (), fetch=True) == [(2,)]
                fast_insert(conn, t.ledger, _rows(uuid.uuid4(), at, 2))
        assert "INSERT INTO" in str(caught.value.statement)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.ledger)).scalar_one() == 0  # rolled back
        with engine.begin() as conn:
            fast_insert(conn, t.ledger, _rows(uuid.uuid4(), at, 1))
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.ledger)).scalar_one() == 1
    finally:
        engine.dispose()
