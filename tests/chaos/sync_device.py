"""Child process for the kill -9 sync test: a handheld that records work and syncs it, until killed.

    python -m tests.chaos.sync_device DB_PATH SERVICE_URL --key-dir DIR [--finish] [--per-run 20]
                                      [--batch 50] [--device-id ID]
    python -m tests.chaos.sync_device --zygote      # then one JSON argument list per stdin line

Each loop commits `--per-run` putaway ops in one transaction (unless `--finish`), then runs the
sync engine once. "READY <pid>" is printed when the database is open; with `--finish` nothing new
is recorded and the process prints "DONE" and exits 0 once a run pushed everything and pulled to
the end, followed by a JSON line: ops settled, seconds, and the process's peak RSS in MB (what
the memory test reads). The store is the small test store (tests/fixtures/store.py). Requests are signed with the
device's key, which the test enrolled and approved and left in `--key-dir` (0600 files,
tests.support.devices.approved_device_at), as a real device signs with the key it enrolled.

`--zygote` imports everything once and forks a fresh device process per stdin line, so a test can
kill and restart the device dozens of times without paying the interpreter's start-up each time.
The zygote itself never opens the database; each forked device opens its own connections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx

from edge_sync import contract, outbox
from edge_sync.client import SyncClient
from edge_sync.db import open_device_database
from edge_sync.engine import SyncEngine
from edge_sync.uow import UnitOfWork
from bench.support import peak_rss_mb
from tests.support.devices import signer_from

STORE_ID = "store-test"
DEVICE_ID = "dev-kill9"
MAX_OPS = 50_000
DEADLINE_S = 120.0


def main(argv: list[str]) -> int:
    """Record and sync until killed (or, with --finish, until everything is settled)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("url")
    parser.add_argument("--finish", action="store_true")
    parser.add_argument("--per-run", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--device-id", default=DEVICE_ID)
    parser.add_argument("--key-dir", required=True, help="where the test left the device's enrolled key")
    args = parser.parse_args(argv)
    signer = signer_from(Path(args.key_dir), STORE_ID, args.device_id)
    engine = open_device_database(args.db)
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id=STORE_ID, device_id=args.device_id)
        uow.commit()
    print(f"READY {os.getpid()}", flush=True)
    started = time.monotonic()
    deadline = started + DEADLINE_S
    settled = 0
    with httpx.Client(base_url=args.url, timeout=10, auth=signer) as http:
        sync = SyncEngine(engine, SyncClient(http, store_id=STORE_ID), batch=args.batch)
        while time.monotonic() < deadline:
            if not args.finish:
                _record(engine, args.per_run)
            report = sync.run_once()
            settled += report.applied + report.duplicate + report.parked
            if args.finish and report.ok and report.drained and report.pull_complete:
                peak_mb = peak_rss_mb()
                print("DONE", flush=True)
                print(json.dumps({"settled": settled, "seconds": round(time.monotonic() - started, 3),
                                  "peak_rss_mb": round(peak_mb, 1)}), flush=True)
                engine.dispose()
                return 0
            if report.error:
                time.sleep(0.02)
    engine.dispose()
    return 3


def _record(engine: object, n: int) -> None:
    """Commit `n` putaway ops (dock to staging lane, 1 to 3 units each) in one transaction."""
    with UnitOfWork(engine) as uow:  # type: ignore[arg-type]
        have = outbox.next_seq(uow.conn)
        if have > MAX_OPS:
            return
        for seq in range(have, have + n):
            uow.append_op(contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
                item_id="item-mug", qty=1 + (seq - 1) % 3, from_location_id="loc-dock-1", to_location_id="loc-stg-1"),
                user_id="u-assoc", session_id="s-kill9", occurred_at=dt.datetime.now(dt.UTC))
        uow.commit()


def zygote() -> int:
    """Fork a device process per stdin line (a JSON list of arguments); children are reaped by the kernel."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("ZYGOTE", flush=True)
    for line in sys.stdin:
        argv = json.loads(line)
        if os.fork() == 0:
            code = 1
            try:
                code = main(argv)
            finally:
                sys.stdout.flush()
                os._exit(code)
    return 0


if __name__ == "__main__":
    sys.exit(zygote() if sys.argv[1:] == ["--zygote"] else main(sys.argv[1:]))
