"""The service with several worker processes on one SQLite file (`backroom server --workers 2`).

Writers of the workers queue on one lock file beside the database, so concurrent pushes from
several devices are each applied once, in order, with nothing refused as "database is locked";
and /metrics, whichever worker answers it, counts every worker's ops.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

from edge_sync.contract import SCHEMA_VERSION, Op, OpType
from server_stub import tables as t
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
