"""Kill -9 a process that commits ops in a loop: nothing it acknowledged may be lost."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from edge_sync import outbox

ROUNDS = 30
pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def _run_and_kill(db: Path, rng: random.Random) -> list[tuple[int, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.chaos.crash_writer", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout is not None
    acked: list[tuple[int, str]] = []
    ready = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("READY"):
                ready.set()
            elif line.startswith("ACK "):
                _, seq, op_id = line.split()
                acked.append((int(seq), op_id))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    assert ready.wait(30), proc.stderr.read() if proc.stderr else "writer never became ready"
    time.sleep(rng.uniform(0.005, 0.25))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    thread.join(10)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    if proc.stderr is not None:
        proc.stderr.close()
    return acked


def test_every_acknowledged_op_survives_kill_9_with_gap_free_seq_and_a_sound_file(tmp_path: Path) -> None:
    db = tmp_path / "device.db"
    rng = random.Random(20261122)
    acked: dict[int, str] = {}
    kills_mid_write = 0
    for _ in range(ROUNDS):
        got = _run_and_kill(db, rng)
        kills_mid_write += bool(got)
        for seq, op_id in got:
            acked[seq] = op_id

        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = dict(conn.execute("SELECT seq, op_id FROM outbox").fetchall())
            seqs = sorted(rows)
            assert seqs == list(range(1, len(seqs) + 1)), "seq has a gap"
            missing = {s: o for s, o in acked.items() if rows.get(s) != o}
            assert missing == {}, f"acknowledged ops lost: {missing}"
            # State and op were committed together: one unit of stock per op, no more, no less.
            stock = conn.execute("SELECT coalesce(sum(qty), 0) FROM stock").fetchone()[0]
            assert stock == len(rows)
            # The next op continues the sequence where the committed ones end.
            assert conn.execute(outbox.NEXT_SEQ_SQL).fetchone()[0] == len(rows) + 1
        finally:
            conn.close()
    assert len(acked) > ROUNDS, "the writer barely wrote: the test proved nothing"
    assert kills_mid_write >= ROUNDS // 2
