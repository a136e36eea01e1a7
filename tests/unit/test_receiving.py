"""Receiving: the rules on their own, then the handlers through the bus on the test store's SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.domain import receiving as rules
from app.domain.commands import CloseReceipt, ReceiveUnits, StartReceipt
from app.domain.errors import DomainError, InvalidState, NeedsApproval, NotAllowed, NotFound, WrongScan
from app.domain.policy import StorePolicy
from app.services.bus import MessageBus
from app.services.receiving import HANDLERS, open_receipts, receipt_summary
from edge_sync.repositories.master import StockRepository
from edge_sync.uow import UnitOfWork
from tests.conftest import ASSOCIATE, MANAGER, outbox_rows
from tests.fixtures.store import CUP, MUG_CASE, MUG_EACH, TEA, UNKNOWN_GTIN

# --- the rules, without a database -------------------------------------------------------------

ASN_RECEIPT = rules.Receipt("r-1", "po-1", "asn-1", "loc-dock-1", rules.OPEN)
BLIND = rules.Receipt("r-2", None, None, "loc-dock-1", rules.OPEN)
MUG_LINE = rules.ReceiptLine(MUG_EACH, "item-mug", "", 12, 0, 0, "Blue mug 350 ml")


def mug(units: int = 1, **kw: Any) -> rules.Scan:
    return rules.Scan(gtin=MUG_EACH, item_id="item-mug", description="Blue mug 350 ml", units=units, **kw)


def with_received(n: int, damaged: int = 0) -> list[rules.ReceiptLine]:
    return [rules.ReceiptLine(MUG_EACH, "item-mug", "", 12, n, damaged, "Blue mug 350 ml")]


def test_receiving_within_the_expected_quantity_shows_progress() -> None:
    event = rules.receive(ASN_RECEIPT, with_received(4), mug(), StorePolicy())
    assert event.message == "+1 Blue mug 350 ml, 5 of 12"
    assert (event.received, event.expected, event.approved_by) == (5, 12, None)


@pytest.mark.parametrize(
    ("pct", "units", "expected", "allowance"),
    [(5.0, 0, 12, 0), (5.0, 0, 100, 5), (10.0, 2, 12, 2), (50.0, 1, 12, 6), (5.0, 3, 0, 3)],
)
def test_the_over_receipt_allowance_is_the_larger_of_percent_and_units(
    pct: float, units: int, expected: int, allowance: int
) -> None:
    policy = StorePolicy(over_receipt_tolerance_pct=pct, over_receipt_tolerance_units=units)
    assert rules.over_receipt_allowance(expected, policy) == allowance


def test_receiving_past_the_tolerance_needs_a_managers_approval() -> None:
    with pytest.raises(NeedsApproval) as err:
        rules.receive(ASN_RECEIPT, with_received(12), mug(), StorePolicy())
    assert err.value.message == "12 of 12 already received: receiving 1 more needs a manager's approval"


def test_receiving_over_but_within_the_tolerance_needs_no_approval() -> None:
    policy = StorePolicy(over_receipt_tolerance_units=2)
    event = rules.receive(ASN_RECEIPT, with_received(12), mug(2), policy)
    assert event.message == "+2 Blue mug 350 ml, 14 of 12 (over)"


def test_a_manager_approves_an_over_receipt() -> None:
    approver = rules.Approver("u-mgr", "Max Manager", "manager")
    event = rules.receive(ASN_RECEIPT, with_received(12), mug(), StorePolicy(), approver)
    assert event.approved_by == "u-mgr"
    assert event.message == "+1 Blue mug 350 ml, 13 of 12 (over), approved by Max Manager"


@pytest.mark.parametrize(
    ("approver", "message"),
    [
        (rules.Approver("u-assoc", "Ana Associate", "associate"),
         "Ana Associate is not a manager: a manager must approve"),
        (rules.Approver("u-ghost", None, None), "No user u-ghost: a manager must approve"),
    ],
)
def test_only_a_manager_or_admin_can_approve(approver: rules.Approver, message: str) -> None:
    with pytest.raises(NotAllowed) as err:
        rules.receive(ASN_RECEIPT, with_received(12), mug(), StorePolicy(), approver)
    assert err.value.message == message


def test_an_approval_is_not_recorded_when_none_was_needed() -> None:
    approver = rules.Approver("u-assoc", "Ana Associate", "associate")
    assert rules.receive(ASN_RECEIPT, with_received(0), mug(), StorePolicy(), approver).approved_by is None


def test_damaged_units_count_toward_the_line() -> None:
    with pytest.raises(NeedsApproval):
        rules.receive(ASN_RECEIPT, with_received(12, damaged=3), mug(damaged=True), StorePolicy())
    event = rules.receive(ASN_RECEIPT, with_received(2, damaged=1), mug(damaged=True), StorePolicy())
    assert event.message == "+1 Blue mug 350 ml damaged, 3 of 12"


def test_an_item_not_on_the_delivery_needs_approval_unless_the_tolerance_allows_it() -> None:
    cup = rules.Scan(gtin=CUP, item_id="item-cup", description="Red cup 250 ml", units=1)
    with pytest.raises(NeedsApproval) as err:
        rules.receive(ASN_RECEIPT, [MUG_LINE], cup, StorePolicy())
    assert err.value.message == "Red cup 250 ml is not on this delivery: receiving it needs a manager's approval"
    event = rules.receive(ASN_RECEIPT, [MUG_LINE], cup, StorePolicy(over_receipt_tolerance_units=1))
    assert event.message == "+1 Red cup 250 ml, 1 (not expected)"


def test_a_blind_receipt_never_needs_approval() -> None:
    event = rules.receive(BLIND, [], mug(500), StorePolicy())
    assert event.message == "+500 Blue mug 350 ml, 500 received"


def test_an_unknown_gtin_is_recorded_and_set_aside_without_approval() -> None:
    scan = rules.Scan(gtin=UNKNOWN_GTIN, item_id=None, description=None, units=3)
    event = rules.receive(ASN_RECEIPT, [MUG_LINE], scan, StorePolicy())
    assert event.message == f"Not in item master: {UNKNOWN_GTIN} recorded, set it aside for a manager"


@pytest.mark.parametrize("units", [0, -1, 1_000_001])
def test_a_quantity_must_be_positive_and_plausible(units: int) -> None:
    with pytest.raises(DomainError) as err:
        rules.receive(ASN_RECEIPT, [MUG_LINE], mug(units), StorePolicy())
    assert err.value.code == "bad_qty"


def test_a_scan_that_is_not_a_gtin_is_refused() -> None:
    scan = rules.Scan(gtin="A-01-01-1", item_id=None, description=None, units=1)
    with pytest.raises(WrongScan, match="Not a product barcode"):
        rules.receive(ASN_RECEIPT, [], scan, StorePolicy())


def test_nothing_is_received_on_a_closed_receipt() -> None:
    closed = rules.Receipt("r-1", None, "asn-1", "loc-dock-1", rules.CLOSED)
    with pytest.raises(InvalidState, match="Receipt r-1 is closed: start a new receipt"):
        rules.receive(closed, [], mug(), StorePolicy())


def test_closing_moves_good_and_damaged_units_and_lists_every_discrepancy() -> None:
    lines = [
        rules.ReceiptLine(MUG_EACH, "item-mug", "", 12, 10, 2, "Blue mug 350 ml"),
        rules.ReceiptLine(MUG_EACH, "item-mug", "LOT7", 0, 4, 0, "Blue mug 350 ml"),
        rules.ReceiptLine(TEA, "item-tea", "", 8, 0, 0, "Green tea 20 bags"),
        rules.ReceiptLine(CUP, "item-cup", "", 0, 1, 0, "Red cup 250 ml"),
        rules.ReceiptLine(UNKNOWN_GTIN, None, "", 0, 2, 0, None),
    ]
    closed = rules.close(ASN_RECEIPT, lines)
    assert {(m.item_id, m.status, m.qty) for m in closed.moves} == {
        ("item-mug", "received", 12), ("item-mug", "damaged", 2), ("item-cup", "received", 1),
    }
    assert {p.key: kinds for p, kinds in closed.discrepancies} == {
        "item-mug": ("over", "damaged"),
        "item-tea": ("short",),
        "item-cup": ("unexpected",),
        f"gtin:{UNKNOWN_GTIN}": ("unknown", "unexpected"),
    }
    assert closed.message == "Receipt closed: 15 units on the dock, 4 discrepancies sent to a manager"


def test_a_blind_receipt_has_no_over_or_short() -> None:
    closed = rules.close(BLIND, [rules.ReceiptLine(MUG_EACH, "item-mug", "", 0, 3, 0, "Blue mug 350 ml")])
    assert closed.discrepancies == ()
    assert closed.message == "Receipt closed: 3 units on the dock"


def test_a_receipt_with_nothing_received_cannot_be_closed() -> None:
    with pytest.raises(InvalidState, match="Nothing received on r-1 yet"):
        rules.close(ASN_RECEIPT, [MUG_LINE])


def test_a_closed_receipt_cannot_be_closed_again() -> None:
    closed = rules.Receipt("r-1", None, None, "loc-dock-1", rules.CLOSED)
    with pytest.raises(InvalidState, match="is closed"):
        rules.close(closed, with_received(1))


DOCK = rules.Dock("loc-dock-1", "DOCK-1", "dock")


def start(**kw: Any) -> rules.ReceiptStarted:
    args: dict[str, Any] = dict(exists=False, po_id=None, asn_id=None, po=None, asn=None, dock=DOCK,
                                dock_requested=None, already_open_on=None)
    return rules.start("r-9", **{**args, **kw})


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"exists": True}, InvalidState, "Receipt r-9 already exists"),
        ({"asn_id": "asn-x"}, NotFound, "No ASN asn-x on this device: sync, or receive blind"),
        ({"po_id": "po-x"}, NotFound, "No PO po-x on this device: sync, or receive blind"),
        ({"asn_id": "a", "asn": rules.Document("a", "ASN-1", "closed")}, InvalidState,
         "ASN ASN-1 is closed: receive blind, or ask a manager"),
        ({"asn_id": "a", "asn": rules.Document("a", "ASN-1", "open", "po-2"), "po_id": "po-1",
          "po": rules.Document("po-1", "PO-1001", "open")}, WrongScan, "ASN ASN-1 is not for PO PO-1001"),
        ({"dock": None}, InvalidState, "No dock is set up in this store: ask a manager"),
        ({"dock": None, "dock_requested": "loc-x"}, NotFound, "No location loc-x: pick a dock"),
        ({"dock": rules.Dock("loc-a-1", "A-01-01-1", "shelf")}, WrongScan, "A-01-01-1 is not a dock"),
        ({"po_id": "po-1", "po": rules.Document("po-1", "PO-1001", "open"), "already_open_on": "r-1"},
         InvalidState, "PO PO-1001 is already open on receipt r-1: continue that one"),
    ],
)
def test_starting_a_receipt_is_refused_with_a_reason(
    kw: dict[str, Any], error: type[DomainError], message: str
) -> None:
    with pytest.raises(error) as err:
        start(**kw)
    assert err.value.message.startswith(message)


def test_an_asn_receipt_expects_the_asn_lines_and_knows_its_po() -> None:
    started = start(asn_id="asn-1", asn=rules.Document("asn-1", "ASN-5001", "open", "po-1"))
    assert started.receipt.po_id == "po-1"
    assert started.expected_from == ("asn", "asn-1")
    assert started.message == "Receiving ASN ASN-5001 at DOCK-1"


# --- the handlers, through the bus on the test store ----------------------------------------------


@pytest.fixture
def bus(make_bus: Callable[..., MessageBus]) -> MessageBus:
    return make_bus(HANDLERS)


_n = iter(range(1, 10_000))


def cid() -> str:
    return f"cmd-{next(_n)}"


def open_asn(bus: MessageBus) -> None:
    bus.handle(StartReceipt(command_id=cid(), receipt_id="r-1", asn_id="asn-1"), ASSOCIATE)


def receive(bus: MessageBus, gtin: str = MUG_EACH, qty: int = 1, actor: Any = ASSOCIATE, **kw: Any) -> Any:
    return bus.handle(ReceiveUnits(command_id=kw.pop("command_id", cid()), receipt_id=kw.pop("receipt_id", "r-1"),
                                   gtin=gtin, qty=qty, **kw), actor)


def line_totals(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT gtin, lot, item_id, expected_qty, received_qty, damaged_qty FROM receipt_lines ORDER BY id"))]


def test_an_asn_receipt_is_seeded_with_the_asn_quantities(bus: MessageBus, device_engine: Engine) -> None:
    outcome = bus.handle(StartReceipt(command_id=cid(), receipt_id="r-1", asn_id="asn-1"), ASSOCIATE)
    assert outcome.message == "Receiving ASN ASN-5001 at DOCK-1"
    assert line_totals(device_engine) == [(MUG_EACH, "", "item-mug", 12, 0, 0), (TEA, "", "item-tea", 8, 0, 0)]
    assert outbox_rows(device_engine) == []  # opening a receipt is local until something is counted


def test_a_po_receipt_expects_the_po_lines_and_a_blind_one_nothing(bus: MessageBus, device_engine: Engine) -> None:
    bus.handle(StartReceipt(command_id=cid(), receipt_id="r-po", po_id="po-1"), ASSOCIATE)
    bus.handle(StartReceipt(command_id=cid(), receipt_id="r-blind"), ASSOCIATE)
    assert receipt_summary(device_engine, "r-po").expected_units == 22
    assert receipt_summary(device_engine, "r-blind").items == ()
    assert [s.receipt_id for s in open_receipts(device_engine)] == ["r-po", "r-blind"]


def test_a_second_receipt_for_the_same_asn_is_refused(bus: MessageBus) -> None:
    open_asn(bus)
    with pytest.raises(InvalidState, match="ASN ASN-5001 is already open on receipt r-1"):
        bus.handle(StartReceipt(command_id=cid(), receipt_id="r-2", asn_id="asn-1"), ASSOCIATE)


def test_a_closed_asn_cannot_be_received(bus: MessageBus, device_engine: Engine) -> None:
    with device_engine.begin() as conn:
        conn.execute(text("UPDATE asns SET status = 'closed' WHERE asn_id = 'asn-1'"))
    with pytest.raises(InvalidState, match="ASN ASN-5001 is closed"):
        open_asn(bus)


def test_a_case_scan_counts_its_pack_size_and_queues_one_op(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    outcome = receive(bus, MUG_CASE, lot="L1", expiry=dt.date(2027, 1, 31), serial="S9")
    assert outcome.message == "+6 Blue mug 350 ml, 6 of 12"
    assert outcome.data["received"] == 6
    [op] = outbox_rows(device_engine)
    assert op["type"] == "receipt.receive"
    assert op["user_id"] == "u-assoc" and op["session_id"] == "sess-a"
    assert op["payload"] == {
        "receipt_id": "r-1", "po_id": "po-1", "asn_id": "asn-1", "item_id": "item-mug", "gtin": MUG_CASE,
        "qty": 6, "condition": "good", "lot": "L1", "expiry": "2027-01-31", "serial": "S9", "approved_by": None,
    }
    assert (MUG_CASE, "L1", "item-mug", 0, 6, 0) in line_totals(device_engine)


def test_a_repeated_command_id_counts_nothing_twice(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    first = receive(bus, command_id="scan-42")
    again = receive(bus, command_id="scan-42")
    assert again.repeated and again.message == first.message == "+1 Blue mug 350 ml, 1 of 12"
    assert len(outbox_rows(device_engine)) == 1
    assert receipt_summary(device_engine, "r-1").received_units == 1


def test_a_refused_scan_writes_nothing(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    receive(bus, qty=12)
    with pytest.raises(NeedsApproval, match="12 of 12 already received"):
        receive(bus, command_id="scan-x")
    assert len(outbox_rows(device_engine)) == 1
    assert receipt_summary(device_engine, "r-1").received_units == 12
    # the same command id can be tried again once a manager approves
    assert receive(bus, command_id="scan-x", approved_by="u-mgr").data["approved_by"] == "u-mgr"


def test_an_approved_over_receipt_carries_the_approver(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    receive(bus, qty=12)
    outcome = receive(bus, approved_by="u-admin")
    assert outcome.message == "+1 Blue mug 350 ml, 13 of 12 (over), approved by Ada Admin"
    assert outbox_rows(device_engine)[-1]["payload"]["approved_by"] == "u-admin"


def test_an_associate_cannot_approve_an_over_receipt(bus: MessageBus) -> None:
    open_asn(bus)
    receive(bus, qty=12)
    with pytest.raises(NotAllowed, match="Ana Associate is not a manager"):
        receive(bus, approved_by="u-assoc")


def test_a_manager_receiving_approves_their_own_over_receipt(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    receive(bus, qty=12)
    assert receive(bus, actor=MANAGER).data["approved_by"] == "u-mgr"


def test_an_unexpected_item_on_an_asn_needs_approval(bus: MessageBus) -> None:
    open_asn(bus)
    with pytest.raises(NeedsApproval, match="Red cup 250 ml is not on this delivery"):
        receive(bus, CUP)


def test_an_unknown_gtin_is_recorded_for_a_manager(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    outcome = receive(bus, UNKNOWN_GTIN, qty=2)
    assert outcome.message == f"Not in item master: {UNKNOWN_GTIN} recorded, set it aside for a manager"
    assert outbox_rows(device_engine)[0]["payload"]["item_id"] is None
    assert (UNKNOWN_GTIN, "", None, 0, 2, 0) in line_totals(device_engine)


def test_receiving_on_an_unknown_receipt_is_refused(bus: MessageBus) -> None:
    with pytest.raises(NotFound, match="No receipt r-404: start a receipt first"):
        receive(bus, receipt_id="r-404")


def test_closing_puts_stock_at_the_dock_and_sends_the_shorts(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    receive(bus, qty=10)
    receive(bus, qty=2, damaged=True)
    receive(bus, UNKNOWN_GTIN)
    outcome = bus.handle(CloseReceipt(command_id=cid(), receipt_id="r-1"), ASSOCIATE)
    assert outcome.message == "Receipt closed: 12 units on the dock, 3 discrepancies sent to a manager"
    assert {(d["description"], tuple(d["kinds"])) for d in outcome.data["discrepancies"]} == {
        ("Blue mug 350 ml", ("damaged",)),
        ("Green tea 20 bags", ("short",)),
        (f"Unknown item {UNKNOWN_GTIN}", ("unknown", "unexpected")),
    }
    with UnitOfWork(device_engine) as uow:
        stock = StockRepository(uow.conn)
        assert stock.qty("item-mug", "loc-dock-1", "received") == 10
        assert stock.qty("item-mug", "loc-dock-1", "damaged") == 2
    close_op = outbox_rows(device_engine)[-1]
    assert close_op["type"] == "receipt.close"
    assert close_op["payload"]["dock_location_id"] == "loc-dock-1"
    assert [(ln["gtin"], ln["expected_qty"], ln["received_qty"], ln["damaged_qty"])
            for ln in close_op["payload"]["lines"]] == [(MUG_EACH, 12, 12, 2), (TEA, 8, 0, 0), (UNKNOWN_GTIN, 0, 1, 0)]
    assert receipt_summary(device_engine, "r-1").status == "closed"


def test_a_closed_receipt_takes_no_more_units_and_cannot_close_again(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    receive(bus)
    bus.handle(CloseReceipt(command_id=cid(), receipt_id="r-1"), ASSOCIATE)
    with pytest.raises(InvalidState, match="Receipt r-1 is closed"):
        receive(bus)
    with pytest.raises(InvalidState, match="Receipt r-1 is closed"):
        bus.handle(CloseReceipt(command_id=cid(), receipt_id="r-1"), ASSOCIATE)
    assert [op["type"] for op in outbox_rows(device_engine)] == ["receipt.receive", "receipt.close"]


def test_a_repeated_close_moves_stock_once(bus: MessageBus, device_engine: Engine) -> None:
    open_asn(bus)
    receive(bus, qty=3)
    bus.handle(CloseReceipt(command_id="close-1", receipt_id="r-1"), ASSOCIATE)
    assert bus.handle(CloseReceipt(command_id="close-1", receipt_id="r-1"), ASSOCIATE).repeated
    with UnitOfWork(device_engine) as uow:
        assert StockRepository(uow.conn).qty("item-mug", "loc-dock-1", "received") == 3
