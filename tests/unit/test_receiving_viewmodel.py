"""The Receiving screen's view-model, through the real handlers on the test store's SQLite."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from sqlalchemy import Engine

from app.bootstrap import all_handlers
from app.domain.context import Actor
from app.services import receiving
from app.services.bus import MessageBus
from app.viewmodels.receiving import ReceivingViewModel
from tests.conftest import ASSOCIATE, outbox_rows
from tests.fixtures.store import MUG_CASE, MUG_EACH, TEA


def _vm(engine: Engine, bus: MessageBus, actor: Actor | None = ASSOCIATE) -> ReceivingViewModel:
    ids = itertools.count(1)
    return ReceivingViewModel(
        handle=bus.handle,
        list_asns=lambda: receiving.open_asns(engine),
        summary=lambda rid: receiving.receipt_summary(engine, rid),
        open_receipts=lambda: receiving.open_receipts(engine),
        actor=lambda: actor,
        new_id=lambda: f"id{next(ids):012d}",
    )


def test_the_open_asns_are_listed_and_one_opens_a_receipt(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    assert [(a.asn_id, a.headline) for a in vm.state.asns] == [("asn-1", "ASN-5001 · Acme Homeware")]
    assert vm.state.asns[0].detail.startswith("2 lines · 20 units")
    vm.open_asn("asn-1")
    st = vm.state
    assert st.receipt_id is not None and st.message_kind == "info"
    assert st.title == "ASN-5001 at DOCK-1" and st.totals == "0 of 20 units · 0 scans"
    assert [(ln.description, ln.progress) for ln in st.lines] == [("Blue mug 350 ml", "0 of 12"), ("Green tea 20 bags", "0 of 8")]


def test_each_scan_answers_in_green_with_progress_and_counts_once(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.open_asn("asn-1")
    for _ in range(5):
        vm.scan(MUG_EACH[1:])  # the EAN-13 as a scanner sends it
    assert (vm.state.message, vm.state.message_kind) == ("+1 Blue mug 350 ml, 5 of 12", "ok")
    assert vm.state.scans_ok == 5 and vm.state.totals == "5 of 20 units · 5 scans"
    assert len([r for r in outbox_rows(device_engine) if r["type"] == "receipt.receive"]) == 5


def test_the_quantity_pad_sets_the_next_scan_only(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.open_asn("asn-1")
    vm.press_digit(4)
    assert vm.state.qty == 4
    vm.scan(TEA)
    assert vm.state.message == "+4 Green tea 20 bags, 4 of 8" and vm.state.qty == 1
    vm.press_digit(1)
    vm.press_digit(2)
    assert vm.state.qty == 12
    vm.clear_qty()
    vm.set_qty(vm.state.qty + 1)
    vm.scan(MUG_CASE)  # a case of 6, twice
    assert vm.state.message.startswith("+12 Blue mug 350 ml, 12 of 12")
    vm.set_qty(0)
    assert vm.state.qty == 1


def test_wrong_scans_answer_in_red_with_the_reason_and_change_nothing(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.scan(TEA)
    assert (vm.state.message, vm.state.message_kind) == ("Open a receipt first: pick an ASN", "error")
    vm.open_asn("asn-1")
    vm.scan("loc-A-03-02-1")
    assert vm.state.message == "That is a location label (A-03-02-1). Scan the product's barcode."
    assert vm.state.message_kind == "error"
    vm.scan("4006381333932")
    assert vm.state.message_kind == "error" and "check digit" in vm.state.message.lower()
    for _ in range(8):
        vm.scan(TEA)
    vm.scan(TEA)  # over the ASN with no tolerance: a manager must approve
    assert vm.state.message_kind == "error" and "approval" in vm.state.message
    assert vm.state.scans_ok == 8 and vm.state.totals.startswith("8 of 20 units")


def test_closing_shows_the_discrepancies(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.open_asn("asn-1")
    vm.set_qty(12)
    vm.scan(MUG_EACH)
    vm.scan(TEA)
    vm.close()
    st = vm.state
    assert st.receipt_id is None and st.message_kind == "ok"
    assert st.closed_summary == ["Green tea 20 bags: 1 of 8 (short)"]
    assert st.asns == []  # a closed ASN is not offered again


def test_opening_an_asn_again_continues_its_open_receipt(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    bus = make_bus(all_handlers())
    vm = _vm(device_engine, bus)
    vm.load()
    vm.open_asn("asn-1")
    first = vm.state.receipt_id
    vm.scan(TEA)
    vm.back()
    assert vm.state.receipt_id is None and vm.state.asns[0].detail.endswith("in progress")
    vm.open_asn("asn-1")
    assert vm.state.receipt_id == first and vm.state.message == "Continuing ASN-5001"
    assert vm.state.totals == "1 of 20 units · 0 scans"


def test_nobody_signed_in_cannot_receive(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()), actor=None)
    vm.open_asn("asn-1")
    assert (vm.state.message, vm.state.message_kind) == ("Sign in first", "error")


def _vm_approving(engine: Engine, bus: MessageBus) -> ReceivingViewModel:
    from edge_sync.uow import uow_factory
    from app.services import handheld

    ids = itertools.count(1)
    factory = uow_factory(engine)
    return ReceivingViewModel(
        handle=bus.handle,
        list_asns=lambda: receiving.open_asns(engine),
        summary=lambda rid: receiving.receipt_summary(engine, rid),
        open_receipts=lambda: receiving.open_receipts(engine),
        actor=lambda: ASSOCIATE,
        new_id=lambda: f"id{next(ids):012d}",
        approver_by_badge=lambda badge: handheld.approver_by_badge(factory, badge),
    )


def test_damaged_switches_on_for_the_next_scans_until_switched_off(device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.open_asn("asn-1")
    vm.toggle_damaged()
    assert vm.state.damaged and vm.state.message.startswith("Damaged: the next scans")
    vm.scan(TEA)
    vm.scan(TEA)
    assert vm.state.message == "+1 Green tea 20 bags damaged, 2 of 8"
    vm.toggle_damaged()
    vm.scan(TEA)
    assert vm.state.message == "+1 Green tea 20 bags, 3 of 8"
    conditions = [r["payload"]["condition"] for r in outbox_rows(device_engine) if r["type"] == "receipt.receive"]
    assert conditions == ["damaged", "damaged", "good"]


def test_an_over_receipt_waits_for_a_manager_badge_and_is_sent_with_the_approval(
        device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm_approving(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.open_asn("asn-1")
    vm.set_qty(9)
    vm.scan(TEA)  # 9 of 8: past the tolerance
    assert vm.state.approval_for.startswith("0 of 8 already received") and vm.state.message_kind == "error"
    assert vm.state.message.endswith("Manager: scan your badge to approve")
    vm.scan("BADGE-0001")  # an associate cannot approve
    assert vm.state.message == "Ana Associate is not a manager: a manager must scan their badge, or Cancel"
    vm.scan("badge-0002")
    assert vm.state.message == "+9 Green tea 20 bags, 9 of 8 (over), approved by Max Manager"
    assert vm.state.approval_for == "" and vm.state.qty == 1
    sent = [r["payload"] for r in outbox_rows(device_engine) if r["type"] == "receipt.receive"]
    assert [(p["qty"], p["approved_by"]) for p in sent] == [(9, "u-mgr")]
    vm.scan(TEA)  # past the tolerance again: asks again, and Cancel receives nothing
    assert vm.state.approval_for
    vm.cancel_approval()
    assert vm.state.message == "Not received: set the extra units aside" and vm.state.totals.startswith("9 of 20")


def test_a_receive_task_opens_its_po_asn_and_is_done_when_the_receipt_closes(
        device_engine: Engine, make_bus: Callable[..., MessageBus]) -> None:
    from app.domain.commands import ClaimTask, CreateTask
    from tests.conftest import MANAGER

    bus = make_bus(all_handlers())
    bus.handle(CreateTask(command_id="c-task", task_id="task-rcv-1", type="receive", ref_id="po-1",
                          title="Receive PO-1001"), MANAGER)
    bus.handle(ClaimTask(command_id="c-claim", task_id="task-rcv-1"), ASSOCIATE)
    vm = _vm(device_engine, bus)
    vm.load()
    vm.open_for_po("po-1", "task-rcv-1")
    assert vm.state.title == "ASN-5001 at DOCK-1" and vm.state.task_id == "task-rcv-1"
    vm.scan(TEA)
    vm.close()
    assert [r["type"] for r in outbox_rows(device_engine)][-2:] == ["receipt.close", "task.complete"]


def test_a_scan_can_answer_first_and_read_the_lines_back_after(device_engine: Engine,
                                                             make_bus: Callable[..., MessageBus]) -> None:
    vm = _vm(device_engine, make_bus(all_handlers()))
    vm.load()
    vm.open_asn("asn-1")
    vm.scan(MUG_EACH[1:], read_lines=False)
    vm.set_qty(3)
    vm.scan(TEA, read_lines=False)
    st = vm.state
    assert (st.message, st.message_kind) == ("+3 Green tea 20 bags, 3 of 8", "ok")
    assert st.totals == "4 of 20 units · 2 scans" and vm.lines_stale
    assert [ln.progress for ln in st.lines] == ["0 of 12", "0 of 8"]  # not read back yet
    vm.refresh_lines()
    assert not vm.lines_stale and vm.state.totals == "4 of 20 units · 2 scans"
    assert [ln.progress for ln in vm.state.lines] == ["1 of 12", "3 of 8"]
    vm.scan("A-03-02-1", read_lines=False)  # refused: nothing moves, nothing to read back
    assert vm.state.message_kind == "error" and not vm.lines_stale and vm.state.totals.startswith("4 of 20")
