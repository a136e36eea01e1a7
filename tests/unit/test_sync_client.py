"""The sync client, the engine's settling and the scheduler, with httpx.MockTransport as the service."""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from edge_sync import contract
from edge_sync.backoff import Backoff
from edge_sync.client import SyncClient
from edge_sync.db import open_device_database
from edge_sync.engine import SyncEngine
from edge_sync.errors import BadAnswer, Offline, ServiceBusy, SessionExpired
from edge_sync.scheduler import SyncScheduler
from edge_sync.status import read_status
from edge_sync.uow import UnitOfWork
from edge_sync import outbox
from tests.conftest import outbox_rows

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
STORE = "store-test"


def _client(handler: Callable[[httpx.Request], httpx.Response], **kw: object) -> SyncClient:
    return SyncClient(httpx.Client(transport=httpx.MockTransport(handler), base_url="http://svc"), store_id=STORE, **kw)  # type: ignore[arg-type]


def _page(changes: list[contract.Change] | None = None) -> httpx.Response:
    page = contract.ChangesPage(changes=changes or [], next_cursor="c1", has_more=False, server_time=NOW)
    return httpx.Response(200, content=page.model_dump_json())


@pytest.mark.parametrize(("answer", "error", "words"), [
    (httpx.Response(503), ServiceBusy, "the service had a problem (503)"),
    (httpx.Response(429, headers={"Retry-After": "7"}), ServiceBusy, "the service asked to slow down"),
    (httpx.Response(401), SessionExpired, "sign in again"),
    (httpx.Response(422, json={"detail": {"message": "op for another store"}}), BadAnswer, "op for another store"),
    (httpx.Response(200, content=b"<html>captive portal</html>"), BadAnswer, "does not understand"),
])
def test_every_failing_answer_becomes_a_typed_error_in_words(answer: httpx.Response, error: type[Exception],
                                                              words: str) -> None:
    client = _client(lambda r: answer)
    with pytest.raises(error, match=re.escape(words)) as info:
        client.changes("", 10)
    if answer.status_code == 429:
        assert info.value.retry_after == 7.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")])
def test_network_failures_are_offline(exc: Exception) -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(Offline):
        _client(handler).changes("", 10)


def test_a_401_refreshes_the_session_once_and_goes_on() -> None:
    calls: list[str] = []
    token = {"value": "old"}

    def handler(r: httpx.Request) -> httpx.Response:
        calls.append(token["value"])
        return _page() if token["value"] == "new" else httpx.Response(401)

    client = _client(handler, refresh_session=lambda: token.update(value="new"))
    assert client.changes("", 10).next_cursor == "c1"
    assert calls == ["old", "new"]


# --- the engine, settling against a scripted service ------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    engine = open_device_database(tmp_path / "d.db")
    with UnitOfWork(engine) as uow:
        outbox.register_device(uow.conn, store_id=STORE, device_id="dev-1")
        for i in range(5):
            uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id=f"t-{i}"),
                          user_id="u1", session_id="s1", occurred_at=NOW)
        uow.commit()
    yield engine
    engine.dispose()


def _service(answer: Callable[[contract.Op], contract.OpResult], server_time: dt.datetime = NOW,
             pushes: list[list[int]] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    def handler(r: httpx.Request) -> httpx.Response:
        if r.method == "GET":
            return _page()
        req = contract.PushRequest.model_validate_json(r.content)
        if pushes is not None:
            pushes.append([op.seq for op in req.ops])
        resp = contract.PushResponse(results=[answer(op) for op in req.ops], server_time=server_time)
        return httpx.Response(200, content=resp.model_dump_json())
    return handler


def _result(op: contract.Op, status: contract.OpStatus, **kw: object) -> contract.OpResult:
    return contract.OpResult(op_id=op.op_id, seq=op.seq, status=status, **kw)  # type: ignore[arg-type]


def test_answers_settle_each_op_and_the_clock_offset_is_learned(db: Engine) -> None:
    def answer(op: contract.Op) -> contract.OpResult:
        if op.seq == 3:
            return _result(op, contract.OpStatus.REJECTED, reason="task t-2 does not exist")
        return _result(op, contract.OpStatus.DUPLICATE if op.seq == 1 else contract.OpStatus.APPLIED, result={"n": op.seq})

    engine = SyncEngine(db, _client(_service(answer, server_time=NOW + dt.timedelta(seconds=90))), clock=lambda: NOW)
    report = engine.run_once()
    assert report.ok and report.drained and (report.applied, report.duplicate, report.parked) == (3, 1, 1)
    rows = outbox_rows(db)
    assert [r["state"] for r in rows] == ["duplicate", "applied", "parked", "applied", "applied"]
    assert rows[2]["last_error"] == "task t-2 does not exist" and rows[1]["result"] == {"n": 2}
    status = read_status(db)
    assert status.clock_offset_ms == 90_000 and status.parked == 1 and status.online


def test_an_out_of_order_answer_sends_again_what_the_service_lost(db: Engine) -> None:
    lost_once = {"done": False}
    pushes: list[list[int]] = []

    def answer(op: contract.Op) -> contract.OpResult:
        return _result(op, contract.OpStatus.APPLIED)

    engine = SyncEngine(db, _client(_service(answer, pushes=pushes)), clock=lambda: NOW, batch=5)
    assert engine.run_once().applied == 5

    # The service was restored from a backup that ends at seq 2; new op 6 is out of order.
    with UnitOfWork(db) as uow:
        uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id="t-6"),
                      user_id="u1", session_id="s1", occurred_at=NOW)
        uow.commit()

    def restored(op: contract.Op) -> contract.OpResult:
        if op.seq == 6 and not lost_once["done"]:
            lost_once["done"] = True
            return _result(op, contract.OpStatus.OUT_OF_ORDER, expected_seq=3, reason="waiting for seq 3")
        return _result(op, contract.OpStatus.APPLIED)

    engine.client = _client(_service(restored, pushes=pushes))
    report = engine.run_once()
    assert report.ok and report.out_of_order == 1
    assert pushes[-2:] == [[6], [3, 4, 5, 6]]
    assert [r["state"] for r in outbox_rows(db)] == ["applied"] * 6


def test_a_second_run_while_one_is_under_way_is_skipped(db: Engine) -> None:
    gate, entered = threading.Event(), threading.Event()

    def slow(r: httpx.Request) -> httpx.Response:
        entered.set()
        gate.wait(5)
        return _service(lambda op: _result(op, contract.OpStatus.APPLIED))(r)

    engine = SyncEngine(db, _client(slow), clock=lambda: NOW)
    first: list[object] = []
    t = threading.Thread(target=lambda: first.append(engine.run_once()))
    t.start()
    assert entered.wait(5)
    assert engine.run_once().skipped
    gate.set()
    t.join(5)
    assert first and first[0].ok  # type: ignore[attr-defined]


# --- backoff and scheduling -----------------------------------------------------------------


def test_backoff_grows_exponentially_is_capped_jittered_and_honours_retry_after() -> None:
    b = Backoff(base=1, cap=60, rng=random.Random(1))
    delays = [b.delay(n) for n in range(1, 12)]
    assert b.delay(0) == 0
    for n, d in enumerate(delays, start=1):
        ceiling = min(60, 2 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling
    assert max(delays) <= 60 and delays[-1] >= 30
    assert b.delay(1, retry_after=20) == 20
    assert len({round(Backoff(rng=random.Random(s)).delay(5), 3) for s in range(10)}) > 5  # jittered


def test_the_scheduler_backs_off_after_a_failure_and_resets_after_a_success(db: Engine) -> None:
    state = {"up": False}

    def handler(r: httpx.Request) -> httpx.Response:
        if not state["up"]:
            raise httpx.ConnectError("no network")
        return _service(lambda op: _result(op, contract.OpStatus.APPLIED))(r)

    scheduler = SyncScheduler(SyncEngine(db, _client(handler), clock=lambda: NOW), backoff=Backoff(base=30, cap=60))
    first = scheduler.tick()
    assert first is not None and not first.ok and scheduler.failures == 1 and scheduler.not_before is not None
    assert scheduler.tick() is None  # still waiting out the backoff
    state["up"] = True
    scheduler.not_before = None
    second = scheduler.tick()
    assert second is not None and second.ok and scheduler.failures == 0
    assert read_status(db).pending == 0


def test_the_scheduler_runs_in_the_background_and_a_kick_runs_at_once(db: Engine) -> None:
    pushes: list[list[int]] = []
    ran = threading.Event()
    scheduler = SyncScheduler(
        SyncEngine(db, _client(_service(lambda op: _result(op, contract.OpStatus.APPLIED), pushes=pushes)),
                   clock=lambda: NOW),
        interval_s=3600, on_report=lambda report: ran.set())
    scheduler.start()
    try:
        assert ran.wait(10)  # the first run is at once
        ran.clear()
        with UnitOfWork(db) as uow:
            uow.append_op(contract.OpType.TASK_RELEASE, contract.TaskReleasePayload(task_id="t-9"),
                          user_id="u1", session_id="s1", occurred_at=NOW)
            uow.commit()
        scheduler.kick()
        assert ran.wait(10)
    finally:
        scheduler.shutdown()
    assert pushes == [[1, 2, 3, 4, 5], [6]]
    assert outbox_rows(db)[-1]["state"] == "applied"


def test_a_kick_runs_after_its_delay_and_one_burst_makes_one_run(db: Engine) -> None:
    runs: list[float] = []
    ran = threading.Event()

    def report(_: object) -> None:
        runs.append(time.monotonic())
        ran.set()

    scheduler = SyncScheduler(
        SyncEngine(db, _client(_service(lambda op: _result(op, contract.OpStatus.APPLIED))), clock=lambda: NOW),
        interval_s=3600, on_report=report, kick_delay_s=0.5)
    scheduler.start()
    try:
        assert ran.wait(10)  # the first run is at once
        ran.clear()
        kicked = time.monotonic()
        scheduler.kick()
        time.sleep(0.2)
        scheduler.kick()  # a second commit of the same burst
        assert ran.wait(10)
    finally:
        scheduler.shutdown()
    assert len(runs) == 2
    assert runs[1] - kicked >= 0.45  # the run waited for the burst
    assert len(runs) == 2  # two kicks of one burst, one run
