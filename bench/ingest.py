"""Ingest throughput of the central service, next to its ceiling measured in the same run.

    python -m bench.ingest [--quick] [--ops N] [--batch 100] [--devices 4] [--pg-url URL]

For SQLite (and PostgreSQL when reachable) it starts `backroom server` in a subprocess on a free
loopback port with a fresh database holding a small generated store, then:

1. pushes N putaway.confirm ops in batches over HTTP from several devices at once, each device
   enrolled (its key made on the device, the enrolment asked over HTTP, approved by the operator's
   `backroom devices approve`) and signing every push, as the service requires: applied ops/s and
   the p99 latency of one batch;
2. pushes the very same batches again (all duplicates): ops/s;
3. the ceiling: the same effects (op rows, which are also their results' change-feed entries;
   ledger rows; balance upserts, each stamped with its change seq; ERP rows; device and counter
   updates; one transaction per batch) written straight through SQLAlchemy Core in this process,
   on a fresh database of the same kind.

And once, for scale (SQLite): a bare FastAPI app (`bare_app` below) served by uvicorn the same
way on a fresh SQLite file with the service's pragmas, whose endpoint parses the same batch
bodies and does one idempotent `INSERT .. ON CONFLICT DO NOTHING` per op_id, one transaction per
batch; the same client loop pushes the same batches to it, unsigned (it checks no signature). That is what HTTP, JSON and one SQLite
write per op cost on this machine at this moment, with none of the service's work.

The last line is one JSON object: ops_per_s, dup_ops_per_s, ceiling_ops_per_s, ratio,
p99_batch_ms, bare_ops_per_s and share_of_bare (ops_per_s / bare_ops_per_s) for SQLite, and the
same (without the bare figures) under "postgresql" when it ran.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from uuid6 import uuid7

from edge_sync.contract import (
    SCHEMA_VERSION,
    ItemRecord,
    LocationKind,
    LocationRecord,
    MasterData,
    Op,
    OpType,
    Role,
    UserRecord,
)
from server_stub import tables as t
from server_stub.db import add_to, create_engine_for, fast_insert, migrate
from server_stub.ingest import fingerprint
from server_stub.masterdata import load_master_data
from bench.support import enrolled_device, free_port, interpreter, serving

STORE = "BENCH-1"
ITEMS = 200
SHELVES = 100
WORKERS = min(4, os.cpu_count() or 1)
"""The service's worker processes by default: as deployed, one per core (at most four)."""
DEFAULT_PG = "postgresql+psycopg://backroom:backroom@127.0.0.1:5432/backroom_test"


def master_data() -> MasterData:
    """A small store: items, a dock, shelves with room, one associate."""
    return MasterData(
        store_id=STORE,
        items=[ItemRecord(item_id=f"I{n}", sku=f"S{n}", gtins=[f"{n:014d}"], description=f"item {n}") for n in range(ITEMS)],
        locations=[LocationRecord(location_id="DOCK", code="DOCK", zone="D", kind=LocationKind.DOCK)]
        + [
            LocationRecord(location_id=f"L{n}", code=f"L{n}", zone="A", kind=LocationKind.SHELF, capacity=1_000_000)
            for n in range(SHELVES)
        ],
        users=[UserRecord(user_id="U1", name="Bench", role=Role.ASSOCIATE)],
    )


def make_batches(n_ops: int, batch: int, devices: int) -> list[list[Op]]:
    """Per device, gap-free putaway ops cut into batches; devices interleaved.

    Op ids are UUIDv7, as the devices' outbox makes them (time-ordered, so the op key grows at its
    end rather than at random places).
    """
    now = dt.datetime.now(dt.UTC)
    per_device = n_ops // devices
    out: list[list[list[Op]]] = []
    for d in range(devices):
        ops = [
            Op(
                op_id=uuid7(), store_id=STORE, device_id=f"HH-{d}", seq=s + 1, type=OpType.PUTAWAY_CONFIRM,
                schema_version=SCHEMA_VERSION, user_id="U1", session_id="bench", occurred_at=now,
                payload={"item_id": f"I{(s * 7 + d) % ITEMS}", "qty": 1 + s % 5, "from_location_id": "DOCK",
                         "to_location_id": f"L{(s * 13 + d) % SHELVES}"},
            )
            for s in range(per_device)
        ]
        out.append([ops[i : i + batch] for i in range(0, len(ops), batch)])
    return [b for group in out for b in group]


BARE_DB_ENV = "BACKROOM_BENCH_BARE_DB"


def bare_app() -> Any:
    """The scale reference: a bare FastAPI app, one idempotent insert per op, one transaction per batch.

    A uvicorn factory (`bench.ingest:bare_app`); the SQLite file is named by BACKROOM_BENCH_BARE_DB.
    Its one connection comes from the service's own engine factory, so it has the same pragmas
    (WAL, synchronous=NORMAL, cache size, ...); writers queue on a lock and use BEGIN IMMEDIATE,
    as the service's do. It answers how many op_ids were new.
    """
    from fastapi import Body, FastAPI

    engine = create_engine_for(f"sqlite:///{os.environ[BARE_DB_ENV]}")
    raw = engine.raw_connection()
    db: Any = raw.driver_connection
    db.execute("CREATE TABLE IF NOT EXISTS bare_ops (op_id TEXT PRIMARY KEY)")
    lock = threading.Lock()
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/stores/{store_id}/ops")
    def push(store_id: str, body: dict[str, Any] = Body(...)) -> dict[str, int]:
        ids = [(op["op_id"],) for op in body["ops"]]
        with lock:
            before = db.total_changes
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO bare_ops (op_id) VALUES (?) ON CONFLICT (op_id) DO NOTHING", ids)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return {"applied": db.total_changes - before}

    return app


def server_command(url: str, port: int, workers: int = 1) -> tuple[list[str], dict[str, str] | None]:
    """`backroom server` on `url` with `workers` worker processes."""
    return (
        [sys.executable, "-m", "app.cli", "server", "--database-url", url, "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--workers", str(workers)],
        None,
    )


def bare_command(path: str, port: int) -> tuple[list[str], dict[str, str] | None]:
    """uvicorn serving `bare_app` on the SQLite file `path`, as `backroom server` serves the service."""
    return (
        [sys.executable, "-m", "uvicorn", "bench.ingest:bare_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        {**os.environ, BARE_DB_ENV: path},
    )


@contextmanager
def running_server(
    target: str, command: Callable[[str, int], tuple[list[str], dict[str, str] | None]] | None = None, workers: int = 1
) -> Iterator[str]:
    """A server (by default `backroom server --workers N` on the database URL `target`) in a
    subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    argv, env = command(target, port) if command is not None else server_command(target, port, workers)
    with serving(argv, port, env=env) as base:
        yield base


def push_all(
    base: str, bodies_by_device: dict[str, list[bytes]], expect: str, check: Callable[[Any], list[Any]] | None = None,
    signers: dict[str, httpx.Auth] | None = None,
) -> tuple[float, list[float]]:
    """Each device pushes its batches in order on its own connection; (seconds, batch latencies).

    Every answer must be a 200 whose ops all have status `expect`; or, with `check`, a 200 for
    which `check(answer JSON)` lists nothing wrong. With `signers` each device signs its requests
    with its own enrolled key, as a real device does (the service requires it).
    """
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def run(client: httpx.Client, bodies: list[bytes]) -> None:
        mine: list[float] = []
        for body in bodies:
            start = time.perf_counter()
            response = client.post(f"/v1/stores/{STORE}/ops", content=body)
            mine.append(time.perf_counter() - start)
            answer = response.json()
            bad = check(answer) if check else [r for r in answer["results"] if r["status"] != expect]
            if response.status_code != 200 or bad:
                errors.append(f"{response.status_code}: {bad[:1]}")
        with lock:
            latencies.extend(mine)

    # Each device's client is made before the clock starts, as a device keeps its own for its
    # pushes: making one costs about 60 ms of CPU (httpx builds an SSL context even for http://),
    # which, for four devices at once, is time in which the service has nothing to do.
    with contextlib.ExitStack() as stack:
        clients = {
            device_id: stack.enter_context(httpx.Client(
                base_url=base, timeout=60, headers={"content-type": "application/json"},
                auth=signers[device_id] if signers is not None else None,
            ))
            for device_id in bodies_by_device
        }
        threads = [threading.Thread(target=run, args=(clients[d], bodies)) for d, bodies in bodies_by_device.items()]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"unexpected answers ({len(errors)}), first: {errors[0]}")
    return elapsed, latencies


def bare(path: str, bodies: dict[str, list[bytes]], total: int) -> float:
    """The scale reference's ops/s on the same bodies (see `bare_app`); every op id must be stored once."""

    def check(answer: Any) -> list[Any]:
        return [] if isinstance(answer.get("applied"), int) and answer["applied"] > 0 else [answer]

    with running_server(path, bare_command) as base:
        elapsed, _ = push_all(base, bodies, "applied", check)
    engine = create_engine_for(f"sqlite:///{path}")
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM bare_ops").scalar_one()
    engine.dispose()
    if stored != total:
        raise RuntimeError(f"bare reference stored {stored} op ids, expected {total}")
    return total / elapsed


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def ceiling(url: str, batches: list[list[Op]]) -> float:
    """The same rows written in-process with SQLAlchemy, one transaction per batch: ops/s.

    It uses the service's own bulk writers (`fast_insert`, an executemany through the connection,
    and `add_to`, the balance upsert), so the ratio measures what HTTP, validation and the ingest
    rules add on top.
    """
    engine = create_engine_for(url)
    migrate(engine)
    load_master_data(engine, master_data())
    now = dt.datetime.now(dt.UTC)
    counters = {"change_seq": 0, "erp_seq": 0, "ledger_seq": 0}
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.stores.c.change_seq, t.stores.c.ledger_seq).where(t.stores.c.store_id == STORE)).one()
        counters["change_seq"], counters["ledger_seq"] = row
    start = time.perf_counter()
    for batch in batches:
        ops_rows: list[dict[str, Any]] = []
        ledger_rows: list[dict[str, Any]] = []
        erp_rows: list[dict[str, Any]] = []
        bal: dict[tuple[str, str, str], int] = {}
        for op in batch:
            p = op.payload
            # The op row is also its result's entry in the change feed.
            counters["change_seq"] += 1
            ops_rows.append({"store_id": STORE, "op_id": op.op_id, "device_id": op.device_id, "seq": op.seq,
                             "type": op.type.value, "user_id": op.user_id, "occurred_at": op.occurred_at,
                             "effective_at": op.occurred_at, "fingerprint": fingerprint(op), "status": "applied",
                             "reason": None, "result": {}, "payload": p, "recorded_at": now,
                             "change_seq": counters["change_seq"]})
            for loc, status, delta in ((p["from_location_id"], "received", -p["qty"]), (p["to_location_id"], "available", p["qty"])):
                counters["ledger_seq"] += 1
                ledger_rows.append({"store_id": STORE, "entry_seq": counters["ledger_seq"], "item_id": p["item_id"],
                                    "location_id": loc, "status": status, "delta": delta, "effective_at": op.occurred_at,
                                    "recorded_at": now, "reason": "putaway", "op_id": op.op_id})
                key = (p["item_id"], loc, status)
                bal[key] = bal.get(key, 0) + delta
            counters["erp_seq"] += 1
            erp_rows.append({"store_id": STORE, "event_seq": counters["erp_seq"], "type": "putaway_confirmed",
                             "occurred_at": op.occurred_at, "recorded_at": now, "op_id": op.op_id, "data": p})
        # Each touched balance takes the next change seq (its entry in the change feed).
        bal_rows = []
        for key, q in bal.items():
            counters["change_seq"] += 1
            bal_rows.append((STORE, *key, q, counters["change_seq"]))
        with engine.begin() as conn:
            fast_insert(conn, t.ops, ops_rows)
            fast_insert(conn, t.ledger, ledger_rows)
            add_to(conn, t.balances, ("store_id", "item_id", "location_id", "status"), "qty", bal_rows, stamp="change_seq")
            fast_insert(conn, t.erp_events, erp_rows)
            conn.execute(t.stores.update().where(t.stores.c.store_id == STORE).values(**counters))
    elapsed = time.perf_counter() - start
    engine.dispose()
    return sum(len(b) for b in batches) / elapsed


@dataclass
class Figures:
    backend: str
    ops_per_s: float
    dup_ops_per_s: float
    ceiling_ops_per_s: float
    p99_batch_ms: float
    workers: int = 1
    one_worker_ops_per_s: float | None = None
    bare_ops_per_s: float | None = None

    @property
    def ratio(self) -> float:
        return self.ops_per_s / self.ceiling_ops_per_s

    @property
    def share_of_bare(self) -> float | None:
        return None if self.bare_ops_per_s is None else self.ops_per_s / self.bare_ops_per_s

    def as_json(self) -> dict[str, Any]:
        out = {"ops_per_s": round(self.ops_per_s), "dup_ops_per_s": round(self.dup_ops_per_s),
               "ceiling_ops_per_s": round(self.ceiling_ops_per_s), "ratio": round(self.ratio, 3),
               "p99_batch_ms": round(self.p99_batch_ms, 1), "workers": self.workers}
        if self.one_worker_ops_per_s is not None:
            out["one_worker_ops_per_s"] = round(self.one_worker_ops_per_s)
        if self.bare_ops_per_s is not None and self.share_of_bare is not None:
            out.update(bare_ops_per_s=round(self.bare_ops_per_s), share_of_bare=round(self.share_of_bare, 3))
        return out


def serve_and_push(server_url: str, bodies: dict[str, list[bytes]], workers: int, *, resend: bool
                   ) -> tuple[float, list[float], float | None]:
    """On a fresh database: the service with `workers` workers, every device enrolled, all bodies
    pushed (seconds, batch latencies) and, with `resend`, pushed again (seconds)."""
    migrate(server_url)
    engine = create_engine_for(server_url)
    load_master_data(engine, master_data())
    engine.dispose()
    with running_server(server_url, workers=workers) as base, tempfile.TemporaryDirectory(prefix="backroom-keys-") as keys:
        # Every device is enrolled and approved, and signs each push (a fresh signature per request).
        signers: dict[str, httpx.Auth] = {
            device_id: enrolled_device(base, server_url, STORE, device_id, Path(keys)) for device_id in bodies
        }
        elapsed, latencies = push_all(base, bodies, "applied", signers=signers)
        dup_elapsed = push_all(base, bodies, "duplicate", signers=signers)[0] if resend else None
    return elapsed, latencies, dup_elapsed


def measure(
    backend: str, server_url: str, ceiling_url: str, n_ops: int, batch: int, devices: int, workers: int,
    bare_path: str | None = None, one_worker_url: str | None = None,
) -> Figures:
    """Apply, resend, and ceiling on one backend; the bare reference when `bare_path` (a fresh SQLite
    file) is given; and the apply with one worker process when `one_worker_url` (a fresh database) is."""
    batches = make_batches(n_ops, batch, devices)
    bodies: dict[str, list[bytes]] = {}
    for b in batches:
        bodies.setdefault(b[0].device_id, []).append(json.dumps({"ops": [o.model_dump(mode="json") for o in b]}).encode())
    total = sum(len(b) for b in batches)
    elapsed, latencies, dup_elapsed = serve_and_push(server_url, bodies, workers, resend=True)
    assert dup_elapsed is not None
    figures = Figures(backend, total / elapsed, total / dup_elapsed, ceiling(ceiling_url, batches), p99(latencies) * 1000,
                      workers=workers)
    if one_worker_url is not None and workers != 1:
        figures.one_worker_ops_per_s = total / serve_and_push(one_worker_url, bodies, 1, resend=False)[0]
    if bare_path is not None:
        figures.bare_ops_per_s = bare(bare_path, bodies, total)
    return figures


def pg_schema_urls(base_url: str) -> tuple[str, str, list[str]] | None:
    """Two fresh schemas on PostgreSQL (server, ceiling), or None when it is not reachable."""
    try:
        engine = sa.create_engine(base_url)
        with engine.begin() as conn:
            names = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
            for name in names:
                conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL not reachable ({str(exc.orig).strip().splitlines()[0]}); SQLite only", file=sys.stderr)
        return None
    u = sa.make_url(base_url)
    urls = [u.update_query_dict({"options": f"-csearch_path={n}"}).render_as_string(hide_password=False) for n in names]
    return urls[0], urls[1], names


def drop_schemas(base_url: str, names: list[str]) -> None:
    engine = sa.create_engine(base_url)
    with engine.begin() as conn:
        for name in names:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer ops, for a run well under a minute")
    parser.add_argument("--ops", type=int, default=None, help="ops per phase (default 20000, quick 6000)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--devices", type=int, default=4, help="devices pushing at once")
    parser.add_argument("--pg-url", default=os.environ.get("BACKROOM_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help=f"the service's worker processes (default {WORKERS}, this machine's cores; the SQLite run "
                             "also measures one worker beside it)")
    args = parser.parse_args(argv)
    n_ops = args.ops or (6000 if args.quick else 20000)

    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="backroom-bench-") as tmp:
        results.append(measure("sqlite", f"sqlite:///{tmp}/server.db", f"sqlite:///{tmp}/ceiling.db", n_ops, args.batch,
                               args.devices, args.workers, bare_path=f"{tmp}/bare.db",
                               one_worker_url=f"sqlite:///{tmp}/one-worker.db"))
    if not args.no_pg:
        pg = pg_schema_urls(args.pg_url)
        if pg is not None:
            try:
                results.append(measure("postgresql", pg[0], pg[1], n_ops, args.batch, args.devices, args.workers))
            finally:
                drop_schemas(args.pg_url, pg[2])

    print(f"ingest: {n_ops} putaway ops in batches of {args.batch}, {args.devices} devices pushing at once, loopback HTTP, "
          f"the service with {args.workers} worker process(es); {interpreter()}")
    print(f"{'backend':<11} {'applied ops/s':>14} {'dup ops/s':>10} {'ceiling ops/s':>14} {'ratio':>6} {'p99 batch ms':>13}"
          f" {'bare ops/s':>11} {'of bare':>8}")
    for f in results:
        bare_cells = "" if f.bare_ops_per_s is None else f" {f.bare_ops_per_s:>11,.0f} {f.share_of_bare:>8.2f}"
        print(f"{f.backend:<11} {f.ops_per_s:>14,.0f} {f.dup_ops_per_s:>10,.0f} {f.ceiling_ops_per_s:>14,.0f} {f.ratio:>6.2f}"
              f" {f.p99_batch_ms:>13.1f}{bare_cells}")
    for f in results:
        if f.one_worker_ops_per_s is not None:
            print(f"{f.backend}: one worker process, same bodies, fresh database: {f.one_worker_ops_per_s:,.0f} applied ops/s")
    print("targets (SQLite): ops/s >= 5,000; ratio >= 0.5; duplicate resend at least as fast as a first apply")
    print("bare: a bare FastAPI endpoint, one idempotent insert per op, one SQLite transaction per batch, same bodies and client")
    summary: dict[str, Any] = {"ops": n_ops, "batch": args.batch, **results[0].as_json()}
    for f in results[1:]:
        summary[f.backend] = f.as_json()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
