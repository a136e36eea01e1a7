"""The outbox and the unit of work on a real SQLite file: durability settings, seq, atomicity."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from app.domain.commands import Command
from app.domain.context import Actor, FakeClock
from app.domain.errors import WrongScan
from app.domain.policy import StorePolicy
from app.services.bus import HandlerContext, MessageBus, Outcome, UnknownCommand
from edge_sync import contract, outbox
from edge_sync.db import open_device_database
from edge_sync.tables import OutboxOp, Stock
from edge_sync.uow import UnitOfWork, uow_factory
from tests.conftest import outbox_rows

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
ACTOR = Actor(user_id="u1", session_id="s1")


def _append(uow: UnitOfWork, task_id: str = "t-1") -> outbox.AppendedOp:
    return uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id=task_id),
                         user_id="u1", session_id="s1", occurred_at=NOW)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = open_device_database(tmp_path / "d.db")
    with UnitOfWork(eng) as uow:
        outbox.register_device(uow.conn, store_id="store-001", device_id="dev-1")
        uow.commit()
    yield eng
    eng.dispose()


def test_the_database_runs_in_wal_with_full_sync_and_a_busy_timeout(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_a_unit_of_work_left_without_commit_keeps_nothing_not_even_its_seq(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        _append(uow)
    with UnitOfWork(engine) as uow:
        assert _append(uow).seq == 1
        uow.commit()
    assert [r["seq"] for r in outbox_rows(engine)] == [1]


def test_an_error_inside_the_unit_of_work_rolls_back_state_and_op_together(engine: Engine) -> None:
    stock = Stock.__table__  # type: ignore[attr-defined]
    with pytest.raises(ZeroDivisionError):
        with UnitOfWork(engine) as uow:
            uow.conn.execute(stock.insert().values(item_id="i", location_id="l", status="available", qty=5))
            _append(uow)
            1 / 0  # noqa: B018
    with engine.connect() as conn:
        assert conn.execute(select(stock)).all() == []
    assert outbox_rows(engine) == []


def test_seq_is_gap_free_and_unique_when_threads_write_at_once(engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(25):
                with UnitOfWork(engine) as uow:
                    _append(uow)
                    uow.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r["seq"] for r in outbox_rows(engine)] == list(range(1, 101))
    assert len({r["op_id"] for r in outbox_rows(engine)}) == 100


def test_op_ids_are_uuid7_and_ordered_like_seq(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        ops = [_append(uow) for _ in range(5)]
        uow.commit()
    assert all(op.op_id.version == 7 for op in ops)
    assert sorted(ops, key=lambda o: o.op_id) == ops


def test_seq_continues_from_the_last_op_and_appending_leaves_sync_state_alone(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        assert [_append(uow).seq for _ in range(3)] == [1, 2, 3]
        uow.commit()
    with engine.connect() as conn:
        assert outbox.next_seq(conn) == 4
        assert conn.execute(text("SELECT next_seq FROM sync_state")).scalar() == 1  # only read: no page written


def test_next_seq_is_a_floor_the_first_op_of_a_device_respects(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE sync_state SET next_seq = 10"))
    with UnitOfWork(engine) as uow:
        assert [_append(uow).seq for _ in range(2)] == [10, 11]
        uow.commit()
    with engine.connect() as conn:
        assert outbox.next_seq(conn) == 12


def test_appending_before_the_device_is_registered_says_so(tmp_path: Path) -> None:
    eng = open_device_database(tmp_path / "fresh.db")
    with UnitOfWork(eng) as uow, pytest.raises(outbox.DeviceNotRegistered):
        _append(uow)


def test_a_database_cannot_be_moved_to_another_store(engine: Engine) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(ValueError, match="belongs to device dev-1"):
        outbox.register_device(uow.conn, store_id="store-002", device_id="dev-1")


def test_pending_ops_come_in_seq_order_and_in_batches(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        for i in range(7):
            _append(uow, f"t-{i}")
        uow.commit()
    with engine.connect() as conn:
        first = outbox.pending_ops(conn, limit=5)
        rest = outbox.pending_ops(conn, limit=5, after_seq=first[-1].seq)
        assert outbox.count_by_state(conn) == {"pending": 7}
    assert [o.seq for o in first] == [1, 2, 3, 4, 5]
    assert [o.seq for o in rest] == [6, 7]
    assert rest[-1].payload == {"task_id": "t-6"}


# --- the bus ----------------------------------------------------------------------------------


class _Ping(Command):
    pass


def _ping_handler(cmd: _Ping, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    appended = uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id="t-1"),
                             user_id=ctx.actor.user_id, session_id=ctx.actor.session_id,
                             occurred_at=ctx.clock.now(), command_id=cmd.command_id)
    return Outcome(message=f"saved #{appended.seq}", data={"seq": appended.seq})


def _refusing_handler(cmd: _Ping, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    _append(uow)
    raise WrongScan("This is a location: scan an item")


def _bus(engine: Engine, handler: object) -> MessageBus:
    return MessageBus(uow_factory(engine), {_Ping: handler}, clock=FakeClock(NOW), policy=StorePolicy())  # type: ignore[dict-item]


def test_the_same_command_id_twice_does_its_work_once_and_returns_the_first_outcome(engine: Engine) -> None:
    bus = _bus(engine, _ping_handler)
    first = bus.handle(_Ping(command_id="scan-1"), ACTOR)
    again = bus.handle(_Ping(command_id="scan-1"), ACTOR)
    other = bus.handle(_Ping(command_id="scan-2"), ACTOR)
    assert (first.message, first.repeated) == ("saved #1", False)
    assert (again.message, again.data, again.repeated) == ("saved #1", {"seq": 1}, True)
    assert other.data == {"seq": 2}
    assert len(outbox_rows(engine)) == 2


def test_a_refused_command_writes_nothing_and_can_be_retried(engine: Engine) -> None:
    bus = _bus(engine, _refusing_handler)
    with pytest.raises(WrongScan, match="scan an item"):
        bus.handle(_Ping(command_id="scan-1"), ACTOR)
    assert outbox_rows(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM processed_commands")).scalar() == 0


def test_a_command_without_a_handler_is_a_wiring_error(engine: Engine) -> None:
    bus = MessageBus(uow_factory(engine), {}, clock=FakeClock(NOW), policy=StorePolicy())
    with pytest.raises(UnknownCommand):
        bus.handle(_Ping(command_id="x"), ACTOR)


def test_outbox_rows_keep_who_and_when(engine: Engine) -> None:
    bus = _bus(engine, _ping_handler)
    bus.handle(_Ping(command_id="scan-1"), ACTOR)
    row = outbox_rows(engine)[0]
    t = OutboxOp.__table__  # type: ignore[attr-defined]
    assert set(row) == {c.name for c in t.columns}
    assert (row["user_id"], row["session_id"], row["state"], row["command_id"]) == ("u1", "s1", "pending", "scan-1")
    assert row["schema_version"] == contract.SCHEMA_VERSION
    assert row["occurred_at"] == NOW


def test_moving_stock_without_queueing_an_op_is_refused_and_rolled_back(engine: Engine) -> None:
    from edge_sync.overlay import MoveWithoutOp
    from edge_sync.repositories.master import StockRepository

    with pytest.raises(MoveWithoutOp), UnitOfWork(engine) as uow:
        StockRepository(uow.conn).move("item-1", "loc-1", "available", 3)
        uow.commit()
    with UnitOfWork(engine) as uow:  # the next unit of work on the same pooled connection is clean
        _append(uow)
        uow.commit()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM local_moves").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM stock").scalar() == 0


def test_the_checkpointer_copies_committed_work_into_the_database_file(tmp_path: Path) -> None:
    import shutil
    import sqlite3
    import time

    from edge_sync.db import Checkpointer

    eng = open_device_database(tmp_path / "c.db")
    with UnitOfWork(eng) as uow:
        outbox.register_device(uow.conn, store_id="store-001", device_id="dev-1")
        uow.commit()
    for _ in range(300):
        with UnitOfWork(eng) as uow:
            _append(uow)
            uow.commit()

    def rows_in_the_file_alone() -> int:
        shutil.copy(tmp_path / "c.db", tmp_path / "copy.db")  # the database file without its WAL
        conn = sqlite3.connect(tmp_path / "copy.db")
        try:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
        except sqlite3.OperationalError:  # not even the schema has left the WAL yet
            return 0
        finally:
            conn.close()

    assert rows_in_the_file_alone() == 0  # commits sit in the WAL: no checkpoint ran in them
    checkpointer = Checkpointer(tmp_path / "c.db", interval_s=0.05).start()
    deadline = time.monotonic() + 10
    while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    checkpointer.stop()
    assert rows_in_the_file_alone() == 300
    eng.dispose()
