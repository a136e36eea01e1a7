"""Kill -9 the syncing device process at random moments, again and again: the service ends up with
exactly the device's ops, each applied once."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from edge_sync.db import create_device_engine
from server_stub.app import create_app
from server_stub.masterdata import load_master_data
from tests.fixtures.store import STORE_ID, small_store
from tests.support.devices import approved_device
from tests.support.ledger_check import ITEM, LANE, balance, ledger_equality
from tests.support.live_server import live_server

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

ROUNDS = 30
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    app = create_app(f"sqlite:///{tmp_path / 'server.db'}")
    load_master_data(app.state.services.engine, small_store())
    with live_server(app) as url:
        yield url, app.state.services.engine
    app.state.services.engine.dispose()


class Zygote:
    """tests.chaos.sync_device --zygote: forks device processes on demand; their lines come back here."""

    def __init__(self, log: Path) -> None:
        with log.open("a") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.chaos.sync_device", "--zygote"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                                         cwd=ROOT)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert self.expect("ZYGOTE", 60), "the zygote did not start"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, word: str, timeout: float) -> str | None:
        """The next line starting with `word` (others skipped), or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line.startswith(word):
                return line
        return None

    def fork(self, *argv: str) -> int:
        """Start one device process; its pid once it has opened its database."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(list(argv)) + "\n")
        self.proc.stdin.flush()
        ready = self.expect("READY", 30)
        assert ready is not None, "the device process did not start"
        return int(ready.split()[1])

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(20)
        self.reader.join(10)
        self.proc.stdout.close()


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    for _ in range(2000):  # the zygote's children are reaped by the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.005)
    raise AssertionError(f"device process {pid} outlived SIGKILL")


def _outbox(db: Path) -> tuple[int, dict[str, int]]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        seqs = [r[0] for r in conn.execute("SELECT seq FROM outbox ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1)), "seq has a gap"
        return len(seqs), dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    finally:
        conn.close()


def test_the_syncing_device_killed_30_times_at_random_moments_leaves_the_ledger_exactly_equal(
        server: tuple[str, Engine], tmp_path: Path) -> None:
    url, server_db = server
    db, log, keys = tmp_path / "device.db", tmp_path / "device.log", tmp_path / "keys"
    approved_device(server_db, STORE_ID, "dev-kill9", key_dir=keys)  # enrolled, approved; its key in `keys`
    rng = random.Random(20261123)
    grew = 0
    zygote = Zygote(log)
    try:
        for _ in range(ROUNDS):
            before, _ = _outbox(db) if db.exists() else (0, {})
            pid = zygote.fork(str(db), url, "--key-dir", str(keys))
            time.sleep(rng.uniform(0.02, 0.5))
            _kill(pid)
            after, _ = _outbox(db)
            grew += after > before
    finally:
        zygote.close()
    # Restarted for good, in a fresh process: it finishes the drain with nothing new to record.
    proc = subprocess.run([sys.executable, "-m", "tests.chaos.sync_device", str(db), url, "--finish",
                           "--key-dir", str(keys)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stderr[-2000:]
    ops, states = _outbox(db)
    # Enough work was under way when the kills came (a loaded 2-core machine records ~17 ops a round,
    # a quiet one ~30): most rounds recorded something, and hundreds of ops crossed the kills.
    assert grew >= ROUNDS // 2 and ops >= ROUNDS * 10, (grew, ops)
    device = create_device_engine(db)
    try:
        check = ledger_equality(server_db, device, store_id=STORE_ID, device_id="dev-kill9")
        with device.connect() as conn:
            qty = int(conn.exec_driver_sql("SELECT sum(json_extract(payload, '$.qty')) FROM outbox").scalar_one())
    finally:
        device.dispose()
    assert check.problems == [], check.problems
    assert (check.device_ops, check.server_ops, check.applied) == (ops, ops, ops)
    assert set(states) <= {"applied", "duplicate"}, states
    # Some kills fell between the service's commit and the device's settle: those ops went again
    # and were answered as duplicates, not applied twice.
    assert states.get("duplicate", 0) > 0, states
    assert balance(server_db, STORE_ID, ITEM, LANE, "available") == qty
