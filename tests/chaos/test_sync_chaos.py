"""Sync under faults: a lossy network, a refused op, a service restart, two devices on one task,
a count over moving stock, and ops queued by an older release. Each ends with the service and the
devices compared exactly: no op missing, none applied twice, every refusal explained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from app.bootstrap import Device, build_device
from edge_sync.client import SyncClient
from edge_sync.engine import SyncEngine, SyncReport
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from tests.fixtures.store import STORE_ID, small_store
from tests.support.fault_proxy import DROP_RESPONSE, ERROR_5XX, FAULTS, FaultProxy
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
