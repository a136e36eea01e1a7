"""The handheld screens' view-models (putaway, count, pick, parked, number pad), through the real
handlers on the test store's SQLite; the approver and PIN seams are the real queries or plain fakes."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from app.bootstrap import all_handlers
from app.domain.commands import ClaimTask, CloseReceipt, ReceiveUnits, StartReceipt
from app.domain.context import Actor, FakeClock
from app.services import counting, handheld, picking, putaway
from app.services.bus import MessageBus
from app.viewmodels.counting import CountViewModel
from app.viewmodels.numpad import NumberEntry, PinEntry
from app.viewmodels.parked import ParkedViewModel
from app.viewmodels.picking import PickViewModel
from app.viewmodels.putaway import PutawayViewModel
from edge_sync.uow import uow_factory
from tests.conftest import ASSOCIATE, outbox_rows
from tests.fixtures.store import CUP, MUG_EACH, TEA


def _ids() -> Callable[[], str]:
    n = itertools.count(1)
    return lambda: f"id{next(n):016d}"


def _receive_mugs(bus: MessageBus, qty: int) -> None:
    """Receive `qty` mugs on asn-1 and close: they wait at DOCK-1 to be put away."""
    bus.handle(StartReceipt(command_id="c-start", receipt_id="r-1", asn_id="asn-1"), ASSOCIATE)
    bus.handle(ReceiveUnits(command_id="c-recv", receipt_id="r-1", gtin=MUG_EACH, qty=qty), ASSOCIATE)
    bus.handle(CloseReceipt(command_id="c-close", receipt_id="r-1"), ASSOCIATE)


# -- number pad ------------------------------------------------------------------------------------


def test_the_pad_replaces_its_preset_with_the_first_digit_then_appends() -> None:
    pad = NumberEntry(preset=1, minimum=1, maximum=250)
    pad.press(3)
    assert pad.value == 3
    pad.press(0)
    pad.press(9)
    assert pad.value == 250  # capped at the maximum
    pad.back()
    assert pad.value == 25
    pad.step(+1)
    pad.press(4)
    assert pad.value == 4  # a step ends the typing: the next digit starts a new figure
    pad.reset()
    assert (pad.value, pad.typing) == (1, False)
    with pytest.raises(ValueError):
        pad.press(10)


def test_a_pin_keeps_its_leading_zero_and_shows_only_dots() -> None:
    pin = PinEntry()
    for d in (0, 4, 2, 1):
        pin.press(d)
    assert pin.digits == "0421" and pin.masked == "••••"
    pin.back()
    pin.clear()
    assert pin.digits == "" and pin.masked == "PIN"


# -- putaway ---------------------------------------------------------------------------------------


def _putaway(engine: Engine, bus: MessageBus) -> PutawayViewModel:
    factory = uow_factory(engine)
    return PutawayViewModel(handle=bus.handle, awaiting=lambda: putaway.awaiting_putaway(engine),
                            item_by_gtin=lambda g: handheld.item_by_gtin(factory, g), actor=lambda: ASSOCIATE,
                            new_id=_ids())


def test_putaway_shows_the_suggestion_with_its_reason_and_refuses_the_wrong_location(
        device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    bus = make_bus(all_handlers())
    _receive_mugs(bus, 12)
    vm = _putaway(device_engine, bus)
    vm.load()
    assert [r.headline for r in vm.state.rows] == ["12 × Blue mug 350 ml"]
    vm.scan("loc-A-01-02-1")
    assert (vm.state.answer.text, vm.state.answer.kind) == ("Scan the item first, then the location", "error")
    vm.scan(MUG_EACH[1:])
    st = vm.state
    # The home A-01-01-1 holds 18 of 20: twelve more go to the overflow shelf in zone A.
    assert (st.target_code, st.step) == ("A-01-02-1", "location")
    assert st.target_reason == "Home A-01-01-1 is full (18 of 20): overflow in zone A"
    vm.scan("loc-B-01-01-1")
    assert st.answer.kind == "error" and st.answer.text.startswith("Wrong location: scan A-01-02-1")
    vm.qty.press(5)
    vm.scan("loc-A-01-02-1")
    assert (st.answer.text, st.answer.kind) == ("Put 5 Blue mug 350 ml at A-01-02-1", "ok")
    assert [r.headline for r in st.rows] == ["7 × Blue mug 350 ml"] and st.selected is None


def test_putaway_elsewhere_needs_a_reason_and_travels_with_it(device_engine: Engine,
                                                               make_bus: Callable[..., MessageBus]) -> None:
    bus = make_bus(all_handlers())
    _receive_mugs(bus, 4)
    vm = _putaway(device_engine, bus)
    vm.load()
    vm.select(vm.state.rows[0].key)
    assert vm.state.target_code == "A-01-02-1"  # the home holds 18 of 20: overflow
    vm.put_elsewhere()
    assert vm.state.choosing_reason
    vm.choose_reason("Suggested location blocked")
    vm.scan("BR-01-01-1")
    assert vm.state.answer.kind == "warn" and vm.state.answer.text == "Put 4 Blue mug 350 ml at BR-01-01-1"
    op = [r for r in outbox_rows(device_engine) if r["type"] == "putaway.confirm"][-1]
    assert op["payload"]["override_reason"] == "Suggested location blocked"
    assert vm.state.rows == []


# -- counting --------------------------------------------------------------------------------------


def _count(engine: Engine, bus: MessageBus, clock: FakeClock) -> CountViewModel:
    factory = uow_factory(engine)
    return CountViewModel(handle=bus.handle, task_lines=lambda t: counting.count_task_lines(factory, t),
                          item_by_gtin=lambda g: handheld.item_by_gtin(factory, g),
                          approver_by_badge=lambda b: handheld.approver_by_badge(factory, b),
                          actor=lambda: ASSOCIATE, clock=clock, new_id=_ids())


def test_a_blind_count_scans_the_location_then_items_and_saves(device_engine: Engine, clock: FakeClock,
                                                                 make_bus: Callable[..., MessageBus]) -> None:
    bus = make_bus(all_handlers())
    bus.handle(ClaimTask(command_id="c-claim", task_id="task-count-1"), ASSOCIATE)  # as My tasks does on a tap
    vm = _count(device_engine, bus, clock)
    vm.open_task("task-count-1", "Count A-01-01-1")
    assert (vm.state.step, vm.state.location_code) == ("location", "A-01-01-1")
    vm.scan(MUG_EACH)
    assert vm.state.answer.text == "Scan the location label first: A-01-01-1"
    vm.scan("loc-B-01-01-1")
    assert vm.state.answer.text == "Wrong location: scan A-01-01-1"
    vm.scan("loc-a-01-01-1")
    assert vm.state.step == "items"
    vm.qty.press(1)
    vm.qty.press(7)
    vm.scan(MUG_EACH)  # 17 on the pad, one scan
    vm.scan(MUG_EACH)
    assert [(t.description, t.qty) for t in vm.state.tallies] == [("Blue mug 350 ml", 18)]
    assert "18" not in vm.state.answer.text.replace("+1", "")  # blind: the expected figure is never said
    clock.advance(60)
    vm.submit()
    assert vm.state.step == "done" and vm.state.answer.text == "Count done: every location is counted"
    assert [r["type"] for r in outbox_rows(device_engine)][-2:] == ["count.record", "task.complete"]


def test_a_count_far_off_asks_a_recount_then_a_manager_badge(device_engine: Engine, clock: FakeClock,
                                                              make_bus: Callable[..., MessageBus]) -> None:
    bus = make_bus(all_handlers())
    bus.handle(ClaimTask(command_id="c-claim", task_id="task-count-1"), ASSOCIATE)
    vm = _count(device_engine, bus, clock)
    vm.open_task("task-count-1")
    vm.scan("A-01-01-1")
    vm.scan(MUG_EACH)  # 1 of 18
    vm.submit()
    assert vm.state.answer.kind == "warn" and vm.state.answer.text.startswith("Count again: Blue mug 350 ml")
    assert vm.state.recount and vm.state.tallies == []
    vm.scan(MUG_EACH)
    vm.submit()  # still 1: a manager must approve
    assert vm.state.step == "approval" and vm.state.answer.kind == "error"
    vm.scan("BADGE-0001")
    assert vm.state.answer.text == "Ana Associate is not a manager: a manager must scan their badge, or Cancel"
    vm.scan("badge-0002")
    assert vm.state.answer.text == "A-01-01-1 counted, approved by Max Manager" and vm.state.step == "done"
    sent = [r for r in outbox_rows(device_engine) if r["type"] == "count.record"]
    assert len(sent) == 1 and sent[0]["payload"]["approved_by"] == "u-mgr"


# -- picking ---------------------------------------------------------------------------------------


def _pick(engine: Engine, bus: MessageBus) -> PickViewModel:
    factory = uow_factory(engine)
    return PickViewModel(handle=bus.handle, walk=lambda t: picking.pick_walk(factory, t), actor=lambda: ASSOCIATE,
                         new_id=_ids())


def test_picking_walks_location_then_item_shorts_a_line_and_stages(device_engine: Engine,
                                                                   make_bus: Callable[..., MessageBus]) -> None:
    vm = _pick(device_engine, make_bus(all_handlers()))
    vm.open_task("task-pick-1")
    st = vm.state
    assert (st.step, st.location_code, st.item) == ("location", "A-01-01-1", "Blue mug 350 ml")
    vm.scan(MUG_EACH)
    assert st.answer.text == "Scan the location first: A-01-01-1"
    vm.scan("loc-B-01-01-1")
    assert (st.answer.text, st.answer.kind) == ("Wrong location: go to A-01-01-1", "error")
    vm.scan("loc-A-01-01-1")
    vm.scan(TEA)
    assert st.answer.text == "This is Green tea 20 bags: scan Blue mug 350 ml" and st.answer.kind == "error"
    vm.scan(MUG_EACH)
    assert (st.answer.text, st.step) == ("Picked 1 Blue mug 350 ml: 1 of 2", "item")
    vm.scan(MUG_EACH)
    assert st.step == "location" and st.location_code == "B-01-01-1"
    assert st.answer.text == "Picked 1 Blue mug 350 ml: 2 of 2. Next: go to B-01-01-1"
    vm.scan("B-01-01-1")
    vm.short()
    assert st.choosing_reason
    vm.choose_short_reason("None on the shelf")
    assert st.step == "stage" and st.answer.text.endswith("All picked: scan a staging location")
    vm.scan(CUP)
    assert st.answer.kind == "error"
    vm.scan("loc-A-01-02-1")
    assert st.answer.text.startswith("A-01-02-1 is a shelf: scan a staging location")
    vm.scan("loc-STG-1")
    assert (st.answer.text, st.step) == ("Order WEB-7001 staged at STG-1: ready", "done")
    assert [(s.done, s.short) for s in st.stops] == [(True, 0), (True, 1)]  # the short line stays visible as short
    types = [r["type"] for r in outbox_rows(device_engine)]
    assert types == ["pick.confirm", "pick.confirm", "pick.short", "order.stage"]


# -- parked ops ------------------------------------------------------------------------------------


def _parked(engine: Engine) -> ParkedViewModel:
    factory = uow_factory(engine)
    return ParkedViewModel(
        list_parked=lambda: handheld.parked_ops(factory),
        dismiss=lambda seq, reason, who: handheld.dismiss_parked(factory, seq, reason=reason, actor=who),
        resend=lambda seq, payload, who: handheld.resend_parked(factory, seq, payload=payload, actor=who),
        location_by_code=lambda code: handheld.location_id_by_code(factory, code),
        actor=lambda: ASSOCIATE,
        name_of=lambda kind, key: handheld.names(factory, kind, key),
    )


def _park(engine: Engine, reason: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET state = 'parked', last_error = :r WHERE state = 'pending'"), {"r": reason})


def test_a_refused_pick_is_corrected_on_the_pad_and_queued_again(device_engine: Engine,
                                                                 make_bus: Callable[..., MessageBus]) -> None:
    pick = _pick(device_engine, make_bus(all_handlers()))
    pick.open_task("task-pick-1")
    pick.scan("A-01-01-1")
    pick.scan(MUG_EACH)
    _park(device_engine, "order WEB-7001 was cancelled")
    vm = _parked(device_engine)
    vm.load()
    row = vm.state.rows[0]
    assert row.headline == "Picked units 1 · Blue mug 350 ml at A-01-01-1" and row.reason == "order WEB-7001 was cancelled"
    assert row.fix == "quantity"
    vm.select(row.seq)
    vm.send_again()
    assert vm.state.answer.text == "Same figure as before: correct it, or dismiss the op"
    vm.qty.press(2)
    vm.send_again()
    assert (vm.state.answer.text, vm.state.rows) == ("Corrected and queued to send again", [])
    states = [(r["state"], r["type"]) for r in outbox_rows(device_engine)]
    assert states == [("resent", "pick.confirm"), ("pending", "pick.confirm")]
    assert outbox_rows(device_engine)[-1]["payload"]["qty"] == 2


def test_a_refused_op_that_cannot_be_corrected_is_dismissed_with_a_reason(device_engine: Engine,
                                                                          make_bus: Callable[..., MessageBus]) -> None:
    pick = _pick(device_engine, make_bus(all_handlers()))
    pick.open_task("task-pick-1")
    pick.scan("A-01-01-1")
    pick.short()
    pick.choose_short_reason("Damaged")
    _park(device_engine, "line already picked on another handheld")
    vm = _parked(device_engine)
    vm.load()
    vm.select(vm.state.rows[0].seq)
    assert vm.state.fix_kind == "qty"  # a short's figure can be corrected, or the op dismissed
    vm.dismiss()
    vm.choose_reason("Entered by mistake")
    assert vm.state.rows == [] and vm.state.answer.text == "Nothing needs attention"
    assert outbox_rows(device_engine)[0]["state"] == "dismissed"


def test_the_manager_badge_lookup_refuses_associates_and_unknown_badges(device_engine: Engine) -> None:
    factory = uow_factory(device_engine)
    assert handheld.approver_by_badge(factory, " badge-0003 ") == ("u-admin", "Ada Admin")
    from app.domain.errors import NotAllowed, NotFound
    with pytest.raises(NotAllowed):
        handheld.approver_by_badge(factory, "BADGE-0001")
    with pytest.raises(NotFound):
        handheld.approver_by_badge(factory, "BADGE-4242")
    assert isinstance(ASSOCIATE, Actor)
