"""The demo store: deterministic, the right size and mix, and every reference in it holds."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from biip.gtin import Gtin, GtinFormat

from edge_sync.contract import LocationKind, MasterData, OrderKind, Role, StockStatus, TaskType
from server_stub.seed import DEFAULT_NOW, DEMO_USERS, generate_store, gs1_check_digit, location_code

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store() -> MasterData:
    """The full default store, built once for the module."""
    return generate_store()


def _digest(data: MasterData) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


# -- determinism ---------------------------------------------------------------------------------


def test_the_same_seed_gives_a_byte_identical_store(store: MasterData) -> None:
    assert generate_store().model_dump_json() == store.model_dump_json()


def test_a_different_seed_gives_a_different_store(store: MasterData) -> None:
    other = generate_store(7)
    assert other.model_dump_json() != store.model_dump_json()
    assert [i.gtins for i in other.items[:50]] != [i.gtins for i in store.items[:50]]


def test_the_store_does_not_depend_on_the_process_hash_seed() -> None:
    code = (
        "import hashlib; from server_stub.seed import generate_store; "
        "print(hashlib.sha256(generate_store(3, items=300, locations=120).model_dump_json().encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                             check=True)
        digests.add(out.stdout.strip())
    assert digests == {_digest(generate_store(3, items=300, locations=120))}


def test_the_default_now_is_fixed_and_a_given_now_is_used() -> None:
    small = generate_store(items=200, locations=80)
    assert {t.created_at for t in small.tasks} == {DEFAULT_NOW}
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert {t.created_at for t in generate_store(items=200, locations=80, now=later).tasks} == {later}


def test_a_naive_now_or_a_tiny_store_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate_store(now=dt.datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="items"):
        generate_store(items=10)
    with pytest.raises(ValueError, match="locations"):
        generate_store(locations=10)


def test_the_full_store_is_generated_in_under_two_seconds() -> None:
    started = time.perf_counter()
    generate_store(11)
    assert time.perf_counter() - started < 2.0


# -- size and mix --------------------------------------------------------------------------------


def test_the_store_has_the_sizes_the_issue_asks_for(store: MasterData) -> None:
    assert store.store_id == "store-001"
    assert len(store.items) == 5000
    assert len(store.locations) == 1500
    assert len(store.purchase_orders) == 20
    assert len(store.asns) == 20
    assert len(store.orders) == 50
    tasks = Counter(t.type for t in store.tasks)
    assert tasks[TaskType.PICK] == 50
    assert tasks[TaskType.RECEIVE] == 20
    assert 8 <= tasks[TaskType.COUNT] <= 12


def test_sizes_and_store_id_follow_the_arguments() -> None:
    small = generate_store(5, "store-xyz", items=250, locations=90)
    assert (small.store_id, len(small.items), len(small.locations)) == ("store-xyz", 250, 90)
    assert {loc.kind for loc in small.locations} == set(LocationKind)


def test_there_are_two_users_of_each_role_with_unique_badges(store: MasterData) -> None:
    assert Counter(u.role for u in store.users) == {Role.ASSOCIATE: 2, Role.MANAGER: 2, Role.ADMIN: 2}
    assert len({u.badge for u in store.users}) == 6
    assert [u.user_id for u in store.users] == [d.user_id for d in DEMO_USERS]
    assert all(d.pin.isdigit() and len(d.pin) == 4 for d in DEMO_USERS)
    assert "pin" not in store.users[0].model_dump()


# -- items and GTINs -----------------------------------------------------------------------------


def test_every_gtin_is_valid_unique_and_normalised_to_14_digits(store: MasterData) -> None:
    all_gtins = [g for item in store.items for g in item.gtins]
    assert len(all_gtins) == len(set(all_gtins))
    for gtin in all_gtins:
        parsed = Gtin.parse(gtin)  # raises on a wrong check digit
        assert parsed.as_gtin_14() == gtin


def test_gtins_are_mostly_gtin13_with_some_upc_a_and_gtin8(store: MasterData) -> None:
    # Recover the label format from the 14-digit form: leading zeros are padding.
    formats = Counter(_label_format(item.gtins[0]) for item in store.items)
    assert formats[GtinFormat.GTIN_13] > 0.7 * len(store.items)
    assert formats[GtinFormat.GTIN_12] > 0.05 * len(store.items)
    assert formats[GtinFormat.GTIN_8] > 0


def _label_format(gtin14: str) -> GtinFormat:
    if gtin14.startswith("000000"):
        return GtinFormat.GTIN_8
    if gtin14.startswith("00"):
        return GtinFormat.GTIN_12
    return GtinFormat.GTIN_13


def test_some_items_have_several_unit_gtins_and_case_packs(store: MasterData) -> None:
    several = [i for i in store.items if len(i.gtins) - len(i.pack_sizes) > 1]
    with_packs = [i for i in store.items if i.pack_sizes]
    assert 0.05 * len(store.items) < len(several) < 0.2 * len(store.items)
    assert 0.2 * len(store.items) < len(with_packs) < 0.5 * len(store.items)
    for item in with_packs:
        for gtin, size in item.pack_sizes.items():
            assert gtin in item.gtins
            assert gtin[0] in "12345678"
            assert Gtin.parse(gtin).packaging_level == int(gtin[0])
            assert size in {2, 4, 6, 8, 10, 12, 20, 24, 25}
            # The case GTIN carries the unit GTIN's digits after its indicator.
            assert gtin[1:13] == item.gtins[0][1:13]


def test_items_have_unique_ids_skus_and_readable_descriptions(store: MasterData) -> None:
    assert len({i.item_id for i in store.items}) == len(store.items)
    assert len({i.sku for i in store.items}) == len(store.items)
    assert len({i.description for i in store.items}) == len(store.items)
    for item in store.items[:200]:
        words = item.description.split()
        assert len(words) >= 4 and words[-2].replace(".", "").isdigit()


def test_the_check_digit_helper_agrees_with_the_gs1_example() -> None:
    assert gs1_check_digit("400638133393") == "1"
    assert gs1_check_digit("0001234567890") == "5"


# -- locations -----------------------------------------------------------------------------------


def test_locations_cover_all_four_kinds_in_one_code_scheme(store: MasterData) -> None:
    kinds = Counter(loc.kind for loc in store.locations)
    assert set(kinds) == set(LocationKind)
    assert kinds[LocationKind.SHELF] > kinds[LocationKind.BACKROOM] > kinds[LocationKind.STAGING] > 0
    for loc in store.locations:
        assert loc.location_id == f"loc-{loc.code}"
        if loc.kind in (LocationKind.SHELF, LocationKind.BACKROOM):
            assert loc.aisle and loc.bay and loc.level
            assert loc.code == location_code(loc.zone, loc.aisle, loc.bay, loc.level)
            assert loc.zone in ("A", "B", "C", "D", "E", "F") if loc.kind is LocationKind.SHELF else loc.zone == "BR"
            assert loc.capacity > 0
        else:
            assert (loc.aisle, loc.bay, loc.level, loc.capacity) == (None, None, None, 0)
            assert loc.zone == ("DOCK" if loc.kind is LocationKind.DOCK else "STG")
    codes = [loc.code for loc in store.locations]
    assert len(set(codes)) == len(codes)
    assert "A-01-01-1" in codes and "DOCK-1" in codes and "STG-1" in codes


def test_pick_sequence_walks_the_aisles_in_a_serpentine(store: MasterData) -> None:
    seqs = [loc.pick_sequence for loc in store.locations]
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    shelf = sorted((loc for loc in store.locations if loc.kind is LocationKind.SHELF), key=lambda l: l.pick_sequence)
    first_bays: dict[tuple[str, int], int] = {}
    for loc in shelf:
        assert loc.aisle is not None and loc.bay is not None
        first_bays.setdefault((loc.zone, loc.aisle), loc.bay)
    assert first_bays[("A", 1)] == 1
    assert first_bays[("A", 2)] == 10  # the second aisle is walked from the far end


# -- stock ---------------------------------------------------------------------------------------


def test_every_item_has_a_home_shelf_and_balances_respect_capacity(store: MasterData) -> None:
    locations = {loc.location_id: loc for loc in store.locations}
    for item in store.items:
        assert item.home_location_id is not None
        assert locations[item.home_location_id].kind is LocationKind.SHELF
    used: dict[str, int] = defaultdict(int)
    for bal in store.opening_balances:
        assert bal.status is StockStatus.AVAILABLE and bal.qty > 0
        used[bal.location_id] += bal.qty
    for location_id, qty in used.items():
        assert qty <= locations[location_id].capacity


def test_some_homes_are_near_full_and_overflow_sits_in_the_backroom(store: MasterData) -> None:
    locations = {loc.location_id: loc for loc in store.locations}
    used: dict[str, int] = defaultdict(int)
    for bal in store.opening_balances:
        used[bal.location_id] += bal.qty
    near_full = [lid for lid, qty in used.items()
                 if locations[lid].kind is LocationKind.SHELF and qty >= 0.9 * locations[lid].capacity]
    assert len(near_full) > 50
    overflow = [b for b in store.opening_balances if locations[b.location_id].kind is LocationKind.BACKROOM]
    assert len(overflow) > 100
    homes = {i.item_id: i.home_location_id for i in store.items}
    stocked_at_home = {(b.item_id, b.location_id) for b in store.opening_balances}
    assert all((b.item_id, homes[b.item_id]) in stocked_at_home for b in overflow)


# -- purchase orders and ASNs --------------------------------------------------------------------


def test_asns_match_their_pos_with_short_over_and_unknown_cases(store: MasterData) -> None:
    item_gtins = {g for i in store.items for g in i.gtins}
    items = {i.item_id: i for i in store.items}
    pos = {po.po_id: po for po in store.purchase_orders}
    cases: Counter[str] = Counter()
    for asn in store.asns:
        assert asn.po_id in pos
        assert asn.sscc is not None
        assert gs1_check_digit(asn.sscc[:-1]) == asn.sscc[-1]
        po_qty = {line.item_id: line.qty for line in pos[asn.po_id].lines}
        asn_qty = {line.item_id: line.qty for line in asn.lines if line.item_id}
        unknown = [line for line in asn.lines if line.item_id is None]
        for line in unknown:
            Gtin.parse(line.gtin)
            assert line.gtin not in item_gtins
        for line in asn.lines:
            if line.item_id is not None:
                assert line.gtin in items[line.item_id].gtins
        if unknown:
            cases["unknown"] += 1
        elif any(asn_qty.get(i, 0) < q for i, q in po_qty.items()):
            cases["short"] += 1
        elif any(q > po_qty[i] for i, q in asn_qty.items()):
            cases["over"] += 1
        else:
            assert asn_qty == po_qty
            cases["exact"] += 1
    assert cases["exact"] >= 10
    assert cases["short"] >= 2 and cases["over"] >= 2 and cases["unknown"] >= 2


def test_each_po_has_a_receive_task_at_a_dock(store: MasterData) -> None:
    locations = {loc.location_id: loc for loc in store.locations}
    receive = {t.ref_id: t for t in store.tasks if t.type is TaskType.RECEIVE}
    assert set(receive) == {po.po_id for po in store.purchase_orders}
    for po in store.purchase_orders:
        task = receive[po.po_id]
        assert [(l.item_id, l.qty) for l in task.lines] == [(l.item_id, l.qty) for l in po.lines]
        assert all(locations[l.location_id or ""].kind is LocationKind.DOCK for l in task.lines)


# -- orders and tasks ----------------------------------------------------------------------------


def test_orders_mix_pickup_and_ship_substitution_and_fictional_phones(store: MasterData) -> None:
    kinds = Counter(o.kind for o in store.orders)
    assert kinds[OrderKind.PICKUP] > 10 and kinds[OrderKind.SHIP] > 10
    assert 5 < sum(o.allow_substitution for o in store.orders) < 45
    for order in store.orders:
        assert order.status == "open"
        assert 1 <= len(order.lines) <= 5
        assert order.customer_name and "555-01" in order.customer_phone


def test_pick_tasks_send_the_picker_to_stock_in_pick_sequence(store: MasterData) -> None:
    stock = {(b.item_id, b.location_id): b.qty for b in store.opening_balances}
    sequence = {loc.location_id: loc.pick_sequence for loc in store.locations}
    picks = {t.ref_id: t for t in store.tasks if t.type is TaskType.PICK}
    demand: dict[tuple[str, str], int] = defaultdict(int)
    for order in store.orders:
        task = picks[order.order_id]
        assert sorted((l.line_id, l.item_id, l.qty) for l in task.lines) == sorted(
            (l.line_id, l.item_id, l.qty) for l in order.lines)
        seqs = [sequence[l.location_id or ""] for l in task.lines]
        assert seqs == sorted(seqs)
        for line in task.lines:
            assert line.item_id is not None and line.location_id is not None
            assert stock.get((line.item_id, line.location_id), 0) >= line.qty
            demand[(line.item_id, line.location_id)] += line.qty
    # All open orders together never promise more than is on the shelf.
    assert all(qty <= stock[key] for key, qty in demand.items())


def test_count_tasks_are_by_location_and_by_item_and_name_real_stock(store: MasterData) -> None:
    stock = {(b.item_id, b.location_id) for b in store.opening_balances}
    location_ids = {loc.location_id for loc in store.locations}
    item_ids = {i.item_id for i in store.items}
    counts = [t for t in store.tasks if t.type is TaskType.COUNT]
    by_location = [t for t in counts if t.ref_id in location_ids]
    by_item = [t for t in counts if t.ref_id in item_ids]
    assert by_location and by_item and len(by_location) + len(by_item) == len(counts)
    for task in counts:
        assert task.lines
        for line in task.lines:
            assert (line.item_id, line.location_id) in stock
            assert line.qty == 0  # blind


def test_every_referenced_id_exists(store: MasterData) -> None:
    items = {i.item_id for i in store.items}
    locations = {loc.location_id for loc in store.locations}
    users = {u.user_id for u in store.users}
    pos = {po.po_id for po in store.purchase_orders}
    orders = {o.order_id for o in store.orders}
    assert all(b.item_id in items and b.location_id in locations for b in store.opening_balances)
    assert all(l.item_id in items for po in store.purchase_orders for l in po.lines)
    assert all(l.item_id is None or l.item_id in items for asn in store.asns for l in asn.lines)
    assert all(l.item_id in items for o in store.orders for l in o.lines)
    task_ids = [t.task_id for t in store.tasks]
    assert len(set(task_ids)) == len(task_ids)
    for task in store.tasks:
        assert task.assignee_id is None or task.assignee_id in users
        assert task.ref_id in items | locations | pos | orders
        for line in task.lines:
            assert line.item_id is None or line.item_id in items
            assert line.location_id is None or line.location_id in locations
    line_ids = [l.line_id for t in store.tasks for l in t.lines]
    assert len(set(line_ids)) == len(line_ids)
