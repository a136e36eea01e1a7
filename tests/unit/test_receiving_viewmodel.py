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
