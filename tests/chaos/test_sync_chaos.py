"""Sync under faults: a lossy network, a refused op, a service restart, two devices on one task,
a count over moving stock, and ops queued by an older release. Each ends with the service and the
devices compared exactly: no op missing, none applied twice, every refusal explained.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from uuid6 import uuid7

from app.bootstrap import Device, build_device
from edge_sync import contract, migrations, outbox, parked
from edge_sync.client import SyncClient
from edge_sync.db import create_device_engine, driver
from edge_sync.engine import SyncEngine, SyncReport
from edge_sync.status import read_status
from edge_sync.uow import UnitOfWork
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from tests.fixtures.store import STORE_ID, small_store
from tests.support.fault_proxy import DROP_RESPONSE, ERROR_5XX, EVEN_MIX, FAULTS, FaultProxy
from tests.support.ledger_check import DOCK, ITEM, LANE, balance, ledger_equality, qty_of, queue_putaways
from tests.support.live_server import live_server

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """The real service in this process on a fresh SQLite file with the small store: (url, its engine)."""
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}")
    load_master_data(app.state.services.engine, small_store())
    with live_server(app) as url:
        yield url, app.state.services.engine
    app.state.services.engine.dispose()


class Syncer:
    """A device database with a sync engine talking to `url`."""

    def __init__(self, path: Path, url: str, *, device_id: str, batch: int = 250, timeout: float = 10) -> None:
        self.device: Device = build_device(path, store_id=STORE_ID, device_id=device_id)
        self.http = httpx.Client(base_url=url, timeout=timeout)
        self.engine = SyncEngine(self.device.engine, SyncClient(self.http, store_id=STORE_ID), batch=batch)
        self.reports: list[SyncReport] = []

    def until_settled(self, max_runs: int) -> SyncReport:
        """Run until a run pushes everything and pulls to the end; bounded by `max_runs`."""
        for _ in range(max_runs):
            report = self.engine.run_once()
            self.reports.append(report)
            if report.ok and report.drained and report.pull_complete:
                return report
        raise AssertionError(f"not settled after {max_runs} runs; last error: {self.reports[-1].error}")

    def close(self) -> None:
        self.http.close()
        self.device.engine.dispose()


def test_2000_ops_through_30_percent_mixed_faults_land_exactly_once(server: tuple[str, Engine], tmp_path: Path) -> None:
    url, server_db = server
    with FaultProxy(url, fault_rate=0.3, seed=4242, delay_s=(0.01, 0.1)) as proxy:
        dev = Syncer(tmp_path / "dev.db", proxy.url, device_id="dev-chaos", batch=25)
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
        dev = Syncer(tmp_path / "dev.db", proxy.url, device_id="dev-poison", batch=50)
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
    with FaultProxy(url, fault_rate=1.0, mix={DROP_RESPONSE: 1}, seed=8) as proxy:
        # The old release pushed its first 100 ops; the service applied them, the answer was lost.
        with httpx.Client(base_url=proxy.url, timeout=10) as old:
            with pytest.raises(httpx.TransportError):
                old.post(f"/v1/stores/{STORE_ID}/ops",
                         content=contract.PushRequest(ops=sent_by_old[:100]).model_dump_json(),
                         headers={"content-type": "application/json"})
        # The upgrade: a build whose payloads are schema_version 2 (version 1 still upgradable; the
        # contract has one version so far, so the bump is simulated), and the database migrated to head.
        monkeypatch.setattr(contract, "SCHEMA_VERSION", 2)
        proxy.configure(fault_rate=0.3, mix=EVEN_MIX)
        dev = Syncer(tmp_path / "dev.db", proxy.url, device_id="dev-old", batch=40)
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
