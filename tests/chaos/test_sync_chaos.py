"""Sync under faults: a lossy network, a refused op, a service restart, two devices on one task,
a count over moving stock, and ops queued by an older release. Each ends with the service and the
devices compared exactly: no op missing, none applied twice, every refusal explained.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from uuid6 import uuid7

from app.bootstrap import Device, build_device
from app.domain.commands import ClaimTask, ConfirmPick, RecordCount
from app.domain.context import FakeClock
from edge_sync import contract, migrations, outbox, outcomes, parked
from edge_sync.client import SyncClient
from edge_sync.db import create_device_engine, driver
from edge_sync.engine import SyncEngine, SyncReport
from edge_sync.status import read_status
from edge_sync.uow import UnitOfWork
from server_stub.app import create_app
from server_stub import tables as server_tables
from server_stub.db import create_engine_for
from server_stub.ledger import balance_as_of
from server_stub.masterdata import load_master_data
from tests.fixtures.store import MUG_EACH, STORE_ID, TEA, small_store
from edge_sync.signing import RequestSigner
from tests.support.devices import approved_device, approved_device_at, signer_from
from tests.support.fault_proxy import DROP_RESPONSE, ERROR_5XX, EVEN_MIX, FAULTS, FaultProxy
from tests.support.ledger_check import DOCK, ITEM, LANE, balance, ledger_equality, qty_of, queue_putaways
from tests.support.live_server import free_port, live_server
from tests.support.server_process import ServiceProcess, prepare_database
from tests.support.sync_stack import Handheld, handheld

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def chaos_store() -> contract.MasterData:
    """The small test store with a second associate, so two people can work one task."""
    store = small_store()
    second = contract.UserRecord(user_id="u-assoc-2", name="Bo Associate", role=contract.Role.ASSOCIATE, badge="BADGE-0004")
    return store.model_copy(update={"users": [*store.users, second]})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The real service in this process on a fresh SQLite file with the small store: (url, its engine)."""
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}")
    load_master_data(app.state.services.engine, chaos_store())
    with live_server(app) as url:
        yield url, app.state.services.engine
    app.state.services.engine.dispose()


def settle(engine: SyncEngine, max_runs: int, reports: list[SyncReport] | None = None) -> SyncReport:
    """Run `engine` until one run pushes everything and pulls to the end; at most `max_runs` runs."""
    reports = [] if reports is None else reports
    for _ in range(max_runs):
        report = engine.run_once()
        reports.append(report)
        if report.ok and report.drained and report.pull_complete:
            return report
    raise AssertionError(f"not settled after {max_runs} runs; last error: {reports[-1].error}")


def enrolled(server_db: Engine, device_id: str, tmp_path: Path) -> RequestSigner:
    """The signer of a device enrolled and approved in the test store, its key a 0600 file under `tmp_path`."""
    return approved_device(server_db, STORE_ID, device_id, key_dir=tmp_path / "keys")


class Syncer:
    """A device database with a sync engine talking to `url`, every request signed by `signer`."""

    def __init__(self, path: Path, url: str, *, signer: RequestSigner, batch: int = 250, timeout: float = 10) -> None:
        self.device: Device = build_device(path, store_id=STORE_ID, device_id=signer.device_id)
        self.http = httpx.Client(base_url=url, timeout=timeout, auth=signer)
        self.engine = SyncEngine(self.device.engine, SyncClient(self.http, store_id=STORE_ID), batch=batch)
        self.reports: list[SyncReport] = []

    def until_settled(self, max_runs: int) -> SyncReport:
        """Run until a run pushes everything and pulls to the end; bounded by `max_runs`."""
        return settle(self.engine, max_runs, self.reports)

    def close(self) -> None:
        self.http.close()
        self.device.engine.dispose()


def test_2000_ops_through_30_percent_mixed_faults_land_exactly_once(server: tuple[str, Engine], tmp_path: Path) -> None:
    url, server_db = server
    with FaultProxy(url, fault_rate=0.3, seed=4242, delay_s=(0.01, 0.1)) as proxy:
        dev = Syncer(tmp_path / "dev.db", proxy.url, signer=enrolled(server_db, "dev-chaos", tmp_path), batch=25)
        try:
            # Work keeps arriving while the sync fights the network: ten waves of 200 ops.
            for wave in range(10):
                queue_putaways(dev.device.engine, 200, start=wave * 200)
                for _ in range(3):
                    dev.reports.append(dev.engine.run_once())
            last = dev.until_settled(max_runs=400)
        finally:
            dev.close()
        counts = dict(proxy.counts)
    check = ledger_equality(server_db, dev.device.engine, store_id=STORE_ID, device_id="dev-chaos")
    assert check.problems == [], check.problems
    assert (check.device_ops, check.server_ops, check.applied, check.ledger_rows) == (2000, 2000, 2000, 4000)
    assert set(check.device_states) <= {"applied", "duplicate"}
    moved = sum(qty_of(i) for i in range(2000))
    assert balance(server_db, STORE_ID, ITEM, LANE, "available") == moved
    assert balance(server_db, STORE_ID, ITEM, DOCK, "received") == -moved
    # The faults really happened, of every kind, and some answers were lost after the commit.
    requests = sum(counts.values())
    assert all(counts.get(kind, 0) > 0 for kind in FAULTS), counts
    assert 0.2 < sum(counts.get(k, 0) for k in FAULTS) / requests < 0.4, counts
    assert counts[DROP_RESPONSE] >= 5 and counts[ERROR_5XX] >= 5
    assert any(r.duplicate for r in dev.reports) or check.device_states["duplicate"] > 0
    assert sum(1 for r in dev.reports if r.error) >= 10
    # The device shows what the service holds, nothing counted twice.
    with dev.device.engine.connect() as conn:
        shown = conn.exec_driver_sql("SELECT qty FROM stock WHERE item_id = ? AND location_id = ? AND status = ?",
                                     (ITEM, LANE, "available")).scalar_one()
        pending = conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE state = 'pending'").scalar_one()
    assert (shown, pending) == (moved, 0)
    assert last.error is None


POISONS = {
    # The service refuses it: a location the store does not have.
    "unknown_location": ("$.to_location_id", "'loc-nowhere'", "loc-nowhere"),
    # The device's stored payload is broken (a negative quantity): sent as stored, refused on arrival.
    "invalid_payload": ("$.qty", "-4", "invalid payload"),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poison_op_in_the_middle_of_500_is_parked_with_its_reason_and_the_rest_land_in_order(
        poison: str, server: tuple[str, Engine], tmp_path: Path) -> None:
    url, server_db = server
    path, value, words = POISONS[poison]
    with FaultProxy(url, fault_rate=0.2, seed=77) as proxy:
        dev = Syncer(tmp_path / "dev.db", proxy.url, signer=enrolled(server_db, "dev-poison", tmp_path), batch=50)
        try:
            queue_putaways(dev.device.engine, 500)
            with dev.device.engine.begin() as conn:
                conn.exec_driver_sql(f"UPDATE outbox SET payload = json_set(payload, '{path}', {value}) WHERE seq = 250")
            dev.until_settled(max_runs=200)
            with UnitOfWork(dev.device.engine) as uow:
                waiting = parked.list_parked(uow)
        finally:
            dev.close()
    check = ledger_equality(server_db, dev.device.engine, store_id=STORE_ID, device_id="dev-poison")
    assert check.problems == [], check.problems
    assert (check.server_ops, check.applied, check.rejected) == (500, 499, 1)
    assert check.device_states == {"applied": 499 - check.device_states["duplicate"],
                                   "duplicate": check.device_states["duplicate"], "parked": 1}
    [op] = waiting
    assert op.seq == 250 and words in op.reason
    moved = sum(qty_of(i) for i in range(500) if i != 249)
    assert balance(server_db, STORE_ID, ITEM, LANE, "available") == moved
    status = read_status(dev.device.engine)
    assert (status.pending, status.parked) == (0, 1)


def _old_release_device(path: Path, n: int, at: dt.datetime) -> list[contract.Op]:
    """A device database as the first release left it (migration 0001), with `n` ops queued by it."""
    engine = create_device_engine(path)
    migrations.migrate(engine, target="0001_initial")
    rows = [(i + 1, str(uuid7()), contract.OpType.PUTAWAY_CONFIRM.value, "u-assoc", "s-old", at.isoformat(),
             contract.PutawayConfirmPayload(item_id=ITEM, qty=qty_of(i), from_location_id=DOCK,
                                            to_location_id=LANE).model_dump_json()) for i in range(n)]
    with engine.begin() as conn:
        outbox.register_device(conn, store_id=STORE_ID, device_id="dev-old")
        # The first release's statements: no `resolution`, `feed_seen` or scan columns yet.
        driver(conn).executemany(
            "INSERT INTO outbox (seq, op_id, type, schema_version, user_id, session_id, occurred_at,"
            " clock_offset_ms, payload, state, attempts) VALUES (?, ?, ?, 1, ?, ?, ?, 0, ?, 'pending', 0)", rows)
        conn.exec_driver_sql("UPDATE sync_state SET next_seq = ?", (n + 1,))
    engine.dispose()
    # What that release put on the wire: schema_version 1, the payload as written.
    return [contract.Op(op_id=r[1], store_id=STORE_ID, device_id="dev-old", seq=r[0], type=r[2], schema_version=1,
                        user_id=r[3], session_id=r[4], occurred_at=at, payload=json.loads(r[6])) for r in rows]


def test_ops_queued_by_an_older_release_drain_after_the_upgrade_even_when_their_first_answer_was_lost(
        server: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, server_db = server
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
    sent_by_old = _old_release_device(tmp_path / "dev.db", 300, at)
    signer = enrolled(server_db, "dev-old", tmp_path)
    with FaultProxy(url, fault_rate=1.0, mix={DROP_RESPONSE: 1}, seed=8) as proxy:
        # The old release pushed its first 100 ops; the service applied them, the answer was lost.
        with httpx.Client(base_url=proxy.url, timeout=10, auth=signer) as old:
            with pytest.raises(httpx.TransportError):
                old.post(f"/v1/stores/{STORE_ID}/ops",
                         content=contract.PushRequest(ops=sent_by_old[:100]).model_dump_json(),
                         headers={"content-type": "application/json"})
        # The upgrade: a build whose payloads are schema_version 2 (version 1 still upgradable; the
        # contract has one version so far, so the bump is simulated), and the database migrated to head.
        monkeypatch.setattr(contract, "SCHEMA_VERSION", 2)
        proxy.configure(fault_rate=0.3, mix=EVEN_MIX)
        dev = Syncer(tmp_path / "dev.db", proxy.url, signer=signer, batch=40)
        try:
            queue_putaways(dev.device.engine, 100, start=300)  # new work, written as version 2
            with dev.device.engine.connect() as conn:
                versions = dict(conn.exec_driver_sql(
                    "SELECT schema_version, count(*) FROM outbox GROUP BY schema_version").all())
            assert versions == {1: 300, 2: 100}
            dev.until_settled(max_runs=200)
        finally:
            dev.close()
    check = ledger_equality(server_db, dev.device.engine, store_id=STORE_ID, device_id="dev-old")
    assert check.problems == [], check.problems
    assert (check.device_ops, check.applied, check.rejected) == (400, 400, 0)
    assert set(check.device_states) <= {"applied", "duplicate"} and check.device_states["duplicate"] >= 100
    assert balance(server_db, STORE_ID, ITEM, LANE, "available") == sum(qty_of(i) for i in range(400))


def _pulled_task(h: Handheld, task_id: str) -> tuple[str | None, list[tuple[str, int, int]]]:
    with h.device.engine.connect() as conn:
        holder = conn.exec_driver_sql("SELECT lease_holder_device_id FROM tasks WHERE task_id = ?", (task_id,)).scalar_one()
        lines = conn.exec_driver_sql("SELECT line_id, qty, done_qty FROM task_lines WHERE task_id = ? ORDER BY line_id",
                                     (task_id,)).all()
    return holder, [tuple(r) for r in lines]


def test_two_devices_that_claimed_and_picked_one_task_offline_get_one_claim_both_movements_and_an_exception(
        server: tuple[str, Engine], tmp_path: Path) -> None:
    url, server_db = server
    clock = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10))
    with FaultProxy(url, fault_rate=0.0, seed=5) as proxy:
        a = handheld(tmp_path, proxy.url, name="dev-a", clock=clock, user_id="u-assoc")
        b = handheld(tmp_path, proxy.url, name="dev-b", clock=clock, user_id="u-assoc-2")
        try:
            # Both handhelds are offline; each takes the pick task and picks the whole order.
            for h in (a, b):
                h.handle(ClaimTask(command_id=f"{h.actor.device_id}-claim", task_id="task-pick-1"))
                clock.advance(30)
                h.handle(ConfirmPick(command_id=f"{h.actor.device_id}-mug", task_id="task-pick-1", line_id="1",
                                     scanned_location_code="A-01-01-1", gtin=MUG_EACH, qty=2))
                h.handle(ConfirmPick(command_id=f"{h.actor.device_id}-tea", task_id="task-pick-1", line_id="2",
                                     scanned_location_code="B-01-01-1", gtin=TEA))
            proxy.configure(fault_rate=0.3)
            settle(a.sync, 100)
            settle(b.sync, 100)
            settle(a.sync, 100)  # A hears of B's work
            with UnitOfWork(a.device.engine) as uow:
                a_attention = outcomes.needs_attention(uow.conn)
            with UnitOfWork(b.device.engine) as uow:
                b_attention = outcomes.needs_attention(uow.conn)
            a_task, b_task = _pulled_task(a, "task-pick-1"), _pulled_task(b, "task-pick-1")
        finally:
            for h in (a, b):
                h.http.close()
                h.device.engine.dispose()
    # One claim wins: A's, the first to arrive. B's is refused with who holds the task.
    served = _server_ops(server_db)
    assert [(s["type"], s["status"]) for s in served if s["device_id"] == "dev-a"] == [
        ("task.claim", "applied"), ("pick.confirm", "applied"), ("pick.confirm", "applied")]
    assert [(s["type"], s["status"]) for s in served if s["device_id"] == "dev-b"] == [
        ("task.claim", "rejected"), ("pick.confirm", "applied"), ("pick.confirm", "applied")]
    # Both physical movements are in the ledger, once each: 2 mugs and 1 tea picked by each device.
    picks = {s["op_id"]: s for s in served if s["type"] == "pick.confirm"}
    entries = _ledger_of(server_db, set(picks))
    assert sorted((picks[e[0]]["device_id"], e[1], e[3], e[4]) for e in entries) == sorted(
        (d, item, status, sign * qty) for d in ("dev-a", "dev-b")
        for item, qty in (("item-mug", 2), ("item-tea", 1)) for status, sign in (("available", -1), ("picked", 1)))
    assert balance(server_db, STORE_ID, "item-mug", "loc-a-1", "available") == 18 - 4
    assert balance(server_db, STORE_ID, "item-mug", "loc-a-1", "picked") == 4
    # The clash is an exception for a manager, naming both devices.
    raised = _exceptions(server_db)
    assert sorted((e["kind"], e["device_id"], e["details"]["earlier_device_id"]) for e in raised) == [
        ("double_pick", "dev-b", "dev-a"), ("double_pick", "dev-b", "dev-a")]
    # Device B tells its associate: the claim was refused (and by whom), both picks were recorded
    # and each raised an exception a manager will look at.
    assert [(o.type, o.recorded) for o in b_attention] == [
        ("task.claim", False), ("pick.confirm", True), ("pick.confirm", True)]
    assert "held by u-assoc on device dev-a" in (b_attention[0].reason or "")
    assert sorted(x for o in b_attention for x in o.exception_ids) == sorted(e["exception_id"] for e in raised)
    assert [k for o in b_attention for k in o.exception_kinds] == ["double_pick", "double_pick"]
    assert all("earlier picks by u-assoc on dev-a" in s for o in b_attention for s in o.summaries)
    # Device A's own work went through cleanly; both show the task as A's, with the lines over-picked.
    assert a_attention == []
    assert a_task == b_task == ("dev-a", [("1", 2, 4), ("2", 1, 2)])


@pytest.mark.parametrize("first", ["sales", "count"])
def test_a_count_posts_as_of_its_moment_and_sales_around_it_survive(first: str, server: tuple[str, Engine],
                                                                   tmp_path: Path) -> None:
    url, server_db = server
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    sales_clock, count_clock = FakeClock(t0), FakeClock(t0)
    with FaultProxy(url, fault_rate=0.0, seed=6) as proxy:
        seller = handheld(tmp_path, proxy.url, name="dev-sales", clock=sales_clock, user_id="u-assoc")
        counter = handheld(tmp_path, proxy.url, name="dev-count", clock=count_clock, user_id="u-assoc-2")
        try:
            # 18 mugs on A-01-01-1. One is sold at t0+5; the shelf is counted from t0+10 to t0+12
            # and 16 are found (one lost); another is sold at t0+20. Nobody is online meanwhile.
            seller.handle(ClaimTask(command_id="claim", task_id="task-pick-1"))
            sales_clock.current = t0 + dt.timedelta(minutes=5)
            seller.handle(ConfirmPick(command_id="sale-1", task_id="task-pick-1", line_id="1",
                                      scanned_location_code="A-01-01-1", gtin=MUG_EACH, qty=1))
            sales_clock.current = t0 + dt.timedelta(minutes=20)
            seller.handle(ConfirmPick(command_id="sale-2", task_id="task-pick-1", line_id="1",
                                      scanned_location_code="A-01-01-1", gtin=MUG_EACH, qty=1))
            count_clock.current = t0 + dt.timedelta(minutes=12)
            counter.handle(RecordCount(command_id="count", count_id="cnt-1", location_id="loc-a-1", item_id="item-mug",
                                       counted_qty=16, started_at=t0 + dt.timedelta(minutes=10),
                                       counted_at=t0 + dt.timedelta(minutes=12)))
            proxy.configure(fault_rate=0.3)
            order = (seller, counter) if first == "sales" else (counter, seller)
            for h in (*order, counter):
                settle(h.sync, 100)
            with counter.device.engine.connect() as conn:
                [count_op] = conn.exec_driver_sql("SELECT result FROM outbox WHERE type = 'count.record'").scalars()
                shown = conn.exec_driver_sql("SELECT qty FROM stock WHERE item_id = 'item-mug'"
                                             " AND location_id = 'loc-a-1' AND status = 'available'").scalar_one()
        finally:
            for h in (seller, counter):
                h.http.close()
                h.device.engine.dispose()
    # Both sales survive: 16 counted, minus the one sold after the count; 16 as of counted_at.
    assert balance(server_db, STORE_ID, "item-mug", "loc-a-1", "picked") == 2
    assert balance(server_db, STORE_ID, "item-mug", "loc-a-1", "available") == 15
    assert shown == 15
    with server_db.connect() as conn:
        lg = server_tables.ledger
        adjustments = conn.execute(sa.select(lg.c.delta, lg.c.effective_at).where(
            lg.c.store_id == STORE_ID, lg.c.reason == "count")).all()
        as_of_count = balance_as_of(conn, STORE_ID, "item-mug", "loc-a-1", "available", t0 + dt.timedelta(minutes=12))
        rebases = conn.execute(sa.select(lg.c.delta, lg.c.effective_at).where(
            lg.c.store_id == STORE_ID, lg.c.reason == "count_rebase")).all()
    assert as_of_count == 16
    counted_at = t0 + dt.timedelta(minutes=12)
    result = json.loads(count_op)
    if first == "sales":
        # The adjustment is against the balance at counted_at (18 - 1 sold before = 17): -1, not -2.
        assert adjustments == [(-1, counted_at)] and rebases == []
        assert (result["outcome"], result["balance_qty"], result["adjustment"]) == ("posted", 17, -1)
    else:
        # The count came first (against 18: -2); the sale made before it arrived later and is
        # recorded, and the unit the counter had already seen gone is put back at counted_at.
        assert adjustments == [(-2, counted_at)] and rebases == [(1, counted_at)]
        assert (result["outcome"], result["balance_qty"], result["adjustment"]) == ("posted", 18, -2)


def _server_ops(server_db: Engine) -> list[dict[str, object]]:
    o = server_tables.ops
    with server_db.connect() as conn:
        rows = conn.execute(sa.select(o.c.op_id, o.c.device_id, o.c.seq, o.c.type, o.c.status)
                            .where(o.c.store_id == STORE_ID).order_by(o.c.device_id, o.c.seq)).all()
    return [dict(r._mapping) for r in rows]


def _ledger_of(server_db: Engine, op_ids: set[object]) -> list[tuple[object, str, str, str, int]]:
    lg = server_tables.ledger
    with server_db.connect() as conn:
        rows = conn.execute(sa.select(lg.c.op_id, lg.c.item_id, lg.c.location_id, lg.c.status, lg.c.delta)
                            .where(lg.c.store_id == STORE_ID, lg.c.op_id.in_(op_ids))).all()
    return [tuple(r) for r in rows]


def _exceptions(server_db: Engine) -> list[dict[str, object]]:
    ex = server_tables.exceptions
    with server_db.connect() as conn:
        rows = conn.execute(sa.select(ex.c.exception_id, ex.c.kind, ex.c.device_id, ex.c.details)
                            .where(ex.c.store_id == STORE_ID)).all()
    return [dict(r._mapping) for r in rows]


def test_a_drain_resumes_and_completes_across_service_restarts(tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    database_url = prepare_database(db, chaos_store())
    # Enrolled and approved in the service's file before it starts, as an operator would.
    approved_device_at(database_url, STORE_ID, "dev-restart", tmp_path / "keys")
    signer = signer_from(tmp_path / "keys", STORE_ID, "dev-restart")
    dev = Syncer(tmp_path / "dev.db", "http://127.0.0.1:1", signer=signer, batch=20)
    queue_putaways(dev.device.engine, 3000)
    done = threading.Event()
    failures: list[BaseException] = []

    def drain() -> None:
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                report = dev.engine.run_once()
                dev.reports.append(report)
                if report.ok and report.drained and report.pull_complete:
                    return
                time.sleep(0.05 if report.error else 0)  # a short backoff while the service is away
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            done.set()

    def landed() -> int:
        with dev.device.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE state != 'pending'").scalar_one())

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 60
        while landed() < n and not done.is_set() and time.monotonic() < deadline:
            time.sleep(0.005)

    service = ServiceProcess(db, port=free_port())
    service.start()
    dev.http.base_url = httpx.URL(service.url)
    worker = threading.Thread(target=drain, name="drain", daemon=True)
    try:
        worker.start()
        wait_for(1000)
        at_stop = landed()
        service.stop()          # a graceful restart: requests under way finish first
        time.sleep(0.3)
        service.start()
        wait_for(at_stop + 800)
        at_kill = landed()
        service.kill()          # then a crash: whatever the service was doing stops there
        time.sleep(0.3)
        service.start()
        assert done.wait(90), "the drain did not finish"
        worker.join(10)
    finally:
        service.stop()
        dev.close()
    assert failures == []
    assert 0 < at_stop < at_kill < 3000, (at_stop, at_kill)
    assert sum(1 for r in dev.reports if r.error) >= 2, "the device never noticed the service was away"
    server_db = create_engine_for(f"sqlite:///{db}")
    try:
        check = ledger_equality(server_db, dev.device.engine, store_id=STORE_ID, device_id="dev-restart")
        with server_db.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        moved = balance(server_db, STORE_ID, ITEM, LANE, "available")
    finally:
        server_db.dispose()
    assert check.problems == [], check.problems
    assert (check.device_ops, check.applied) == (3000, 3000)
    assert moved == sum(qty_of(i) for i in range(3000))
    assert service.starts == 3
