"""Picking: the walk, location-then-item scans, substitutes, short picks and staging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import Engine, select

from app.domain import picking as rules
from app.domain.commands import (
    ClaimTask,
    CompleteTask,
    ConfirmPick,
    CreateTask,
    ShortPick,
    StageOrder,
    TaskLineInput,
)
from app.domain.errors import DomainError, InvalidState, NotAllowed, NotFound, WrongScan
from app.services import picking as service
from app.services import tasks as task_service
from app.services.bus import MessageBus
from edge_sync.repositories.master import StockRepository
from edge_sync.tables import OrderLine, Task, TaskLine
from edge_sync.uow import UnitOfWork, uow_factory
from tests.conftest import ASSOCIATE, MANAGER, outbox_rows
from tests.fixtures.store import CUP, MUG_CASE, MUG_EACH, TEA, UNKNOWN_GTIN

ORDER = rules.OrderSnapshot("ord-1", "WEB-7001", "pickup", True, "open")
MUG_LINE = rules.PickLineSnapshot("1", "item-mug", "Blue mug 350 ml", "loc-a-1", "A-01-01-1", 10, qty=2)
TEA_LINE = rules.PickLineSnapshot("2", "item-tea", "Green tea 20 bags", "loc-b-1", "B-01-01-1", 20, qty=1)
AT_A1 = rules.ScannedLocation("loc-a-1", "A-01-01-1", "shelf")
STG = rules.ScannedLocation("loc-stg-1", "STG-1", "staging")
MUG = rules.ScannedItem("item-mug", "Blue mug 350 ml", 1)
CASE_OF_MUGS = rules.ScannedItem("item-mug", "Blue mug 350 ml", 6)
TEA_ITEM = rules.ScannedItem("item-tea", "Green tea 20 bags", 1)
CUP_ITEM = rules.ScannedItem("item-cup", "Red cup 250 ml", 1)


def pick(line: rules.PickLineSnapshot = MUG_LINE, *, order: rules.OrderSnapshot = ORDER,
         location: rules.ScannedLocation = AT_A1, item: rules.ScannedItem = MUG, qty: int = 1,
         substitute: bool = False) -> rules.PickDecision:
    return rules.confirm_pick(order, line, scanned_location=location, scanned_item=item, qty=qty,
                              substitute=substitute)


# --- rules, no database -----------------------------------------------------------------------


def test_the_walk_follows_the_location_pick_sequence() -> None:
    backroom = replace(MUG_LINE, line_id="3", location_code="BR-01-01-1", pick_sequence=500)
    assert [ln.line_id for ln in rules.walk_order([backroom, TEA_LINE, MUG_LINE])] == ["1", "2", "3"]


def test_a_pick_at_the_wrong_location_says_where_to_go() -> None:
    elsewhere = rules.ScannedLocation("loc-a-2", "A-01-02-1", "shelf")
    with pytest.raises(WrongScan, match="Wrong location: go to A-01-01-1"):
        pick(location=elsewhere)


def test_the_wrong_item_says_what_was_scanned_and_what_to_scan() -> None:
    with pytest.raises(WrongScan, match="This is Green tea 20 bags: scan Blue mug 350 ml"):
        pick(item=TEA_ITEM)


def test_a_substitute_needs_an_order_that_allows_it() -> None:
    with pytest.raises(NotAllowed, match="This order does not allow substitutes"):
        pick(order=replace(ORDER, allow_substitution=False), item=CUP_ITEM, substitute=True)
    decision = pick(item=CUP_ITEM, substitute=True)
    assert decision == rules.PickDecision("item-cup", 1, substitute_for_item_id="item-mug")


def test_a_line_keeps_one_substitute() -> None:
    line = replace(MUG_LINE, picked_qty=1, substitute_item_id="item-cup")
    with pytest.raises(WrongScan, match="already has a different substitute"):
        pick(line, item=TEA_ITEM, substitute=True)


def test_scanning_the_ordered_item_with_substitute_on_is_a_plain_pick() -> None:
    assert pick(substitute=True).substitute_for_item_id is None


def test_units_are_packs_times_the_pack_size_and_never_more_than_left() -> None:
    assert pick(qty=2).units == 2
    with pytest.raises(InvalidState, match=r"Too many: 2 left to pick on this line \(0 of 2 picked\)"):
        pick(item=CASE_OF_MUGS)
    with pytest.raises(InvalidState, match="Line complete: 2 of 2 picked"):
        pick(replace(MUG_LINE, done_qty=2, picked_qty=2))
    with pytest.raises(DomainError, match="1 or more"):
        pick(qty=0)


def test_an_order_already_staged_cannot_be_picked() -> None:
    with pytest.raises(InvalidState, match="WEB-7001 is staged"):
        pick(order=replace(ORDER, status="staged"))


def test_a_short_pick_needs_a_reason_and_no_more_than_is_left() -> None:
    with pytest.raises(DomainError, match="Say why it is short"):
        rules.short_pick(ORDER, MUG_LINE, short_qty=1, reason="  ")
    with pytest.raises(InvalidState, match="Only 1 left on this line: enter 1 or fewer"):
        rules.short_pick(ORDER, replace(MUG_LINE, done_qty=1, picked_qty=1), short_qty=2, reason="broken")
    with pytest.raises(DomainError, match="1 or more"):
        rules.short_pick(ORDER, MUG_LINE, short_qty=0, reason="broken")
    assert rules.short_pick(ORDER, MUG_LINE, short_qty=2, reason=" none left ") == rules.ShortDecision(2, "none left")


def test_staging_needs_a_staging_location_and_every_line_done() -> None:
    done = [replace(MUG_LINE, done_qty=2, picked_qty=2), replace(TEA_LINE, short_qty=1)]
    with pytest.raises(WrongScan, match="A-01-01-1 is a shelf: scan a staging location like STG-1"):
        rules.stage(ORDER, done, scanned_location=AT_A1)
    with pytest.raises(InvalidState, match="2 lines still to pick"):
        rules.stage(ORDER, [MUG_LINE, TEA_LINE], scanned_location=STG)
    with pytest.raises(InvalidState, match="1 line still to pick"):
        rules.stage(ORDER, [done[0], TEA_LINE], scanned_location=STG)
    assert rules.stage(ORDER, done, scanned_location=STG) == [rules.StagedUnits("item-mug", "loc-a-1", 2)]


def test_staging_moves_substitutes_as_their_own_item() -> None:
    mixed = replace(MUG_LINE, done_qty=1, picked_qty=2, substitute_item_id="item-cup")
    moved = rules.stage(ORDER, [mixed, replace(TEA_LINE, done_qty=1, picked_qty=1)], scanned_location=STG)
    assert moved == [rules.StagedUnits("item-cup", "loc-a-1", 1), rules.StagedUnits("item-mug", "loc-a-1", 1),
                     rules.StagedUnits("item-tea", "loc-b-1", 1)]


def test_an_order_with_every_line_short_has_nothing_to_stage() -> None:
    lines = [replace(MUG_LINE, short_qty=2), replace(TEA_LINE, short_qty=1)]
    with pytest.raises(InvalidState, match="Nothing was picked"):
        rules.stage(ORDER, lines, scanned_location=STG)


# --- handlers, on the real device database ----------------------------------------------------


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus({**service.HANDLERS, **task_service.HANDLERS})


def confirm(n: str, line: str = "1", *, where: str = "A-01-01-1", gtin: str = MUG_EACH, qty: int = 1,
            substitute: bool = False) -> ConfirmPick:
    return ConfirmPick(command_id=f"pick-{n}", task_id="task-pick-1", line_id=line, scanned_location_code=where,
                       gtin=gtin, qty=qty, substitute=substitute)


def stock(engine: Engine, item: str, location: str, status: str) -> int:
    with UnitOfWork(engine) as uow:
        return StockRepository(uow.conn).qty(item, location, status)


def column(engine: Engine, table: type, col: str, **where: str) -> object:
    t = table.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return conn.execute(select(t.c[col]).where(*(t.c[k] == v for k, v in where.items()))).scalar_one()


def test_a_whole_pick_from_walk_to_staging(bus: MessageBus, device_engine: Engine) -> None:
    factory = uow_factory(device_engine)
    bus.handle(ClaimTask(command_id="claim", task_id="task-pick-1"), ASSOCIATE)
    walk = service.pick_walk(factory, "task-pick-1")
    assert [(ln.line_id, ln.location_code, ln.remaining) for ln in walk.lines] == [
        ("1", "A-01-01-1", 2), ("2", "B-01-01-1", 1)]
    outcome = bus.handle(confirm("1", qty=2), ASSOCIATE)
    assert outcome.message == "Picked 2 Blue mug 350 ml: 2 of 2"
    assert (stock(device_engine, "item-mug", "loc-a-1", "available"),
            stock(device_engine, "item-mug", "loc-a-1", "picked")) == (16, 2)
    assert column(device_engine, OrderLine, "picked_qty", order_id="ord-1", line_id="1") == 2
    assert column(device_engine, TaskLine, "done_qty", task_id="task-pick-1", line_id="1") == 2
    next_stop = service.next_stop(service.pick_walk(factory, "task-pick-1"))
    assert next_stop is not None and next_stop.line_id == "2"

    outcome = bus.handle(ShortPick(command_id="short", task_id="task-pick-1", line_id="2", short_qty=1,
                                   reason="box empty"), ASSOCIATE)
    assert outcome.message == "1 Green tea 20 bags short: a manager will be told"
    assert service.next_stop(service.pick_walk(factory, "task-pick-1")) is None

    outcome = bus.handle(StageOrder(command_id="stage", task_id="task-pick-1", scanned_location_code="stg-1"),
                         ASSOCIATE)
    assert outcome.message == "Order WEB-7001 staged at STG-1: ready"
    assert stock(device_engine, "item-mug", "loc-a-1", "picked") == 0
    assert stock(device_engine, "item-mug", "loc-stg-1", "staged") == 2
    assert column(device_engine, Task, "status", task_id="task-pick-1") == "done"
    assert service.pick_walk(factory, "task-pick-1").order_status == "staged"
    ops = outbox_rows(device_engine)
    assert [o["type"] for o in ops] == ["task.claim", "pick.confirm", "pick.short", "order.stage"]
    assert ops[1]["payload"] == {"task_id": "task-pick-1", "order_id": "ord-1", "line_id": "1",
                                 "item_id": "item-mug", "location_id": "loc-a-1", "qty": 2,
                                 "substitute_for_item_id": None}
    assert ops[2]["payload"]["reason"] == "box empty"
    assert ops[3]["payload"] == {"task_id": "task-pick-1", "order_id": "ord-1", "staging_location_id": "loc-stg-1",
                                 "lines": [{"item_id": "item-mug", "from_location_id": "loc-a-1", "qty": 2}]}


def test_a_repeated_scan_picks_once(bus: MessageBus, device_engine: Engine) -> None:
    first = bus.handle(confirm("1"), ASSOCIATE)
    again = bus.handle(confirm("1"), ASSOCIATE)
    assert again.repeated and again.message == first.message
    assert stock(device_engine, "item-mug", "loc-a-1", "picked") == 1
    assert len(outbox_rows(device_engine)) == 1


def test_refused_picks_change_nothing(bus: MessageBus, device_engine: Engine) -> None:
    with pytest.raises(WrongScan, match="Wrong location: go to A-01-01-1"):
        bus.handle(confirm("1", where="B-01-01-1"), ASSOCIATE)
    with pytest.raises(WrongScan, match="This is Green tea 20 bags: scan Blue mug 350 ml"):
        bus.handle(confirm("2", gtin=TEA), ASSOCIATE)
    with pytest.raises(InvalidState, match="Too many: 2 left"):
        bus.handle(confirm("3", gtin=MUG_CASE), ASSOCIATE)
    with pytest.raises(NotFound, match="not a location here"):
        bus.handle(confirm("4", where="Z-99"), ASSOCIATE)
    with pytest.raises(NotFound, match="not an item we know"):
        bus.handle(confirm("5", gtin=UNKNOWN_GTIN), ASSOCIATE)
    with pytest.raises(NotFound, match="Line 9 is not on order WEB-7001"):
        bus.handle(confirm("6", line="9"), ASSOCIATE)
    assert outbox_rows(device_engine) == []
    assert stock(device_engine, "item-mug", "loc-a-1", "available") == 18


def test_a_task_someone_else_holds_cannot_be_picked(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(ClaimTask(command_id="claim", task_id="task-pick-1"), replace(MANAGER, device_id="dev-2"))
    with pytest.raises(InvalidState, match="Task held by Max Manager until 09:15"):
        bus.handle(confirm("1"), ASSOCIATE)
    with pytest.raises(InvalidState, match="Task held by Max Manager"):
        bus.handle(StageOrder(command_id="stage", task_id="task-pick-1", scanned_location_code="STG-1"), ASSOCIATE)


def test_a_substitute_is_picked_sent_and_staged_as_itself(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(confirm("1"), ASSOCIATE)
    outcome = bus.handle(confirm("2", gtin=CUP, substitute=True), ASSOCIATE)
    assert outcome.message == "Picked 1 Red cup 250 ml (substitute): 2 of 2"
    bus.handle(confirm("3", line="2", where="B-01-01-1", gtin=TEA), ASSOCIATE)
    bus.handle(StageOrder(command_id="stage", task_id="task-pick-1", scanned_location_code="STG-1"), ASSOCIATE)
    ops = outbox_rows(device_engine)
    assert ops[1]["payload"]["item_id"] == "item-cup"
    assert ops[1]["payload"]["substitute_for_item_id"] == "item-mug"
    assert ops[-1]["payload"]["lines"] == [
        {"item_id": "item-cup", "from_location_id": "loc-a-1", "qty": 1},
        {"item_id": "item-mug", "from_location_id": "loc-a-1", "qty": 1},
        {"item_id": "item-tea", "from_location_id": "loc-b-1", "qty": 1},
    ]
    assert stock(device_engine, "item-cup", "loc-stg-1", "staged") == 1


def test_staging_refusals_say_what_to_do(bus: MessageBus) -> None:
    stage = StageOrder(command_id="stage-1", task_id="task-pick-1", scanned_location_code="STG-1")
    with pytest.raises(InvalidState, match="2 lines still to pick"):
        bus.handle(stage, ASSOCIATE)
    bus.handle(confirm("1", qty=2), ASSOCIATE)
    bus.handle(confirm("2", line="2", where="B-01-01-1", gtin=TEA), ASSOCIATE)
    with pytest.raises(WrongScan, match="A-01-01-1 is a shelf: scan a staging location like STG-1"):
        bus.handle(StageOrder(command_id="stage-2", task_id="task-pick-1", scanned_location_code="A-01-01-1"),
                   ASSOCIATE)
    with pytest.raises(InvalidState, match="Scan a staging location to finish"):
        bus.handle(CompleteTask(command_id="done", task_id="task-pick-1"), ASSOCIATE)


def test_the_walk_is_ordered_by_pick_sequence_not_line_number(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(CreateTask(command_id="c", task_id="task-pick-2", type="pick", ref_id="ord-1", lines=(
        TaskLineInput(line_id="1", item_id="item-mug", location_id="loc-br-1", qty=2),
        TaskLineInput(line_id="2", item_id="item-tea", location_id="loc-a-2", qty=1),
    )), MANAGER)
    walk = service.pick_walk(uow_factory(device_engine), "task-pick-2")
    assert [(ln.line_id, ln.location_code) for ln in walk.lines] == [("2", "A-01-02-1"), ("1", "BR-01-01-1")]
    assert walk.lines_left == 2


def test_a_short_pick_refused_without_a_reason_writes_nothing(bus: MessageBus, device_engine: Engine) -> None:
    with pytest.raises(DomainError, match="Say why it is short"):
        bus.handle(ShortPick(command_id="s", task_id="task-pick-1", line_id="1", short_qty=1, reason=""), ASSOCIATE)
    with pytest.raises(InvalidState, match="This is not a pick task"):
        bus.handle(ShortPick(command_id="s2", task_id="task-count-1", line_id="1", short_qty=1, reason="x"),
                   ASSOCIATE)
    assert outbox_rows(device_engine) == []
