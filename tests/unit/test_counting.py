"""Cycle counts: blind figures, recounts, manager approval, provisional adjustments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from app.domain import counting as rules
from app.domain.commands import ClaimTask, RecordCount
from app.domain.context import FakeClock
from app.domain.errors import DomainError, InvalidState, NeedsApproval, NotAllowed, NotFound
from app.domain.policy import StorePolicy
from app.services import counting as service
from app.services import tasks as task_service
from app.services.bus import MessageBus
from edge_sync.repositories.master import StockRepository
from edge_sync.tables import Count
from edge_sync.uow import UnitOfWork, uow_factory
from tests.conftest import ASSOCIATE, MANAGER, outbox_rows
from tests.fixtures.store import T0

POLICY = StorePolicy()  # recount past 2 units and 5 %; approval past 10 units and 20 %
NOW = T0 + dt.timedelta(minutes=5)
MAX = rules.Approver("u-mgr", "Max Manager", is_manager=True)
ANA = rules.Approver("u-assoc", "Ana Associate", is_manager=False)


def count(counted: int, expected: int, attempt: int = 1) -> rules.CountInput:
    return rules.CountInput(counted, expected, T0, T0 + dt.timedelta(minutes=2), attempt)


# --- rules, no database -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variance", "expected", "passed"),
    [
        (3, 100, False),  # past the units, not past 5 % of 100
        (6, 100, True),  # past both
        (-6, 100, True),  # a shortfall counts the same
        (2, 10, False),  # 20 % but not past 2 units
        (3, 0, True),  # nothing expected: units only
        (2, 0, False),
    ],
)
def test_a_threshold_is_passed_only_past_both_units_and_percent(variance: int, expected: int, passed: bool) -> None:
    assert rules.past_threshold(variance, expected, 2, 5.0) is passed


def test_a_count_within_tolerance_is_sent_and_adjusts_by_the_variance() -> None:
    decision = rules.decide(count(17, 18), POLICY, now=NOW)
    assert (decision.status, decision.send, decision.adjustment) == ("provisional", True, -1)


def test_a_first_count_past_the_recount_tolerance_asks_for_a_recount() -> None:
    decision = rules.decide(count(10, 18), POLICY, now=NOW)
    assert (decision.status, decision.send, decision.adjustment) == ("recount", False, 0)


def test_a_recount_past_the_approval_threshold_waits_for_a_manager() -> None:
    assert rules.decide(count(0, 18, attempt=2), POLICY, now=NOW).status == "pending_approval"
    approved = rules.decide(count(0, 18, attempt=2), POLICY, now=NOW, approver=MAX)
    assert (approved.status, approved.approved_by, approved.adjustment) == ("provisional", "u-mgr", -18)


def test_a_recount_within_the_approval_threshold_is_sent() -> None:
    assert rules.decide(count(10, 18, attempt=2), POLICY, now=NOW).status == "provisional"


def test_an_associate_cannot_approve_a_count() -> None:
    with pytest.raises(NotAllowed, match="Ana Associate is not a manager: ask a manager to approve this count"):
        rules.decide(count(0, 18, attempt=2), POLICY, now=NOW, approver=ANA)


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(DomainError, match="cannot be negative"):
        rules.decide(count(-1, 18), POLICY, now=NOW)
    backwards = rules.CountInput(5, 5, T0, T0 - dt.timedelta(seconds=1))
    with pytest.raises(DomainError, match="cannot end before it started"):
        rules.decide(backwards, POLICY, now=NOW)
    future = rules.CountInput(5, 5, T0, NOW + dt.timedelta(minutes=3))
    with pytest.raises(DomainError, match="in the future"):
        rules.decide(future, POLICY, now=NOW)
    slightly_ahead = rules.CountInput(5, 5, T0, NOW + dt.timedelta(seconds=30))
    assert rules.decide(slightly_ahead, POLICY, now=NOW).send


def test_approving_needs_a_pending_count_and_a_manager() -> None:
    with pytest.raises(InvalidState, match="already recorded"):
        rules.approve_pending("provisional", count(0, 18, 2), MAX, now=NOW)
    with pytest.raises(NeedsApproval, match="Ask a manager"):
        rules.approve_pending("pending_approval", count(0, 18, 2), None, now=NOW)
    assert rules.approve_pending("pending_approval", count(0, 18, 2), MAX, now=NOW).adjustment == -18


def test_the_messages_never_reveal_the_expected_figure() -> None:
    recount = rules.decide(count(10, 18), POLICY, now=NOW)
    assert rules.message(recount, counted_qty=10, item="Blue mug", location_code="A-01-01-1") == (
        "Count again: the figure differs from what we expected")
    sent = rules.decide(count(17, 18), POLICY, now=NOW)
    text = rules.message(sent, counted_qty=17, item="Blue mug", location_code="A-01-01-1")
    assert text == "Count saved: 17 Blue mug at A-01-01-1" and "18" not in text


# --- handlers, on the real device database ----------------------------------------------------


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus], clock: FakeClock) -> MessageBus:
    clock.advance(300)
    return make_bus({**service.HANDLERS, **task_service.HANDLERS})


def record(n: str, qty: int, *, count_id: str | None = None, approved_by: str | None = None,
           item: str = "item-mug", location: str = "loc-a-1", task_id: str | None = "task-count-1") -> RecordCount:
    return RecordCount(command_id=f"cmd-{n}", count_id=count_id or f"k-{n}", location_id=location, item_id=item,
                       counted_qty=qty, started_at=T0, counted_at=T0 + dt.timedelta(minutes=2), task_id=task_id,
                       approved_by=approved_by)


def available(engine: Engine, item: str = "item-mug", location: str = "loc-a-1") -> int:
    with UnitOfWork(engine) as uow:
        return StockRepository(uow.conn).qty(item, location, "available")


def statuses(engine: Engine) -> dict[str, str]:
    t = Count.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return {r.count_id: r.status for r in conn.execute(select(t.c.count_id, t.c.status))}


def test_a_matching_blind_count_is_sent_without_the_expected_figure(bus: MessageBus, device_engine: Engine) -> None:
    outcome = bus.handle(record("1", 18), ASSOCIATE)
    assert outcome.message == "Count saved: 18 Blue mug 350 ml at A-01-01-1"
    assert outcome.data == {"count_id": "k-1", "status": "provisional", "attempt": 1, "seq": 1}
    [op] = outbox_rows(device_engine)
    assert op["type"] == "count.record" and op["command_id"] == "cmd-1"
    assert op["payload"]["expected_qty"] is None
    assert op["payload"]["counted_at"].startswith("2026-11-02T09:02:00")
    assert op["payload"]["started_at"].startswith("2026-11-02T09:00:00")
    assert available(device_engine) == 18


def test_a_count_within_tolerance_adjusts_local_stock_provisionally(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(record("1", 17), ASSOCIATE)
    assert available(device_engine) == 17
    assert statuses(device_engine) == {"k-1": "provisional"}


def test_a_big_variance_asks_for_a_recount_and_sends_nothing(bus: MessageBus, device_engine: Engine) -> None:
    outcome = bus.handle(record("1", 10), ASSOCIATE)
    assert outcome.message == "Count again: the figure differs from what we expected"
    assert "expected" not in outcome.data and "variance" not in outcome.data
    assert outbox_rows(device_engine) == [] and available(device_engine) == 18
    recount = bus.handle(record("2", 10), ASSOCIATE)
    assert recount.data["status"] == "provisional" and recount.data["attempt"] == 2
    assert outbox_rows(device_engine)[0]["payload"]["attempt"] == 2
    assert available(device_engine) == 10
    assert statuses(device_engine) == {"k-1": "superseded", "k-2": "provisional"}


def test_a_recount_past_the_approval_threshold_is_kept_until_a_manager_approves(
    bus: MessageBus, device_engine: Engine
) -> None:
    bus.handle(record("1", 0), ASSOCIATE)
    pending = bus.handle(record("2", 0), ASSOCIATE)
    assert pending.message.startswith("Needs a manager")
    assert statuses(device_engine) == {"k-1": "recount", "k-2": "pending_approval"}
    assert outbox_rows(device_engine) == [] and available(device_engine) == 18
    waiting = service.counts_awaiting_approval(uow_factory(device_engine), MANAGER)
    assert [(w.count_id, w.expected_qty, w.variance) for w in waiting] == [("k-2", 18, -18)]
    with pytest.raises(NotAllowed, match="Only a manager"):
        service.counts_awaiting_approval(uow_factory(device_engine), ASSOCIATE)

    with pytest.raises(NotAllowed, match="Ana Associate is not a manager"):
        bus.handle(record("3", 0, count_id="k-2", approved_by="u-assoc"), ASSOCIATE)
    with pytest.raises(NotFound, match="scan a manager's badge"):
        bus.handle(record("4", 0, count_id="k-2", approved_by="u-ghost"), ASSOCIATE)
    with pytest.raises(NeedsApproval):
        bus.handle(record("5", 0, count_id="k-2"), ASSOCIATE)
    with pytest.raises(InvalidState, match="already recorded"):
        bus.handle(record("6", 3, count_id="k-2", approved_by="u-mgr"), ASSOCIATE)

    approved = bus.handle(record("7", 0, count_id="k-2", approved_by="u-mgr"), ASSOCIATE)
    assert approved.message == "Count saved (approved): 0 Blue mug 350 ml at A-01-01-1"
    [op] = outbox_rows(device_engine)
    assert (op["payload"]["approved_by"], op["payload"]["attempt"], op["payload"]["count_id"]) == ("u-mgr", 2, "k-2")
    assert available(device_engine) == 0
    assert statuses(device_engine) == {"k-1": "superseded", "k-2": "provisional"}


def test_a_recount_can_carry_the_approval_with_it(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(record("1", 0), ASSOCIATE)
    outcome = bus.handle(record("2", 0, approved_by="u-admin"), ASSOCIATE)
    assert outcome.data["status"] == "provisional"
    assert outbox_rows(device_engine)[0]["payload"]["approved_by"] == "u-admin"


def test_nothing_expected_uses_units_only(bus: MessageBus, device_engine: Engine) -> None:
    assert bus.handle(record("1", 2, item="item-cup", location="loc-a-2", task_id=None), ASSOCIATE).data["status"] \
        == "provisional"
    assert available(device_engine, "item-cup", "loc-a-2") == 2
    assert bus.handle(record("2", 3, item="item-tea", location="loc-a-2", task_id=None), ASSOCIATE).data["status"] \
        == "recount"


def test_a_count_that_is_not_blind_carries_the_expected_figure(
    make_bus: Callable[..., MessageBus], device_engine: Engine
) -> None:
    bus = make_bus(service.HANDLERS, StorePolicy(blind_counts=False))
    bus.handle(record("1", 18), ASSOCIATE)
    assert outbox_rows(device_engine)[0]["payload"]["expected_qty"] == 18


def test_a_repeated_count_command_counts_once(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(record("1", 17), ASSOCIATE)
    again = bus.handle(record("1", 17), ASSOCIATE)
    assert again.repeated
    assert len(outbox_rows(device_engine)) == 1 and available(device_engine) == 17


def test_refused_counts_write_nothing(bus: MessageBus, device_engine: Engine, clock: FakeClock) -> None:
    with pytest.raises(DomainError, match="cannot be negative"):
        bus.handle(record("1", -1), ASSOCIATE)
    future = RecordCount(command_id="cmd-2", count_id="k-2", location_id="loc-a-1", item_id="item-mug",
                         counted_qty=5, started_at=T0, counted_at=clock.now() + dt.timedelta(hours=1))
    with pytest.raises(DomainError, match="in the future"):
        bus.handle(future, ASSOCIATE)
    with pytest.raises(NotFound, match="sync, then try again"):
        bus.handle(record("3", 5, item="item-ghost"), ASSOCIATE)
    with pytest.raises(InvalidState, match="not a count task"):
        bus.handle(record("4", 5, task_id="task-pick-1"), ASSOCIATE)
    assert outbox_rows(device_engine) == [] and statuses(device_engine) == {}


def test_a_count_task_someone_else_holds_is_refused(bus: MessageBus, device_engine: Engine) -> None:
    from dataclasses import replace

    bus.handle(ClaimTask(command_id="claim", task_id="task-count-1"), replace(MANAGER, device_id="dev-2"))
    with pytest.raises(InvalidState, match="Task held by Max Manager"):
        bus.handle(record("1", 18), ASSOCIATE)


def test_count_task_lines_hide_the_expected_figure_on_blind_counts(bus: MessageBus, device_engine: Engine) -> None:
    factory = uow_factory(device_engine)
    [line] = service.count_task_lines(factory, "task-count-1")
    assert (line.location_code, line.item_description, line.status, line.expected_qty) == (
        "A-01-01-1", "Blue mug 350 ml", None, None)
    bus.handle(record("1", 10), ASSOCIATE)
    [line] = service.count_task_lines(factory, "task-count-1")
    assert (line.status, line.counted_qty, line.expected_qty) == ("recount", 10, None)
    [line] = service.count_task_lines(factory, "task-count-1", blind=False)
    assert line.expected_qty == 18


def test_count_task_lines_can_be_made_by_location_or_by_item(device_engine: Engine) -> None:
    factory = uow_factory(device_engine)
    by_location = service.count_lines_for_location(factory, "loc-a-1")
    assert [(ln.item_id, ln.location_id) for ln in by_location] == [("item-mug", "loc-a-1")]
    by_item = service.count_lines_for_item(factory, "item-tea")
    assert [(ln.line_id, ln.location_id) for ln in by_item] == [("1", "loc-b-1")]
    with pytest.raises(NotFound):
        service.count_lines_for_item(factory, "item-ghost")


def test_an_abandoned_recount_from_an_earlier_shift_does_not_count_as_the_first_attempt(
    bus: MessageBus, device_engine: Engine, clock: FakeClock
) -> None:
    bus.handle(record("1", 10), ASSOCIATE)
    clock.advance(24 * 3600)
    later = T0 + dt.timedelta(days=1)
    fresh = RecordCount(command_id="cmd-2", count_id="k-2", location_id="loc-a-1", item_id="item-mug",
                        counted_qty=10, started_at=later, counted_at=later)
    assert bus.handle(fresh, ASSOCIATE).data == {"count_id": "k-2", "status": "recount", "attempt": 1}
