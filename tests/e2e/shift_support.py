"""Helpers of the whole-shift end-to-end test: the demo on a service the test can stop and start,
the shift's data chosen from the stores' databases, and the check that every op arrived once.

    with own_service_demo(tmp_path) as (demo, service):   # `backroom demo --server-url ...`
        service.stop()                                   # the store's service is down
        service.start()                                  # back on the same port and database
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import sqlalchemy as sa

from server_stub.ledger import verify_balances
from tests.e2e.associate_support import ean13, query, wedge
from tests.e2e.conftest import ARTIFACTS, ROOT, Demo
from tests.support.live_server import free_port
from tests.support.server_process import ServiceProcess

STORE_ID = "store-001"
T = TypeVar("T")
START_S = 240
"""How long the demo may take to seed, sync its devices and serve the app on a loaded 2-core machine."""


@contextlib.contextmanager
def own_service_demo(data: Path) -> Iterator[tuple[Demo, ServiceProcess]]:
    """The demo store seeded in `data`, its service a process of the test's, and `backroom demo` on it."""
    data.mkdir(parents=True, exist_ok=True)
    db = data / "server.db"
    subprocess.run([sys.executable, "-m", "app.cli", "seed", "--database-url", f"sqlite:///{db}", "--store-id",
                    STORE_ID, "--today"], cwd=ROOT, check=True, capture_output=True, timeout=START_S)
    service = ServiceProcess(db, port=free_port(), log_path=data / "service.log")
    service.start(timeout=60)
    app_port = free_port()
    log_path = data / "demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "demo", "--data", str(data), "--server-url", service.url,
             "--app-port", str(app_port)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "FLET_WEB_NO_CDN": "1",
                                                                  "PYTHONUNBUFFERED": "1"},
        )
    try:
        _wait_for_app(proc, f"http://127.0.0.1:{app_port}/", log_path)
        output = log_path.read_text(errors="replace").splitlines()
        yield Demo(app_url=f"http://127.0.0.1:{app_port}/", server_url=service.url, output=output, data=data), service
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        service.stop()


def _wait_for_app(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    # The Flet web server starts last, after the devices are enrolled and synced: its first answer
    # means the whole demo is up.
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the demo stopped (exit {proc.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the demo did not serve {url} within {START_S} s:\n{log_path.read_text()[-3000:]}")


@dataclass(frozen=True)
class Delivery:
    """A receive task whose ASN matches its PO line for line, every line a unit EAN-13 of a known item."""

    task_id: str
    title: str
    asn_number: str
    lines: list[tuple[str, str, int]]
    """(description, EAN-13, units expected)."""

    @property
    def units(self) -> int:
        """Units the ASN announces."""
        return sum(qty for _d, _e, qty in self.lines)


def exact_delivery(db: Path) -> Delivery:
    """The open, unassigned receive task with the fewest lines whose ASN is exactly its PO (no discrepancy,
    no over-receipt), read from the handheld's database."""
    found: list[Delivery] = []
    tasks = query(db, "SELECT t.task_id, t.title, a.number, a.asn_id, a.po_id FROM tasks t JOIN asns a ON a.po_id = t.ref_id"
                      " WHERE t.type = 'receive' AND t.status = 'open' AND t.assignee_id IS NULL AND a.status = 'open'"
                      " ORDER BY t.task_id")
    for task_id, title, number, asn_id, po_id in tasks:
        lines = query(db, "SELECT i.description, e.gtin, e.qty, e.item_id FROM expected_lines e JOIN item_gtins g ON g.gtin = e.gtin"
                          " JOIN items i ON i.item_id = g.item_id WHERE e.doc_kind = 'asn' AND e.doc_id = ? AND g.units = 1"
                          " AND e.gtin LIKE '0%' ORDER BY e.line_id", asn_id)
        announced = query(db, "SELECT count(*) FROM expected_lines WHERE doc_kind = 'asn' AND doc_id = ?", asn_id)[0][0]
        ordered = set(query(db, "SELECT item_id, qty FROM expected_lines WHERE doc_kind = 'po' AND doc_id = ?", po_id))
        if lines and len(lines) == announced and {(i, q) for _d, _g, q, i in lines} == ordered:
            found.append(Delivery(str(task_id), str(title), str(number),
                                  [(str(d), ean13(str(g)), int(str(q))) for d, g, q, _i in lines]))
    if not found:
        raise AssertionError(f"the demo store in {db} has no open receive task whose ASN matches its PO exactly")
    return min(found, key=lambda d: (len(d.lines), d.units, d.task_id))


def scan_plan(lines: list[tuple[str, str, int]], by_scan: int = 5) -> tuple[list[tuple[str, int]], list[str]]:
    """How an associate receives a delivery: most of each line typed on the pad and scanned once
    ((EAN, units) pairs), the last `by_scan` units of every line scanned one by one, back to back,
    lines interleaved as they come off the pallet (EAN-13 codes)."""
    typed = [(ean, qty - by_scan) for _d, ean, qty in lines if qty > by_scan]
    left = {ean: min(qty, by_scan) for _d, ean, qty in lines}
    burst: list[str] = []
    while any(left.values()):
        for ean in left:
            if left[ean]:
                burst.append(ean)
                left[ean] -= 1
    return typed, burst


def type_bursts(page: object, codes: list[str]) -> None:
    """Keyboard-wedge scans back to back: each a burst of keys 5 ms apart and Enter, the next at once."""
    wedge(page, codes[0])  # once the scan field has the focus, the rest come with no wait at all
    for code in codes[1:]:
        page.keyboard.type(code, delay=5)  # type: ignore[attr-defined]
        page.keyboard.press("Enter")  # type: ignore[attr-defined]


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 120) -> T:
    """Poll `check` (a read of a database) until it returns something, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:.0f} s")
        time.sleep(0.5)


def ops_arrived_once(server_db: Path, device_db: Path, device_id: str) -> list[str]:
    """What is wrong between one device's outbox and the service's ops, ledger and balances (empty: nothing).

    Every op the device made is on the service exactly once, with the same seq, none was refused and
    none waits on the device; the service holds no op of this device that the device never made; the
    service's balances are the sums of its ledger.
    """
    mine = {uuid.UUID(str(op_id)): (int(str(seq)), str(type_), str(state))
            for op_id, seq, type_, state in query(device_db, "SELECT op_id, seq, type, state FROM outbox")}
    served = [(uuid.UUID(str(op_id)), int(str(seq)), str(status), reason)
              for op_id, seq, status, reason in query(server_db, "SELECT op_id, seq, status, reason FROM ops"
                                                                 " WHERE store_id = ? AND device_id = ?", STORE_ID, device_id)]
    problems = [f"op {op_id} is stored {n} times" for op_id, n in Counter(o for o, *_r in served).items() if n > 1]
    problems += [f"op {op_id} (seq {seq}) on the service was never made by {device_id}"
                 for op_id, seq, _s, _r in served if op_id not in mine]
    by_id = {op_id: (seq, status, reason) for op_id, seq, status, reason in served}
    for op_id, (seq, type_, state) in sorted(mine.items(), key=lambda kv: kv[1][0]):
        got = by_id.get(op_id)
        if got is None:
            problems.append(f"{type_} seq {seq} ({state} on {device_id}) never reached the service")
        elif got[0] != seq or got[1] != "applied" or state not in ("applied", "duplicate"):
            problems.append(f"{type_} seq {seq}: service seq {got[0]} {got[1]} ({got[2]}), {state} on {device_id}")
    engine = sa.create_engine(f"sqlite:///{server_db}")
    try:
        with engine.connect() as conn:
            problems += verify_balances(conn, STORE_ID)
    finally:
        engine.dispose()
    return problems


def tap_until(target: Callable[[], object], shown: object, *, attempts: int = 4, wait_ms: int = 15_000) -> None:
    """Tap `target()` until the locator `shown` is visible, at most `attempts` times.

    A screen redraws itself every few seconds (the tablet after each fetch, the handheld's task list) and
    builds its controls anew: a tap that lands while a redraw is under way can be lost, so a tap that
    changed nothing is made again. Each attempt first looks whether the last one worked after all.
    """
    for _ in range(attempts):
        if shown.is_visible():  # type: ignore[attr-defined]
            return
        target().click(timeout=wait_ms)  # type: ignore[attr-defined]
        try:
            shown.wait_for(timeout=wait_ms)  # type: ignore[attr-defined]
            return
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: tap again
            continue
    shown.wait_for(timeout=wait_ms)  # type: ignore[attr-defined]


@contextlib.contextmanager
def shots_on_failure(pages: dict[str, object]) -> Iterator[None]:
    """On a failure inside the block, keep what each page showed then (artifacts/screenshots/shift-failed-<name>.png)."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name, page in pages.items():
            with contextlib.suppress(Exception):  # a page that cannot be shot any more must not hide the failure
                page.screenshot(path=str(ARTIFACTS / f"shift-failed-{name}.png"))  # type: ignore[attr-defined]
        raise
