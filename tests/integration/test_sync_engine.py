"""The sync engine against the real service: push, settle, pull, park, and what screens show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.domain.commands import ClaimTask, CloseReceipt, ConfirmPick, ConfirmPutaway, ReceiveUnits, StartReceipt
from app.domain.context import FakeClock
from edge_sync import parked
from edge_sync.contract import OpType, PutawayConfirmPayload
from edge_sync.repositories.master import StockRepository
from edge_sync.status import read_status
from edge_sync.uow import UnitOfWork
from tests.conftest import outbox_rows
from tests.fixtures.store import MUG_EACH, TEA
from tests.support.sync_stack import Handheld, Service, handhelds, running_service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as svc:
        yield svc


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0))


class LoseResponses(httpx.BaseTransport):
    """Forwards every request, and loses the answer of the next `n` pushes after the service committed."""

    def __init__(self, n: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.n = n

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if request.method == "POST" and self.n > 0:
            self.n -= 1
            raise httpx.ReadError("connection dropped after the request was sent")
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def make(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., Handheld]]:
    """Build handhelds for the test; their HTTP clients are closed at the end."""
    with handhelds(tmp_path, clock) as new:
        yield new


def _receive_and_close(h: Handheld) -> None:
    h.handle(StartReceipt(command_id="c-start", receipt_id="r-1", asn_id="asn-1"))
    for i in range(3):
        h.handle(ReceiveUnits(command_id=f"c-mug-{i}", receipt_id="r-1", gtin=MUG_EACH, qty=4))
    h.handle(ReceiveUnits(command_id="c-tea", receipt_id="r-1", gtin=TEA, qty=8))
    h.handle(CloseReceipt(command_id="c-close", receipt_id="r-1"))


def test_a_drain_lands_every_op_once_in_order_and_the_pulled_state_matches(service: Service, make: Callable[..., Handheld],
                                                                           clock: FakeClock) -> None:
    h = make(service.url, name="dev-a")
    _receive_and_close(h)
    h.handle(ConfirmPutaway(command_id="c-put", item_id="item-mug", qty=12, from_location_id="loc-dock-1",
                            scanned_location_code="A-01-02-1", suggested_location_id="loc-a-2"))
    report = h.sync.run_once()
    assert report.ok and report.drained, report.error
    assert (report.applied, report.parked, report.duplicate) == (6, 0, 0)
    assert [r["state"] for r in outbox_rows(h.device.engine)] == ["applied"] * 6
    assert service.balance("item-mug", "loc-a-2") == 12
    assert service.balance("item-tea", "loc-dock-1", "received") == 8
    # What the screen shows is the service's figure, nothing counted twice.
    with UnitOfWork(h.device.engine) as uow:
        stock = StockRepository(uow.conn)
        assert stock.qty("item-mug", "loc-a-2", "available") == 12
        assert stock.qty("item-mug", "loc-dock-1", "received") == 0
        assert stock.qty("item-tea", "loc-dock-1", "received") == 8
    status = read_status(h.device.engine)
    assert status.online and status.pending == 0 and status.parked == 0 and status.last_error is None
    again = h.sync.run_once()
    assert again.ok and again.sent == 0


def test_an_answer_lost_after_the_service_committed_is_settled_as_a_duplicate(service: Service, make: Callable[..., Handheld],
                                                                             clock: FakeClock) -> None:
    h = make(service.url, name="dev-lossy", transport=LoseResponses(1))
    _receive_and_close(h)
    first = h.sync.run_once()
    assert not first.ok and first.error == "the service could not be reached"
    assert read_status(h.device.engine).pending == 5
    second = h.sync.run_once()
    assert second.ok, second.error
    states = [r["state"] for r in outbox_rows(h.device.engine)]
    # The pull of the failed run may already have settled them from the feed; either way, once.
    assert set(states) <= {"applied", "duplicate"} and len(states) == 5
    assert service.balance("item-mug", "loc-dock-1", "received") == 12


def test_a_refused_op_is_parked_with_the_reason_and_the_queue_goes_on(service: Service, make: Callable[..., Handheld],
                                                                     clock: FakeClock) -> None:
    h = make(service.url, name="dev-p")
    _receive_and_close(h)
    with UnitOfWork(h.device.engine) as uow:  # an op the service cannot apply: no such location
        uow.append_op(OpType.PUTAWAY_CONFIRM, PutawayConfirmPayload(
            item_id="item-mug", qty=2, from_location_id="loc-dock-1", to_location_id="loc-nowhere"),
            user_id="u-assoc", session_id="s", occurred_at=clock.now())
        uow.commit()
    h.handle(ConfirmPutaway(command_id="c-put", item_id="item-tea", qty=8, from_location_id="loc-dock-1",
                            scanned_location_code="B-01-01-1", suggested_location_id="loc-b-1"))
    report = h.sync.run_once()
    assert report.ok and report.parked == 1 and report.applied == 6
    rows = outbox_rows(h.device.engine)
    assert [r["state"] for r in rows] == ["applied"] * 5 + ["parked", "applied"]
    assert "loc-nowhere" in (rows[5]["last_error"] or "")
    assert service.balance("item-tea", "loc-b-1") == 13
    assert read_status(h.device.engine).parked == 1
    with UnitOfWork(h.device.engine) as uow:
        [waiting] = parked.list_parked(uow)
        parked.resend(uow, waiting.seq, payload={**waiting.payload, "to_location_id": "loc-a-2"},
                      user_id="u-assoc", session_id="s")
        uow.commit()
    assert h.sync.run_once().applied == 1
    assert service.balance("item-mug", "loc-a-2") == 2
    rows = outbox_rows(h.device.engine)
    assert rows[5]["state"] == "resent" and rows[5]["resolution"].startswith("resent as")
    assert read_status(h.device.engine).parked == 0


def test_a_pull_never_hides_this_devices_unsent_work(service: Service, make: Callable[..., Handheld]) -> None:
    a = make(service.url, name="dev-a")
    b = make(service.url, name="dev-b", user_id="u-mgr", role="manager")
    # B picks one mug of the order and syncs; A picks the other one offline and takes the task too.
    b.handle(ConfirmPick(command_id="b-pick", task_id="task-pick-1", line_id="1", scanned_location_code="A-01-01-1",
                         gtin=MUG_EACH))
    assert b.sync.run_once().ok
    a.handle(ClaimTask(command_id="a-claim", task_id="task-count-1"))
    a.handle(ConfirmPick(command_id="a-pick", task_id="task-pick-1", line_id="2", scanned_location_code="B-01-01-1",
                         gtin=TEA))
    # A pulls only (its push fails): the service's figures arrive, A's own work stays on screen.
    from edge_sync.pull import pull

    pull(a.sync.client, a.device.engine)
    with UnitOfWork(a.device.engine) as uow:
        stock = StockRepository(uow.conn)
        assert stock.qty("item-mug", "loc-a-1", "available") == 17   # B's pick, from the service
        assert stock.qty("item-tea", "loc-b-1", "available") == 4    # A's own unsent pick
        assert stock.qty("item-tea", "loc-b-1", "picked") == 1
        task = uow.conn.exec_driver_sql(
            "SELECT lease_holder_device_id FROM tasks WHERE task_id = 'task-count-1'").scalar_one()
        assert task == "dev-a"                                          # A's unsent claim
    # Once A syncs, the service's state includes A's work and nothing is counted twice.
    assert a.sync.run_once().ok
    with UnitOfWork(a.device.engine) as uow:
        stock = StockRepository(uow.conn)
        assert stock.qty("item-tea", "loc-b-1", "available") == 4
        assert stock.qty("item-mug", "loc-a-1", "available") == 17
        assert uow.conn.exec_driver_sql(
            "SELECT lease_holder_device_id FROM tasks WHERE task_id = 'task-count-1'").scalar_one() == "dev-a"
    assert service.balance("item-tea", "loc-b-1") == 4


def test_an_unreachable_service_is_reported_in_words_and_nothing_is_lost(tmp_path: Path, make: Callable[..., Handheld]) -> None:
    with running_service(tmp_path) as svc:
        h = make(svc.url, name="dev-off")
    _receive_and_close(h)  # the service is gone now
    report = h.sync.run_once()
    assert not report.ok and report.error == "the service could not be reached"
    status = read_status(h.device.engine)
    assert not status.online and status.pending == 5 and status.last_error == "the service could not be reached"
    assert [r["state"] for r in outbox_rows(h.device.engine)] == ["pending"] * 5
