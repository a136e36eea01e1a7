"""Directed putaway: the rules on their own, then the handler and queries on the test store's SQLite."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from app.domain import putaway as rules
from app.domain.commands import CloseReceipt, ConfirmPutaway, ReceiveUnits, StartReceipt
from app.domain.errors import DomainError, InvalidState, NotFound, WrongScan
from app.services import putaway, receiving
from app.services.bus import MessageBus
from edge_sync.contract import BalanceRecord, StockStatus
from edge_sync.repositories.master import StockRepository, apply_balances
from edge_sync.uow import UnitOfWork
from tests.conftest import ASSOCIATE, outbox_rows
from tests.fixtures.store import MUG_EACH

# --- the rules, without a database -------------------------------------------------------------

HOME = rules.Place("loc-a-1", "A-01-01-1", "A", "shelf", 10, 20, 18)
OVERFLOW = rules.Place("loc-a-2", "A-01-02-1", "A", "shelf", 11, 50, 0)
OVERFLOW_LATER = rules.Place("loc-a-3", "A-01-03-1", "A", "shelf", 12, 50, 0)
BR_NEAR = rules.Place("loc-br-1", "BR-01-01-1", "BR", "backroom", 30, 200, 0)
BR_FAR = rules.Place("loc-br-2", "BR-09-01-1", "BR", "backroom", 900, 200, 0)
DOCK = rules.Place("loc-dock-1", "DOCK-1", "DOCK", "dock", 0, 0, 40)
STAGING = rules.Place("loc-stg-1", "STG-1", "STG", "staging", 900, 0, 0)


def test_the_home_location_is_suggested_when_it_has_room() -> None:
    s = rules.suggest(HOME, [HOME, OVERFLOW], [BR_NEAR], qty=2)
    assert (s.location.code, s.reason) == ("A-01-01-1", "Home location A-01-01-1")


def test_a_home_without_capacity_limit_always_has_room() -> None:
    unlimited = rules.Place("loc-a-1", "A-01-01-1", "A", "shelf", 10, 0, 5000)
    assert rules.suggest(unlimited, [], [BR_NEAR], qty=999).location is unlimited


def test_a_full_home_overflows_to_the_first_shelf_with_room_in_its_zone() -> None:
    small = rules.Place("loc-a-0", "A-00-01-1", "A", "shelf", 5, 10, 9)
    other_zone = rules.Place("loc-b-1", "B-01-01-1", "B", "shelf", 1, 100, 0)
    s = rules.suggest(HOME, [OVERFLOW_LATER, small, HOME, OVERFLOW, other_zone], [BR_NEAR], qty=3)
    assert (s.location.code, s.reason) == ("A-01-02-1", "Home A-01-01-1 is full (18 of 20): overflow in zone A")


def test_no_room_in_the_zone_sends_it_to_the_nearest_backroom() -> None:
    full = rules.Place("loc-a-2", "A-01-02-1", "A", "shelf", 11, 50, 49)
    s = rules.suggest(HOME, [HOME, full], [BR_FAR, BR_NEAR], qty=3)
    assert (s.location.code, s.reason) == ("BR-01-01-1", "No space in zone A: nearest backroom")


def test_the_nearest_backroom_is_measured_from_the_home() -> None:
    far_home = rules.Place("loc-z-1", "Z-01-01-1", "Z", "shelf", 880, 1, 1)
    assert rules.suggest(far_home, [], [BR_NEAR, BR_FAR], qty=1).location is BR_FAR


def test_a_backroom_with_room_is_preferred_to_a_nearer_full_one() -> None:
    near_full = rules.Place("loc-br-0", "BR-00-01-1", "BR", "backroom", 11, 10, 10)
    assert rules.suggest(HOME, [], [near_full, BR_FAR], qty=3).location is BR_FAR


def test_when_every_backroom_is_full_the_nearest_is_still_suggested_and_said_full() -> None:
    near_full = rules.Place("loc-br-0", "BR-00-01-1", "BR", "backroom", 11, 10, 10)
    s = rules.suggest(HOME, [], [near_full], qty=3)
    assert s.reason == "No space in zone A: nearest backroom (full: 10 of 10)"


def test_an_item_without_home_goes_to_the_first_backroom() -> None:
    s = rules.suggest(None, [], [BR_FAR, BR_NEAR], qty=1)
    assert (s.location.code, s.reason) == ("BR-01-01-1", "No home location: nearest backroom")


def test_no_backroom_at_all_is_said_plainly() -> None:
    with pytest.raises(InvalidState, match="No backroom location is set up"):
        rules.suggest(None, [], [], qty=1)


def confirm(**kw: Any) -> rules.PutawayConfirmed:
    args: dict[str, Any] = dict(
        item_id="item-mug", description="Blue mug 350 ml", qty=2, from_location_id="loc-dock-1",
        from_code="DOCK-1", waiting=10, scanned_code="A-01-01-1", scanned=HOME, suggested=HOME,
        override_reason=None,
    )
    return rules.confirm(**{**args, **kw})


def test_scanning_the_suggested_location_confirms_it() -> None:
    done = confirm()
    assert done.message == "Put 2 Blue mug 350 ml at A-01-01-1"
    assert (done.to, done.suggested_location_id, done.override_reason, done.over_capacity) == (
        HOME, "loc-a-1", None, False)


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"scanned_code": "A-99", "scanned": None}, NotFound, "No location A-99: check the label"),
        ({"scanned_code": "DOCK-1", "scanned": DOCK}, WrongScan, "DOCK-1 is a dock: scan a shelf or backroom location"),
        ({"scanned_code": "STG-1", "scanned": STAGING}, WrongScan,
         "STG-1 is a staging location: scan a shelf or backroom location"),
        ({"scanned_code": "A-01-02-1", "scanned": OVERFLOW}, WrongScan,
         "Wrong location: scan A-01-01-1, or give a reason to put it elsewhere"),
        ({"scanned_code": "A-01-02-1", "scanned": OVERFLOW, "override_reason": "   "}, WrongScan,
         "Wrong location: scan A-01-01-1, or give a reason to put it elsewhere"),
        ({"qty": 5, "waiting": 4}, InvalidState, "Only 4 Blue mug 350 ml are waiting at DOCK-1"),
        ({"waiting": 0}, InvalidState, "No Blue mug 350 ml waiting at DOCK-1: nothing to put away"),
        ({"qty": 0}, DomainError, "Quantity must be at least 1"),
        ({"qty": -3}, DomainError, "Quantity must be at least 1"),
        ({"scanned": OVERFLOW, "override_reason": "x" * 501}, DomainError, "Reason too long"),
    ],
)
def test_a_putaway_is_refused_with_a_reason(kw: dict[str, Any], error: type[DomainError], message: str) -> None:
    with pytest.raises(error) as err:
        confirm(**kw)
    assert err.value.message.startswith(message)


def test_another_location_with_a_reason_is_an_override() -> None:
    done = confirm(scanned_code="A-01-02-1", scanned=OVERFLOW, override_reason=" home shelf blocked ")
    assert (done.to.code, done.override_reason) == ("A-01-02-1", "home shelf blocked")


def test_filling_a_location_past_its_capacity_is_allowed_and_said() -> None:
    done = confirm(qty=6)
    assert done.over_capacity
    assert done.message == "Put 6 Blue mug 350 ml at A-01-01-1: over capacity (24 of 20)"


# --- the handler and queries, through the bus on the test store ----------------------------------


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus(putaway.HANDLERS)


@pytest.fixture
def on_dock(device_engine: Engine) -> Engine:
    """Ten mugs and three cups received at DOCK-1 (as the service reports), waiting to be put away."""
    with UnitOfWork(device_engine) as uow:
        apply_balances(uow.conn, [
            BalanceRecord(item_id="item-mug", location_id="loc-dock-1", status=StockStatus.RECEIVED, qty=10),
            BalanceRecord(item_id="item-cup", location_id="loc-dock-1", status=StockStatus.RECEIVED, qty=3),
        ])
        uow.commit()
    return device_engine


def put(bus: MessageBus, code: str, qty: int = 2, item_id: str = "item-mug", **kw: Any) -> Any:
    cmd = ConfirmPutaway(command_id=kw.pop("command_id", f"put-{code}-{qty}-{item_id}"), item_id=item_id, qty=qty,
                         from_location_id="loc-dock-1", scanned_location_code=code, **kw)
    return bus.handle(cmd, ASSOCIATE)


def qty(engine: Engine, item_id: str, location_id: str, status: str) -> int:
    with UnitOfWork(engine) as uow:
        return StockRepository(uow.conn).qty(item_id, location_id, status)


@pytest.mark.parametrize(
    ("item_id", "n", "code", "reason"),
    [
        ("item-mug", 2, "A-01-01-1", "Home location A-01-01-1"),
        ("item-mug", 3, "A-01-02-1", "Home A-01-01-1 is full (18 of 20): overflow in zone A"),
        ("item-tea", 26, "BR-01-01-1", "No space in zone B: nearest backroom"),
        ("item-cup", 1, "BR-01-01-1", "No home location: nearest backroom"),
    ],
)
def test_suggestions_on_the_test_store(device_engine: Engine, item_id: str, n: int, code: str, reason: str) -> None:
    s = putaway.suggest_putaway(device_engine, item_id, n)
    assert (s.location.code, s.reason) == (code, reason)


def test_suggesting_for_an_unknown_item_is_refused(device_engine: Engine) -> None:
    with pytest.raises(NotFound, match="Unknown item item-x"):
        putaway.suggest_putaway(device_engine, "item-x", 1)


def test_the_putaway_list_shows_what_waits_and_where_it_goes(on_dock: Engine) -> None:
    waiting = putaway.awaiting_putaway(on_dock)
    assert [(a.description, a.from_code, a.qty, a.suggestion.location.code) for a in waiting] == [
        ("Blue mug 350 ml", "DOCK-1", 10, "A-01-02-1"),
        ("Red cup 250 ml", "DOCK-1", 3, "BR-01-01-1"),
    ]


def test_confirming_makes_the_units_available_and_queues_the_op(bus: MessageBus, on_dock: Engine) -> None:
    outcome = put(bus, "a-01-01-1 ", command_id="put-ok", suggested_location_id="loc-a-1", task_id="task-put-1")
    assert outcome.message == "Put 2 Blue mug 350 ml at A-01-01-1"
    assert qty(on_dock, "item-mug", "loc-dock-1", "received") == 8
    assert qty(on_dock, "item-mug", "loc-a-1", "available") == 20
    [op] = outbox_rows(on_dock)
    assert op["type"] == "putaway.confirm" and op["command_id"] == "put-ok"
    assert op["payload"] == {
        "item_id": "item-mug", "qty": 2, "from_location_id": "loc-dock-1", "to_location_id": "loc-a-1",
        "suggested_location_id": "loc-a-1", "override_reason": None, "task_id": "task-put-1",
    }


def test_without_a_given_suggestion_the_handler_works_it_out(bus: MessageBus, on_dock: Engine) -> None:
    with pytest.raises(WrongScan, match="Wrong location: scan A-01-02-1"):
        put(bus, "A-01-01-1", qty=5)
    assert put(bus, "A-01-02-1", qty=5).data["suggested_location_id"] == "loc-a-2"


def test_an_override_with_a_reason_is_recorded(bus: MessageBus, on_dock: Engine) -> None:
    outcome = put(bus, "BR-01-01-1", suggested_location_id="loc-a-1", override_reason="Shelf blocked by a pallet")
    assert outcome.data["to_location_id"] == "loc-br-1"
    assert outbox_rows(on_dock)[0]["payload"]["override_reason"] == "Shelf blocked by a pallet"


def test_overfilling_is_recorded_and_said(bus: MessageBus, on_dock: Engine) -> None:
    outcome = put(bus, "A-01-01-1", qty=6, suggested_location_id="loc-a-2", override_reason="Mugs go on their home")
    assert outcome.message == "Put 6 Blue mug 350 ml at A-01-01-1: over capacity (24 of 20)"
    assert outcome.data["over_capacity"] is True
    assert qty(on_dock, "item-mug", "loc-a-1", "available") == 24


@pytest.mark.parametrize(
    ("code", "n", "error", "message"),
    [
        ("A-99", 2, NotFound, "No location A-99: check the label"),
        ("DOCK-1", 2, WrongScan, "DOCK-1 is a dock: scan a shelf or backroom location"),
        ("A-01-02-1", 2, WrongScan, "Wrong location: scan A-01-01-1, or give a reason to put it elsewhere"),
        ("A-01-01-1", 11, InvalidState, "Only 10 Blue mug 350 ml are waiting at DOCK-1"),
        ("A-01-01-1", 0, DomainError, "Quantity must be at least 1"),
    ],
)
def test_a_refused_putaway_moves_nothing(
    bus: MessageBus, on_dock: Engine, code: str, n: int, error: type[DomainError], message: str
) -> None:
    with pytest.raises(error) as err:
        put(bus, code, qty=n, suggested_location_id="loc-a-1")
    assert err.value.message == message
    assert outbox_rows(on_dock) == []
    assert qty(on_dock, "item-mug", "loc-dock-1", "received") == 10


def test_a_repeated_command_id_puts_away_once(bus: MessageBus, on_dock: Engine) -> None:
    first = put(bus, "A-01-01-1", command_id="put-1", suggested_location_id="loc-a-1")
    again = put(bus, "A-01-01-1", command_id="put-1", suggested_location_id="loc-a-1")
    assert again.repeated and again.message == first.message
    assert qty(on_dock, "item-mug", "loc-dock-1", "received") == 8
    assert len(outbox_rows(on_dock)) == 1


def test_received_stock_is_not_available_until_put_away(
    make_bus: Callable[..., MessageBus], device_engine: Engine
) -> None:
    bus = make_bus({**receiving.HANDLERS, **putaway.HANDLERS})
    bus.handle(StartReceipt(command_id="c1", receipt_id="r-1", asn_id="asn-1"), ASSOCIATE)
    bus.handle(ReceiveUnits(command_id="c2", receipt_id="r-1", gtin=MUG_EACH, qty=2), ASSOCIATE)
    bus.handle(CloseReceipt(command_id="c3", receipt_id="r-1"), ASSOCIATE)
    assert qty(device_engine, "item-mug", "loc-a-1", "available") == 18
    [waiting] = putaway.awaiting_putaway(device_engine)
    assert (waiting.qty, waiting.suggestion.reason) == (2, "Home location A-01-01-1")
    put(bus, "A-01-01-1", suggested_location_id=waiting.suggestion.location.location_id)
    assert qty(device_engine, "item-mug", "loc-a-1", "available") == 20
    assert putaway.awaiting_putaway(device_engine) == []
    assert [op["type"] for op in outbox_rows(device_engine)] == ["receipt.receive", "receipt.close", "putaway.confirm"]
