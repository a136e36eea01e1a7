"""Draining a device's queue, and a first sync, against the real service over loopback.

    python -m bench.drain            # 10,000 queued ops; 1,000 one per request; the seeded store
    python -m bench.drain --quick    # 2,000 queued ops; 300 one per request; under 60 s

`backroom server` runs in a subprocess on a free loopback port over a fresh SQLite file. Then:

1. drain: N putaway.confirm ops are queued offline in a fresh device database (the outbox, as the
   handlers leave it), and a fresh device process runs `SyncEngine.run_once` until everything is
   pushed, settled and acknowledged by the pull that follows. Figures: ops/s end to end; the
   time the engine waited for push answers and for pages with nothing else to do (the engine
   keeps one push in flight while it reads the next batch and settles the last, and fetches the
   next page while it applies one: `SyncReport.push_wait_s`, `pull_wait_s`); the time requests
   were in flight on HTTP (one at a time, overlapping the device's work, so not the device's
   waiting); and the device process's peak RSS (VmHWM, else `ru_maxrss`; interpreter and
   libraries included);
2. the reference, in the same run and on the same server: the same kind of ops, to another store
   from another fresh device, sent one per request (batches of 1);
3. first sync: a second server over a fresh file holding the seeded store (`generate_store(42)`:
   5,000 items, 1,500 locations, its POs, orders and tasks); a fresh device pulls the whole change
   feed (`edge_sync.pull.pull`) end to end.

The last line is one JSON object: drain_ops_per_s, one_per_request_ops_per_s, peak_rss_mb,
first_sync_s, and the figures behind them (drain_push_http_s and drain_pull_http_s: requests in
flight; drain_push_wait_s and drain_pull_wait_s: the engine waiting on them).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from edge_sync import contract, heap, outbox
from edge_sync.client import M, SyncClient
from edge_sync.db import open_device_database
from edge_sync.engine import BATCH, SyncEngine
from edge_sync.pull import pull
from edge_sync.uow import UnitOfWork
from server_stub.db import create_engine_for, migrate
from server_stub.masterdata import load_master_data
from server_stub.seed import generate_store
from bench.support import device_signer, enrolled_device, free_port, interpreter, peak_rss_mb, serving

DRAIN_STORE = "bench-drain"
SINGLE_STORE = "bench-single"
SEEDED_STORE = "store-001"
USER = "u-assoc-1"
DOCK = "loc-DOCK-1"
LANE = "loc-STG-1"
"""A staging lane: capacity 0 (unlimited), so no location_full exception in the way."""
ITEMS = 100

TARGET_DRAIN_OPS_S = 5_000
TARGET_PEAK_RSS_MB = 150
TARGET_FIRST_SYNC_S = 3.0
MAX_RUNS = 1_000


# --- the service ---------------------------------------------------------------------------------


def _prepare(path: Path, stores: list[contract.MasterData]) -> str:
    url = f"sqlite:///{path}"
    engine = create_engine_for(url)
    try:
        migrate(engine)
        for store in stores:
            load_master_data(engine, store)
    finally:
        engine.dispose()
    return url


@contextlib.contextmanager
def _service(database_url: str, log: Path) -> Iterator[str]:
    """`backroom server` on a free loopback port; yields its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "app.cli", "server", "--host", "127.0.0.1", "--port", str(port),
            "--database-url", database_url, "--log-level", "warning", "--no-access-log"]
    with serving(argv, port, log=log) as base:
        yield base


# --- the device ----------------------------------------------------------------------------------


def queue_backlog(path: Path, *, store_id: str, device_id: str, n: int, per_txn: int = 5_000,
                  synced_from: str | None = None, auth: httpx.Auth | None = None) -> None:
    """A device database with `n` pending putaway ops (dock to staging lane), as handlers leave them.

    With `synced_from` (the service's URL) the device first pulls the store, as a device does before
    it goes offline: the drain then measures the backlog, not a first sync.
    """
    engine = open_device_database(path)
    try:
        with UnitOfWork(engine) as uow:
            outbox.register_device(uow.conn, store_id=store_id, device_id=device_id)
            uow.commit()
        if synced_from is not None:
            with httpx.Client(base_url=synced_from, timeout=60, auth=auth) as http:
                pull(SyncClient(http, store_id=store_id), engine)
        at = dt.datetime.now(dt.UTC)
        for start in range(0, n, per_txn):
            with UnitOfWork(engine) as uow:
                for i in range(start, min(n, start + per_txn)):
                    uow.append_op(contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
                        item_id=f"item-{1 + i % ITEMS:05d}", qty=1 + i % 3, from_location_id=DOCK, to_location_id=LANE),
                        user_id=USER, session_id="s-bench", occurred_at=at)
                uow.commit()
    finally:
        engine.dispose()


class _TimedClient(SyncClient):
    """The real client, adding up the time each kind of request was in flight.

    The engine sends them from a worker thread while it does its own work, one at a time: this is
    the time the service and the network had a request, not the time the engine waited for one.
    """

    push_s = 0.0
    pull_s = 0.0

    def _call(self, method: str, path: str, model: type[M], **kw: object) -> M:
        start = time.perf_counter()
        try:
            return super()._call(method, path, model, **kw)
        finally:
            if method == "POST":
                self.push_s += time.perf_counter() - start
            else:
                self.pull_s += time.perf_counter() - start


def drain_child(db: str, url: str, store_id: str, batch: int, key_dir: str) -> dict[str, Any]:
    """In the device process: run the engine until all is pushed, settled and pulled; the figures.

    Requests are signed with the device's enrolled key, read from `key_dir` like a device reads its own.
    The process settles its collector once wired, as the app's entry points do (edge_sync.heap).
    """
    engine = open_device_database(db)
    with engine.connect() as conn:
        device_id = conn.exec_driver_sql("SELECT device_id FROM sync_state").scalar_one()
    signer = device_signer(Path(key_dir), store_id, device_id)
    heap.settle()
    with httpx.Client(base_url=url, timeout=60, auth=signer) as http:
        client = _TimedClient(http, store_id=store_id)
        sync = SyncEngine(engine, client, batch=batch)
        with engine.connect() as conn:
            pending = outbox.count_by_state(conn).get("pending", 0)
        start = time.perf_counter()
        settled = runs = batches = 0
        push_wait_s = pull_wait_s = 0.0
        for runs in range(1, MAX_RUNS + 1):
            report = sync.run_once()
            settled += report.applied + report.duplicate + report.parked
            batches += report.batches
            push_wait_s += report.push_wait_s
            pull_wait_s += report.pull_wait_s
            if report.error:
                raise SystemExit(f"sync failed: {report.error}")
            if report.drained and report.pull_complete:
                break
        seconds = time.perf_counter() - start
    engine.dispose()
    return {"ops": pending, "settled": settled, "seconds": seconds, "runs": runs, "batches": batches,
            "push_http_s": client.push_s, "pull_http_s": client.pull_s,
            "push_wait_s": push_wait_s, "pull_wait_s": pull_wait_s, "peak_rss_mb": peak_rss_mb()}


def _drain_in_child(db: Path, url: str, store_id: str, batch: int, key_dir: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.drain", "--child", str(db), url, store_id, str(batch),
                           str(key_dir)],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"the device process failed: {proc.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if figures["settled"] != figures["ops"]:
        raise RuntimeError(f"{figures['ops']} ops queued but {figures['settled']} settled")
    return figures


def first_sync(url: str, path: Path, auth: httpx.Auth) -> dict[str, Any]:
    """A fresh device (enrolled, signing with `auth`) pulls the seeded store's whole change feed; seconds, changes, pages."""
    engine = open_device_database(path)
    try:
        with UnitOfWork(engine) as uow:
            outbox.register_device(uow.conn, store_id=SEEDED_STORE, device_id="bench-first-sync")
            uow.commit()
        with httpx.Client(base_url=url, timeout=60, auth=auth) as http:
            start = time.perf_counter()
            report = pull(SyncClient(http, store_id=SEEDED_STORE), engine)
            seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    if not report.complete:
        raise RuntimeError("the first sync did not reach the end of the feed")
    return {"seconds": seconds, "changes": report.changes, "pages": report.pages}


# --- the run -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and the JSON line."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        db, url, store_id, size, key_dir = argv[1:6]
        print(json.dumps(drain_child(db, url, store_id, int(size), key_dir)))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 queued ops and 300 one per request: under 60 s")
    parser.add_argument("--ops", type=int, default=None, help="ops queued for the drain (default 10,000; quick 2,000)")
    parser.add_argument("--single", type=int, default=None, help="ops sent one per request (default 1,000; quick 300)")
    parser.add_argument("--batch", type=int, default=0, help="ops per push (default: the engine's)")
    args = parser.parse_args(argv)
    n_ops = args.ops or (2_000 if args.quick else 10_000)
    n_single = args.single or (300 if args.quick else 1_000)
    batch = args.batch or BATCH

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="backroom-drain-") as tmp_name:
        tmp = Path(tmp_name)
        server_url = _prepare(tmp / "server.db", [generate_store(42, DRAIN_STORE, items=ITEMS, locations=40),
                                                   generate_store(42, SINGLE_STORE, items=ITEMS, locations=40)])
        keys = tmp / "keys"
        with _service(server_url, tmp / "server.log") as base:
            # Each device is enrolled and approved, then signs every request, as the service requires.
            drainer = enrolled_device(base, server_url, DRAIN_STORE, "bench-drain-1", keys)
            one_by_one = enrolled_device(base, server_url, SINGLE_STORE, "bench-single-1", keys)
            queue_backlog(tmp / "drain.db", store_id=DRAIN_STORE, device_id="bench-drain-1", n=n_ops, synced_from=base,
                          auth=drainer)
            queue_backlog(tmp / "single.db", store_id=SINGLE_STORE, device_id="bench-single-1", n=n_single,
                          synced_from=base, auth=one_by_one)
            drain = _drain_in_child(tmp / "drain.db", base, DRAIN_STORE, batch, keys)
            single = _drain_in_child(tmp / "single.db", base, SINGLE_STORE, 1, keys)
        seeded_url = _prepare(tmp / "seeded.db", [generate_store(42, SEEDED_STORE)])
        with _service(seeded_url, tmp / "seeded.log") as base:
            newcomer = enrolled_device(base, seeded_url, SEEDED_STORE, "bench-first-sync", keys)
            first = first_sync(base, tmp / "first-sync.db", newcomer)

    drain_ops_s = drain["ops"] / drain["seconds"]
    single_ops_s = single["ops"] / single["seconds"]
    print(f"drain: {n_ops:,} putaway ops queued offline, drained by SyncEngine in batches of {batch} over loopback HTTP"
          f" to `backroom server` (SQLite), in a fresh device process; {interpreter()}, {os.cpu_count()} CPUs")
    print(f"{'measure':<40} {'figure':>12}   reference")
    print(f"{'drain ops/s (push, settle, pull)':<40} {drain_ops_s:>12,.0f}   target >= {TARGET_DRAIN_OPS_S:,};"
          f" one per request: {single_ops_s:,.0f} ops/s ({n_single:,} ops), x{drain_ops_s / single_ops_s:.1f}")
    print(f"{'  drain seconds':<40} {drain['seconds']:>12.2f}   the engine waited for push answers"
          f" {drain['push_wait_s']:.2f} s and for pages {drain['pull_wait_s']:.2f} s with nothing else to do,"
          f" the rest on the device ({drain['batches']} batches, {drain['runs']} runs)")
    print(f"{'  requests in flight, s':<40} {drain['push_http_s'] + drain['pull_http_s']:>12.2f}"
          f"   pushes {drain['push_http_s']:.2f} s, pages {drain['pull_http_s']:.2f} s, one at a time;"
          " the device's own work overlaps them")
    print(f"{'one per request ops/s':<40} {single_ops_s:>12,.0f}   the engine waited for push answers"
          f" {single['push_wait_s']:.2f} s of {single['seconds']:.2f} s (pushes in flight {single['push_http_s']:.2f} s)")
    print(f"{'peak RSS of the device process, MB':<40} {drain['peak_rss_mb']:>12.1f}   target <= {TARGET_PEAK_RSS_MB};"
          f" one per request: {single['peak_rss_mb']:.1f} MB")
    print(f"{'first sync of the seeded store, s':<40} {first['seconds']:>12.2f}   target <= {TARGET_FIRST_SYNC_S:g};"
          f" {first['changes']:,} changes in {first['pages']} pages (5,000 items, 1,500 locations)")
    print(f"whole run: {time.perf_counter() - started:.1f} s")
    print(json.dumps({
        "ops": n_ops, "batch": batch,
        "drain_ops_per_s": round(drain_ops_s, 1), "drain_s": round(drain["seconds"], 3),
        "drain_push_http_s": round(drain["push_http_s"], 3), "drain_pull_http_s": round(drain["pull_http_s"], 3),
        "drain_push_wait_s": round(drain["push_wait_s"], 3), "drain_pull_wait_s": round(drain["pull_wait_s"], 3),
        "one_per_request_ops": n_single, "one_per_request_ops_per_s": round(single_ops_s, 1),
        "peak_rss_mb": round(drain["peak_rss_mb"], 1),
        "first_sync_s": round(first["seconds"], 3), "first_sync_changes": first["changes"],
        "first_sync_pages": first["pages"],
        "targets": {"drain_ops_per_s": TARGET_DRAIN_OPS_S, "peak_rss_mb": TARGET_PEAK_RSS_MB,
                    "first_sync_s": TARGET_FIRST_SYNC_S},
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
