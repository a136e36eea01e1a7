"""The device database's migrations: head equals the tables, and old queued ops survive upgrades."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from app.domain.commands import Command
from app.domain.context import Actor, FakeClock
from app.domain.policy import StorePolicy
from app.services.bus import HandlerContext, MessageBus, Outcome
from edge_sync import contract, migrations, outbox
from edge_sync.db import create_device_engine, open_device_database
from edge_sync.tables import OutboxOp, metadata
from edge_sync.uow import UnitOfWork, uow_factory


def _schema(url: str) -> dict[str, object]:
    insp = inspect(create_engine(url))
    out: dict[str, object] = {}
    for table in sorted(insp.get_table_names()):
        if table == "schema_migrations":
            continue
        cols = {c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(table)}
        pk = tuple(insp.get_pk_constraint(table)["constrained_columns"])
        idx = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(table))
        uq = sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table))
        out[table] = (cols, pk, idx, uq)
    return out


def test_migrating_an_empty_file_to_head_gives_exactly_the_declared_tables(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    declared = tmp_path / "declared.db"
    open_device_database(migrated).dispose()
    engine = create_engine(f"sqlite:///{declared}")
    metadata.create_all(engine)
    engine.dispose()
    assert _schema(f"sqlite:///{migrated}") == _schema(f"sqlite:///{declared}")


def test_migrations_are_recorded_once_and_rerunning_is_a_no_op(tmp_path: Path) -> None:
    engine = create_device_engine(tmp_path / "d.db")
    assert migrations.migrate(engine) == [m.name for m in migrations.MIGRATIONS]
    assert migrations.migrate(engine) == []
    with engine.begin() as conn:
        assert migrations.applied(conn) == [m.name for m in migrations.MIGRATIONS]


def test_a_database_from_a_newer_app_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    engine = create_device_engine(tmp_path / "d.db")
    migrations.migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_migrations VALUES ('9999_future', 'x')"))
    with pytest.raises(RuntimeError, match="newer Backroom"):
        migrations.migrate(engine)


def test_a_failing_migration_leaves_no_half_applied_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = migrations.Migration("0003_broken", ("CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    engine = create_device_engine(tmp_path / "d.db")
    with pytest.raises(Exception):
        migrations.migrate(engine)
    with engine.begin() as conn:
        assert "0003_broken" not in migrations.applied(conn)
        assert conn.execute(text("SELECT name FROM sqlite_master WHERE name='half'")).first() is None
        assert "0002_parked_resolution_and_scan_log" in migrations.applied(conn)


def test_ops_queued_under_the_first_migration_are_intact_and_sendable_after_upgrading(tmp_path: Path) -> None:
    path = tmp_path / "old-device.db"
    engine = create_device_engine(path)
    migrations.migrate(engine, target="0001_initial")
    occurred = dt.datetime(2026, 10, 1, 8, 30, tzinfo=dt.UTC)
    payloads = [
        (contract.OpType.RECEIPT_RECEIVE, contract.ReceiptReceivePayload(
            receipt_id="r-1", po_id="po-1", item_id="item-mug", gtin="04006381333931", qty=3, lot="L1")),
        (contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
            item_id="item-mug", qty=3, from_location_id="loc-dock-1", to_location_id="loc-a-1")),
        (contract.OpType.TASK_CLAIM, contract.TaskClaimPayload(task_id="t-1", lease_until=occurred)),
    ]
    # Written with the statements the first release ran: no `resolution` column exists yet.
    with engine.begin() as conn:
        assert "resolution" not in {c["name"] for c in inspect(conn).get_columns("outbox")}
        outbox.register_device(conn, store_id="store-001", device_id="dev-old")
        for op_type, payload in payloads:
            conn.execute(
                text(
                    "INSERT INTO outbox (seq, op_id, type, schema_version, user_id, session_id, occurred_at,"
                    " clock_offset_ms, payload, state, attempts) VALUES (:seq, :op_id, :type, 1, 'u1', 's1',"
                    " :at, 0, :payload, 'pending', 0)"
                ),
                {"seq": len(conn.execute(text("SELECT seq FROM outbox")).all()) + 1,
                 "op_id": f"0190f000-0000-7000-8000-00000000000{payloads.index((op_type, payload)) + 1}",
                 "type": op_type.value, "at": occurred.isoformat(), "payload": payload.model_dump_json()},
            )
        conn.execute(text("UPDATE sync_state SET next_seq = 4"))
    engine.dispose()

    upgraded = open_device_database(path)
    with upgraded.connect() as conn:
        sent = outbox.pending_ops(conn)
    assert [op.seq for op in sent] == [1, 2, 3]
    assert [op.type for op in sent] == [p[0] for p in payloads]
    for op, (_, payload) in zip(sent, payloads, strict=True):
        assert op.payload == payload.model_dump(mode="json")
        assert op.store_id == "store-001" and op.device_id == "dev-old"
        assert op.occurred_at == occurred
        contract.PushRequest(ops=[op])  # valid on the wire
    # New work continues the same gap-free sequence.
    with UnitOfWork(upgraded) as uow:
        appended = uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id="t-1"),
                                 user_id="u1", session_id="s1", occurred_at=occurred)
        uow.commit()
    assert appended.seq == 4
    with upgraded.connect() as conn:
        t = OutboxOp.__table__  # type: ignore[attr-defined]
        assert [r.resolution for r in conn.execute(select(t.c.resolution))] == [None] * 4


@dataclass(frozen=True, slots=True, kw_only=True)
class _Release(Command):
    task_id: str


def _release(cmd: _Release, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    appended = uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id=cmd.task_id),
                             user_id=ctx.actor.user_id, session_id=ctx.actor.session_id,
                             occurred_at=ctx.clock.now(), command_id=cmd.command_id)
    return Outcome(message=f"Released {cmd.task_id}", data={"seq": appended.seq, "task_id": cmd.task_id})


def test_commands_handled_before_0007_answer_their_stored_outcome_after_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "0006-device.db"
    engine = create_device_engine(path)
    migrations.migrate(engine, target="0006_people_and_at_rest")
    occurred = dt.datetime(2026, 11, 1, 8, 30, tzinfo=dt.UTC)
    # What the 0006 release wrote for two handled commands: their ops queued, the outcome in
    # processed_commands itself (also for a command that queued no op).
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id="store-001", device_id="dev-old")
        for n, task_id in enumerate(["t-1", "t-2"], start=1):
            uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id=task_id),
                          user_id="u1", session_id="s1", occurred_at=occurred, command_id=f"old-{n}")
        uow.conn.execute(text(
            "INSERT INTO processed_commands (command_id, name, result, at) VALUES"
            " ('old-1', '_Release', :r1, :at), ('old-2', '_Release', :r2, :at), ('old-3', 'StartReceipt', :r3, :at)"),
            {"r1": '{"message": "Released t-1", "data": {"seq": 1, "task_id": "t-1"}}',
             "r2": '{"message": "Released t-2", "data": {"seq": 2, "task_id": "t-2"}}',
             "r3": '{"message": "Receipt r-9 started", "data": {"receipt_id": "r-9"}}', "at": occurred.isoformat()})
        uow.commit()
    engine.dispose()

    upgraded = open_device_database(path)
    try:
        bus = MessageBus(uow_factory(upgraded), {_Release: _release}, clock=FakeClock(occurred), policy=StorePolicy())
        actor = Actor(user_id="u1", session_id="s1")
        again = bus.handle(_Release(command_id="old-2", task_id="t-2"), actor)
        assert (again.message, again.data, again.repeated) == ("Released t-2", {"seq": 2, "task_id": "t-2"}, True)
        opless = bus.handle(_Release(command_id="old-3", task_id="t-3"), actor)
        assert (opless.message, opless.data, opless.repeated) == ("Receipt r-9 started", {"receipt_id": "r-9"}, True)
        # New work after the upgrade: its outcome rides on its op, and a repeat answers it all the same.
        first = bus.handle(_Release(command_id="new-1", task_id="t-4"), actor)
        repeat = bus.handle(_Release(command_id="new-1", task_id="t-4"), actor)
        assert (first.data, first.repeated) == ({"seq": 3, "task_id": "t-4"}, False)
        assert (repeat.message, repeat.data, repeat.repeated) == ("Released t-4", {"seq": 3, "task_id": "t-4"}, True)
        with upgraded.connect() as conn:
            sent = outbox.pending_ops(conn)
            stored = conn.execute(text(
                "SELECT command_id, seq, result IS NULL FROM processed_commands ORDER BY command_id")).all()
            outcomes = conn.execute(text("SELECT seq, outcome IS NULL FROM outbox ORDER BY seq")).all()
    finally:
        upgraded.dispose()
    # The queued ops are intact and still go out in order, nothing was done twice.
    assert [(op.seq, op.payload) for op in sent] == [(1, {"task_id": "t-1"}), (2, {"task_id": "t-2"}),
                                                     (3, {"task_id": "t-4"})]
    assert all(op.occurred_at == occurred for op in sent)
    assert [tuple(r) for r in stored] == [("new-1", 3, True), ("old-1", None, False), ("old-2", None, False),
                                          ("old-3", None, False)]
    assert [tuple(r) for r in outcomes] == [(1, True), (2, True), (3, False)]
