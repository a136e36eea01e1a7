"""The push pipeline and the pull prefetch against the real service: order, exactly once, overlap.

While one push is in flight the engine reads the next batch and settles the one before; while a
page is applied the pull fetches the next. These tests watch the requests from an httpx
transport in front of the real service, and prove the overlap with the device database's write
lock: the transport holds it after answering, and lets go when the next request arrives. An
engine that waited (settling or applying before the next request) would wait for the lock
instead, and the transport records that it had to let go on its own.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from app.bootstrap import build_device
from app.domain.context import FakeClock
from edge_sync import contract
from edge_sync.client import SyncClient
from edge_sync.db import driver
from edge_sync.engine import SyncEngine, SyncReport
from edge_sync.errors import Offline
from edge_sync import pull as pull_module
from edge_sync.pull import current_cursor, pull
from edge_sync.uow import UnitOfWork
from server_stub import tables as t
from tests.conftest import outbox_rows
from tests.fixtures.store import STORE_ID
from tests.support.live_server import signed_for
from tests.support.sync_stack import Handheld, Service, handhelds, running_service

BATCH = 5
HOLD_S = 2.0
"""How long the transport holds the device's write lock waiting for the next request; well under
the device's busy timeout (5 s), so an engine that does not overlap is slow, never stuck."""


class DeviceLock:
    """The device database's write lock, taken by the transport and let go by the next request or a timer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.guard = threading.Lock()
        self.conn: Connection | None = None
        self.timer: threading.Timer | None = None
        self.released_by_next: list[bool] = []

    def take(self) -> None:
        """Hold the write lock until `release` (the next request) or for HOLD_S at most."""
        conn = self.engine.connect()
        driver(conn).execute("BEGIN IMMEDIATE")
        with self.guard:
            self.conn = conn
            self.timer = threading.Timer(HOLD_S, self.release, kwargs={"by_next": False})
            self.timer.start()

    def release(self, *, by_next: bool = True) -> None:
        """Let go of the lock if held; record whether the next request came while it was held."""
        with self.guard:
            conn, self.conn = self.conn, None
            if conn is None:
                return
            if self.timer is not None and by_next:
                self.timer.cancel()
            self.released_by_next.append(by_next)
        driver(conn).execute("ROLLBACK")
        conn.close()


class Watch(httpx.BaseTransport):
    """Forwards to the service; records each push's seqs, how many were in flight, and one fault."""

    def __init__(self, fault: str | None = None, fault_at: int = 3) -> None:
        self.inner = httpx.HTTPTransport()
        self.fault, self.fault_at = fault, fault_at
        self.pushes: list[list[int]] = []
        self.statuses: list[dict[str, Any]] = []
        """The device_status each push carried."""
        self.arrived: list[float] = []
        """When each push reached the transport (time.monotonic)."""
        self.on_push: Callable[[int], None] | None = None
        """Called with each push's number (1, 2, ...) as it arrives, before it is forwarded."""
        self.hold_after_every_push = False
        """Take `hold_after_push` after every push answered, the last one's too (a page lets go)."""
        self.pages: list[tuple[str, str, bool]] = []
        """(cursor asked for, next cursor answered, has_more) of each page fetched."""
        self.in_flight = self.most_in_flight = 0
        self.guard = threading.Lock()
        self.hold_after_push: DeviceLock | None = None
        self.hold_after_page: DeviceLock | None = None
        self.fail_page: int | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/ops"):
            return self._push(request)
        if request.url.path.endswith("/changes"):
            return self._page(request)
        return self._forward(request)

    def _forward(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response

    def _push(self, request: httpx.Request) -> httpx.Response:
        if self.hold_after_push is not None:
            self.hold_after_push.release()
        body = json.loads(request.content)
        ops = body["ops"]
        with self.guard:
            self.arrived.append(time.monotonic())
            self.pushes.append([op["seq"] for op in ops])
            self.statuses.append(body["device_status"])
            n = len(self.pushes)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.on_push is not None:
            self.on_push(n)
        try:
            if n == self.fault_at and self.fault is not None:
                return self._fail(request, ops)
            response = self._forward(request)
        finally:
            with self.guard:
                self.in_flight -= 1
        if (self.hold_after_push is not None and (len(ops) == BATCH or self.hold_after_every_push)
                and response.status_code == 200):
            self.hold_after_push.take()
        return response

    def _fail(self, request: httpx.Request, ops: list[dict[str, Any]]) -> httpx.Response:
        if self.fault == "too_large":
            return httpx.Response(413, json={"detail": "request body too large"})
        if self.fault == "unreachable":
            raise httpx.ConnectError("no route to the service")
        if self.fault == "answer_lost":
            self._forward(request)  # the service commits the batch; its answer never arrives
            raise httpx.ReadError("connection dropped after the request was sent")
        assert self.fault == "out_of_order"  # the service lacks the ops before this batch: it applies none
        first = ops[0]["seq"]
        answer = contract.PushResponse(server_time=dt.datetime.now(dt.UTC), results=[
            contract.OpResult(op_id=op["op_id"], seq=op["seq"], status=contract.OpStatus.OUT_OF_ORDER,
                              expected_seq=first, reason=f"send from {first}") for op in ops])
        return httpx.Response(200, content=answer.model_dump_json())

    def _page(self, request: httpx.Request) -> httpx.Response:
        if self.hold_after_page is not None:
            self.hold_after_page.release()
        if self.hold_after_every_push and self.hold_after_push is not None:
            self.hold_after_push.release()
        with self.guard:
            n = len(self.pages) + 1
            if n == self.fail_page:
                self.pages.append((request.url.params["cursor"], "", False))
                raise httpx.ConnectError("the network dropped")
        response = self._forward(request)
        page = contract.ChangesPage.model_validate_json(response.content)
        with self.guard:
            self.pages.append((request.url.params["cursor"], page.next_cursor, page.has_more))
        if self.hold_after_page is not None and page.has_more:
            self.hold_after_page.take()
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as svc:
        yield svc


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., Handheld]]:
    with handhelds(tmp_path, FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))) as new:

        def _make(url: str, transport: httpx.BaseTransport, name: str = "dev-pipe") -> Handheld:
            h = new(url, name=name, transport=transport)
            h.sync.batch = BATCH
            return h

        yield _make


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Callable[..., tuple[Engine, SyncClient]]]:
    """Devices set up for the store that never pulled: their database, and a client through `transport`."""
    made: list[tuple[Engine, httpx.Client]] = []

    def _fresh(url: str, transport: httpx.BaseTransport, name: str) -> tuple[Engine, SyncClient]:
        device = build_device(tmp_path / f"{name}.db", store_id=STORE_ID, device_id=name,
                              clock=FakeClock(dt.datetime.now(dt.UTC)))
        http = httpx.Client(base_url=url, timeout=10, transport=transport,
                            auth=signed_for(STORE_ID, name, tmp_path / "keys"))
        made.append((device.engine, http))
        return device.engine, SyncClient(http, store_id=STORE_ID)

    yield _fresh
    for engine, http in made:
        http.close()
        engine.dispose()


def queue_putaways(h: Handheld, n: int) -> None:
    """Queue `n` putaways of one mug from the dock to the staging lane."""
    with UnitOfWork(h.device.engine) as uow:
        for _ in range(n):
            uow.append_op(contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
                item_id="item-mug", qty=1, from_location_id="loc-dock-1", to_location_id="loc-stg-1"),
                user_id="u-assoc", session_id="s-pipe", occurred_at=dt.datetime.now(dt.UTC))
        uow.commit()


def queue_at(h: Handheld, times: list[dt.datetime], nowhere: frozenset[int] | set[int] = frozenset()) -> None:
    """Queue a putaway of one mug for each time, occurred then; those at the indexes in `nowhere`
    go to a location the service does not know, and are refused."""
    with UnitOfWork(h.device.engine) as uow:
        for i, at in enumerate(times):
            uow.append_op(contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
                item_id="item-mug", qty=1, from_location_id="loc-dock-1",
                to_location_id="loc-nowhere" if i in nowhere else "loc-stg-1"),
                user_id="u-assoc", session_id="s-pipe", occurred_at=at)
        uow.commit()


def service_seqs(service: Service, device_id: str) -> list[int]:
    """The seqs of the device's ops the service stored, in order (one row per op applied)."""
    with service.app.state.services.engine.connect() as conn:
        return [int(r.seq) for r in conn.execute(
            sa.select(t.ops.c.seq).where(t.ops.c.device_id == device_id).order_by(t.ops.c.change_seq))]


def drain(h: Handheld, runs: int = 6) -> list[Any]:
    """Run the engine until it has drained and pulled with no error (a fault may cost a run or two)."""
    reports = []
    for _ in range(runs):
        report = h.sync.run_once()
        reports.append(report)
        if report.ok and report.drained and report.pull_complete:
            return reports
    raise AssertionError(f"not drained after {runs} runs: {reports[-1]}")


def test_a_drain_sends_the_next_batch_while_settling_the_last_one_push_at_a_time_each_op_once(
        service: Service, make: Callable[..., Handheld]) -> None:
    watch = Watch()
    h = make(service.url, watch)
    queue_putaways(h, 4 * BATCH + 3)
    watch.hold_after_push = DeviceLock(h.device.engine)
    [report] = drain(h)
    assert (report.applied, report.duplicate, report.batches, report.sent) == (23, 0, 5, 23)
    assert watch.pushes == [list(range(s, min(s + BATCH, 24))) for s in range(1, 24, BATCH)]
    assert watch.most_in_flight == 1
    # Each full batch was settled after the next push had left (the next request freed the lock).
    assert watch.hold_after_push.released_by_next == [True] * 4
    assert service_seqs(service, "dev-pipe") == list(range(1, 24))
    assert [r["state"] for r in outbox_rows(h.device.engine)] == ["applied"] * 23
    assert service.balance("item-mug", "loc-stg-1") == 23


def test_the_next_push_leaves_on_a_clean_answer_without_waiting_for_the_engine_to_take_it(
        service: Service, make: Callable[..., Handheld], monkeypatch: pytest.MonkeyPatch) -> None:
    watch = Watch()
    h = make(service.url, watch)
    queue_putaways(h, 4 * BATCH + 3)
    taken: dict[int, float] = {}
    take = SyncEngine._answer

    def slow_to_take(flight: Any, report: SyncReport) -> Any:
        """The engine's thread comes late for each answer, as when something else holds the CPU."""
        time.sleep(0.2)
        answer = take(flight, report)
        taken[flight.batch.ops[0][0]] = time.monotonic()
        return answer

    monkeypatch.setattr(SyncEngine, "_answer", staticmethod(slow_to_take))
    [report] = drain(h)
    assert report.applied == 4 * BATCH + 3 and watch.most_in_flight == 1
    assert [p[0] for p in watch.pushes] == list(range(1, 24, BATCH))
    # Each push after the first had left before the engine's thread took the answer to the one before.
    for before, arrived in zip(watch.pushes, watch.arrived[1:], strict=False):
        assert arrived < taken[before[0]]


@pytest.mark.parametrize("queued", [4 * BATCH + 3, 4 * BATCH])
def test_the_pull_asks_for_its_first_page_while_the_last_batch_is_settled(
        queued: int, service: Service, make: Callable[..., Handheld]) -> None:
    watch = Watch()
    h = make(service.url, watch)
    queue_putaways(h, queued)
    watch.hold_after_push = DeviceLock(h.device.engine)
    watch.hold_after_every_push = True
    [report] = drain(h)
    assert report.applied == queued and report.pull_complete
    # Every batch, the last one too, was settled after the next request (a push, or the first page) left.
    assert watch.hold_after_push.released_by_next == [True] * len(watch.pushes)
    assert watch.pages[0][0] == "" and current_cursor(h.device.engine) == watch.pages[-1][1]
    assert [r["state"] for r in outbox_rows(h.device.engine)] == ["applied"] * queued
    assert all(r["feed_seen"] for r in outbox_rows(h.device.engine))


def test_no_page_is_asked_for_early_when_the_last_answer_is_not_clean(
        service: Service, make: Callable[..., Handheld]) -> None:
    watch = Watch(fault="out_of_order", fault_at=2)
    h = make(service.url, watch)
    queue_putaways(h, BATCH + 2)  # push 2 is the last, and the service answers it out of order
    report = h.sync.run_once()
    assert report.out_of_order == 2 and not report.drained
    # The pull came after the push phase, from the cursor, once.
    assert [c for c, _, _ in watch.pages][:1] == [""] and len(watch.pushes) == 2
    drain(h)
    assert [r["state"] for r in outbox_rows(h.device.engine)] == ["applied"] * (BATCH + 2)


def test_each_push_tells_the_truth_of_the_queue_pending_parked_and_oldest(
        service: Service, make: Callable[..., Handheld]) -> None:
    watch = Watch()
    h = make(service.url, watch)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ops = 12 * BATCH  # more than the engine counts again in SQL for each batch
    times = [now - dt.timedelta(minutes=ops - i) for i in range(ops)]
    times[7 * BATCH + 2] = now - dt.timedelta(days=1)  # the device's clock was set back for one op
    queue_at(h, times, nowhere={2})  # seq 3: the service refuses it, the device parks it
    late = [now - dt.timedelta(days=2), now]

    def queue_late(n: int) -> None:
        if n == 3:  # while the run is under way: two more, one older than any
            queue_at(h, late)

    watch.on_push = queue_late
    [report] = drain(h)
    assert report.parked == 1 and report.applied == ops + 1
    occurred = dict(enumerate(times + late, start=1))
    late_seqs = {ops + 1, ops + 2}
    for push, status in zip(watch.pushes, watch.statuses, strict=True):
        assert status["parked"] == (0 if push[0] == 1 else 1)
        # What was pending from this push's first op on, with or without the two queued during the run.
        rest = {seq: at for seq, at in occurred.items() if seq >= push[0] and (seq != 3 or push[0] == 1)}
        if push[0] not in late_seqs and status["pending"] == len(rest) - len(late_seqs):
            rest = {seq: at for seq, at in rest.items() if seq not in late_seqs}
        assert status["pending"] == len(rest)
        assert dt.datetime.fromisoformat(status["oldest_pending_at"]) == min(rest.values())
    # The two queued during the run were counted from the push read after they were queued.
    assert watch.statuses[4]["pending"] == len([s for s in occurred if s >= watch.pushes[4][0]])
    assert [p for push in watch.pushes for p in push] == sorted(occurred)


@pytest.mark.parametrize("fault", ["out_of_order", "too_large", "unreachable", "answer_lost"])
def test_a_batch_in_the_middle_that_fails_loses_and_skips_nothing(fault: str, service: Service,
                                                                   make: Callable[..., Handheld]) -> None:
    watch = Watch(fault=fault, fault_at=3)
    h = make(service.url, watch)
    queue_putaways(h, 6 * BATCH)
    reports = drain(h)
    assert watch.most_in_flight == 1
    faulted = set(watch.pushes[2])
    assert faulted == set(range(2 * BATCH + 1, 3 * BATCH + 1))
    # Every op went out in seq order the first time; only the faulted batch's ops went out again.
    sent = [seq for push in watch.pushes for seq in push]
    firsts = list(dict.fromkeys(sent))
    assert firsts == list(range(1, 6 * BATCH + 1))
    assert {seq for seq in sent if sent.count(seq) > 1} <= faulted
    # The batch after the faulted one never left before the faulted one was answered in full.
    assert watch.pushes[3][0] == 2 * BATCH + 1
    assert service_seqs(service, "dev-pipe") == list(range(1, 6 * BATCH + 1))
    assert service.balance("item-mug", "loc-stg-1") == 6 * BATCH
    assert sum(r.applied + r.duplicate for r in reports) == 6 * BATCH and sum(r.parked for r in reports) == 0
    states = [r["state"] for r in outbox_rows(h.device.engine)]
    # A batch the service committed but whose answer was lost is answered duplicate when sent again.
    again = "duplicate" if fault == "answer_lost" else "applied"
    assert states == ["applied"] * 2 * BATCH + [again] * BATCH + ["applied"] * 3 * BATCH
    assert len(reports) == (1 if fault == "too_large" else 2)
    assert sum(r.split for r in reports) == (fault == "too_large")


def test_the_pull_fetches_the_next_page_while_applying_this_one_in_order(
        service: Service, make: Callable[..., Handheld], fresh: Callable[..., tuple[Engine, SyncClient]]) -> None:
    drain_twelve(service, make)
    watch = Watch()
    engine, client = fresh(service.url, watch, "dev-pages")
    watch.hold_after_page = DeviceLock(engine)
    report = pull(client, engine, limit=PAGE)
    assert report.complete and report.pages == len(watch.pages) >= 5
    # Each page asked for the cursor the one before it answered, and was applied with it.
    assert [c for c, _, _ in watch.pages] == [""] + [n for _, n, _ in watch.pages[:-1]]
    assert current_cursor(engine) == watch.pages[-1][1] == report.cursor
    # Each page but the last was applied after the next one had been asked for.
    assert watch.hold_after_page.released_by_next == [True] * (report.pages - 1)
    whole, plain_client = fresh(service.url, httpx.HTTPTransport(), "dev-whole")
    pull(plain_client, whole, limit=1000)
    assert device_state(engine) == device_state(whole)


def test_the_pull_fetches_ahead_without_waiting_for_pages_to_be_taken_two_at_most(
        service: Service, make: Callable[..., Handheld], fresh: Callable[..., tuple[Engine, SyncClient]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    drain_twelve(service, make)
    watch = Watch()
    engine, client = fresh(service.url, watch, "dev-ahead")
    fetched_when_applied: list[int] = []
    apply = pull_module.apply_page

    def slow_apply(conn: Connection, page: contract.ChangesPage, report: Any, now: dt.datetime) -> None:
        time.sleep(0.15)  # a slow device: the fetching goes on meanwhile, up to two pages ahead
        apply(conn, page, report, now)
        fetched_when_applied.append(len(watch.pages))

    monkeypatch.setattr(pull_module, "apply_page", slow_apply)
    report = pull(client, engine, limit=PAGE)
    total = report.pages
    assert report.complete and total == len(watch.pages) >= 5
    assert fetched_when_applied == [min(n + 2, total) for n in range(1, total + 1)]
    assert [c for c, _, _ in watch.pages] == [""] + [n for _, n, _ in watch.pages[:-1]]
    assert current_cursor(engine) == watch.pages[-1][1]


def test_a_failed_prefetch_raises_on_its_turn_and_the_pull_resumes_where_it_stopped(
        service: Service, make: Callable[..., Handheld], fresh: Callable[..., tuple[Engine, SyncClient]]) -> None:
    drain_twelve(service, make)
    watch = Watch()
    watch.fail_page = 3
    engine, client = fresh(service.url, watch, "dev-resume")
    with pytest.raises(Offline, match="could not be reached"):
        pull(client, engine, limit=PAGE)
    # Pages 1 and 2 were applied with their cursors; nothing of page 3.
    assert len(watch.pages) == 3 and current_cursor(engine) == watch.pages[1][1] != ""
    rest = pull(client, engine, limit=PAGE)
    assert rest.complete and watch.pages[3][0] == watch.pages[1][1]
    whole, plain_client = fresh(service.url, httpx.HTTPTransport(), "dev-whole")
    pull(plain_client, whole, limit=1000)
    assert device_state(engine) == device_state(whole)


PAGE = 5


def drain_twelve(service: Service, make: Callable[..., Handheld]) -> None:
    """Twelve op results and their balances in the feed, after the store's records."""
    plain = make(service.url, httpx.HTTPTransport(), name="dev-plain")
    queue_putaways(plain, 12)
    drain(plain)


def device_state(engine: Engine) -> tuple[Any, ...]:
    """What a pull leaves on a device: its records, stock and cursor."""
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql(sql).all() for sql in (
            "SELECT item_id, location_id, status, qty FROM server_stock ORDER BY 1, 2, 3",
            "SELECT item_id, location_id, status, qty FROM stock ORDER BY 1, 2, 3",
            "SELECT item_id FROM items ORDER BY 1", "SELECT location_id FROM locations ORDER BY 1",
            "SELECT task_id, status FROM tasks ORDER BY 1", "SELECT cursor FROM sync_state"))
