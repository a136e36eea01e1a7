"""20,000 ops queued offline drain in one go, and the device process's memory stays bounded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.bootstrap import build_device
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from tests.fixtures.store import STORE_ID, small_store
from tests.support.devices import approved_device
from tests.support.ledger_check import ITEM, LANE, balance, ledger_equality, qty_of, queue_putaways
from tests.support.live_server import live_server

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CEILING_MB = 150
"""The device's whole process, interpreter and libraries included (bench/drain.py's target)."""
GROWTH_MB = 25
"""How much more the 20,000-op drain may peak at than the 2,000-op one."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}")
    load_master_data(app.state.services.engine, small_store())
    with live_server(app) as url:
        yield url, app.state.services.engine
    app.state.services.engine.dispose()


def _drain(tmp_path: Path, server: tuple[str, Engine], n: int, device_id: str) -> tuple[Path, dict[str, Any]]:
    """Queue `n` ops offline in a new device database, then drain it, signed, in a fresh process."""
    url, server_db = server
    db, keys = tmp_path / f"{device_id}.db", tmp_path / "keys"
    approved_device(server_db, STORE_ID, device_id, key_dir=keys)
    device = build_device(db, store_id=STORE_ID, device_id=device_id)
    queue_putaways(device.engine, n, per_txn=5000)
    device.engine.dispose()
    proc = subprocess.run([sys.executable, "-m", "tests.chaos.sync_device", str(db), url, "--finish",
                           "--batch", "250", "--device-id", device_id, "--key-dir", str(keys)],
                          capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    return db, json.loads(lines[lines.index("DONE") + 1])


def test_20000_ops_queued_offline_drain_with_peak_memory_bounded(server: tuple[str, Engine], tmp_path: Path) -> None:
    _, server_db = server
    _, small = _drain(tmp_path, server, 2_000, "dev-2k")
    db, large = _drain(tmp_path, server, 20_000, "dev-20k")
    assert (small["settled"], large["settled"]) == (2_000, 20_000)
    assert large["peak_rss_mb"] <= CEILING_MB, large
    assert large["peak_rss_mb"] <= small["peak_rss_mb"] + GROWTH_MB, (small, large)
    device = build_device(db, store_id=STORE_ID, device_id="dev-20k")
    try:
        check = ledger_equality(server_db, device.engine, store_id=STORE_ID, device_id="dev-20k")
    finally:
        device.engine.dispose()
    assert check.problems == [], check.problems
    assert (check.device_ops, check.applied) == (20_000, 20_000)
    moved = 2 * sum(qty_of(i) for i in range(2_000)) + sum(qty_of(i) for i in range(2_000, 20_000))
    assert balance(server_db, STORE_ID, ITEM, LANE, "available") == moved
