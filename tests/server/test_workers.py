"""The service with several worker processes on one SQLite file (`backroom server --workers 2`).

Writers of the workers queue on one lock file beside the database, so concurrent pushes from
several devices are each applied once, in order, with nothing refused as "database is locked";
and /metrics, whichever worker answers it, counts every worker's ops.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from edge_sync.contract import SCHEMA_VERSION, Op, OpType
from server_stub import tables as t
from server_stub.balance import STALE_S, WORKERS_DIR_ENV
from server_stub.db import create_engine_for, write_transaction, writer_lock_path
from server_stub.ledger import verify_balances
from tests.server.helpers import STORE, demo_master_data
from tests.support.devices import approved_device_at, signer_from
from tests.support.live_server import free_port
from tests.support.server_process import ServiceProcess, prepare_database

DEVICES = 3
BATCHES = 6
PER_BATCH = 20


def _batches(device_id: str) -> list[bytes]:
    now = dt.datetime.now(dt.UTC)
    out = []
    for b in range(BATCHES):
        ops = [
            Op(op_id=uuid.uuid4(), store_id=STORE, device_id=device_id, seq=b * PER_BATCH + n + 1, type=OpType.PUTAWAY_CONFIRM,
               schema_version=SCHEMA_VERSION, user_id="U-ASSOC", session_id="sess-1", occurred_at=now,
               payload={"item_id": f"I-{1 + n % 6}", "qty": 1, "from_location_id": "DOCK", "to_location_id": "STAGE"})
            for n in range(PER_BATCH)
        ]
        out.append(httpx.Request("POST", "/", json={"ops": [o.model_dump(mode="json") for o in ops]}).content)
    return out


def _applied_in_metrics(text: str) -> float:
    found = re.search(r'^backroom_ops_total\{status="applied"\} (\S+)$', text, re.MULTILINE)
    assert found, text[:2000]
    return float(found.group(1))


def test_two_workers_apply_concurrent_pushes_once_and_report_every_workers_counts(tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    url = prepare_database(db, demo_master_data())
    keys = tmp_path / "keys"
    devices = [f"HH-W{n}" for n in range(DEVICES)]
    for device_id in devices:
        approved_device_at(url, STORE, device_id, keys)
    errors: list[str] = []
    with ServiceProcess(db, port=free_port(), workers=2) as svc:

        def push(device_id: str) -> None:
            auth = signer_from(keys, STORE, device_id)
            for body in _batches(device_id):
                # A new connection for every push, so that both workers get pushes.
                with httpx.Client(base_url=svc.url, timeout=30, auth=auth) as http:
                    answer = http.post(f"/v1/stores/{STORE}/ops", content=body, headers={"content-type": "application/json"})
                if answer.status_code != 200:
                    errors.append(f"{answer.status_code} {answer.text[:300]}")
                    return
                bad = [r for r in answer.json()["results"] if r["status"] != "applied"]
                if bad:
                    errors.append(str(bad[0]))
                    return

        threads = [threading.Thread(target=push, args=(d,)) for d in devices]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        total = DEVICES * BATCHES * PER_BATCH
        scrapes = []
        for _ in range(6):
            with httpx.Client(base_url=svc.url, timeout=10) as http:
                scrapes.append(_applied_in_metrics(http.get("/metrics").text))
        assert scrapes == [total] * 6
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.select(t.ops.c.device_id, sa.func.count(), sa.func.max(t.ops.c.seq)).group_by(t.ops.c.device_id)
            ).all()
            assert sorted(stored) == [(d, BATCHES * PER_BATCH, BATCHES * PER_BATCH) for d in devices]
            assert verify_balances(conn, STORE) == []
    finally:
        engine.dispose()
    assert writer_lock_path(str(db)).exists()


def test_a_writer_holds_the_lock_file_until_it_commits(tmp_path: Path) -> None:
    """Another process cannot take the writers' lock while a write transaction is open here."""
    db = tmp_path / "server.db"
    url = prepare_database(db, demo_master_data())
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    print('held')\n"
        "else:\n"
        "    print('free')\n"
    )
    lock = str(writer_lock_path(str(db)))

    def other_process_sees() -> str:
        return subprocess.run([sys.executable, "-c", probe, lock], capture_output=True, text=True, check=True).stdout.strip()

    engine = create_engine_for(url)
    try:
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("UPDATE stores SET change_seq = change_seq")
            assert other_process_sees() == "held"
        assert other_process_sees() == "free"
    finally:
        engine.dispose()


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _socket_inodes(pid: int) -> set[int]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


def _tcp_sockets(port: int) -> list[tuple[str, int]]:
    """(state, inode) of every TCP socket whose local port is `port` ("0A" listening, "01" established)."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    out.append((fields[3], int(fields[9])))
    return out


def _connections_per_worker(svc: ServiceProcess) -> dict[int, int]:
    assert svc.proc is not None
    sockets = _tcp_sockets(svc.port)
    listening = {inode for state, inode in sockets if state == "0A"}
    established = {inode for state, inode in sockets if state == "01"}
    workers = {pid: _socket_inodes(pid) for pid in _children(svc.proc.pid)}
    return {pid: len(inodes & established) for pid, inodes in workers.items() if inodes & listening}


def test_connections_taken_by_one_worker_are_spread_over_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four keep-alive connections all accepted by one worker (the other is stopped meanwhile) end up
    two and two once both serve: the busy one closes some after their answer (server_stub.balance)."""
    db = tmp_path / "server.db"
    prepare_database(db, demo_master_data())
    board = tmp_path / "workers"
    board.mkdir()
    monkeypatch.setenv(WORKERS_DIR_ENV, str(board))
    with ServiceProcess(db, port=free_port(), workers=2) as svc:
        deadline = time.monotonic() + 30
        while len(list(board.iterdir())) < 2 or len(_connections_per_worker(svc)) < 2:
            assert time.monotonic() < deadline, "both workers did not come up"
            time.sleep(0.05)
        busy, stopped = sorted(_connections_per_worker(svc))
        os.kill(stopped, signal.SIGSTOP)
        time.sleep(STALE_S + 0.2)  # its count is no longer fresh: the busy one has nobody to shed to
        clients = [httpx.Client(base_url=svc.url, timeout=10) for _ in range(4)]
        try:
            for http in clients:
                assert http.get("/healthz").status_code == 200
            assert _connections_per_worker(svc) == {busy: 4, stopped: 0}
            os.kill(stopped, signal.SIGCONT)
            spread: dict[int, int] = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                for http in clients:
                    answer = http.get("/healthz")
                    assert answer.status_code == 200, answer.text  # a shed connection loses nothing
                spread = _connections_per_worker(svc)
                if spread == {busy: 2, stopped: 2}:
                    break
                time.sleep(0.02)
            assert spread == {busy: 2, stopped: 2}
            shed = re.search(r"^backroom_connections_shed_total (\S+)$", clients[0].get("/metrics").text, re.MULTILINE)
            assert shed is not None and float(shed.group(1)) >= 2
        finally:
            os.kill(stopped, signal.SIGCONT)
            for http in clients:
                http.close()
