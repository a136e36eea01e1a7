"""The deterministic demo store: `generate_store(seed)` returns a whole store as `MasterData`.

The same seed, store id, sizes and `now` always give the same records in the same order (the
generator draws from one `random.Random(seed)` and never iterates a set or a hash), so the JSON
dump of a store is byte-identical from run to run and machine to machine.

What a default store holds (`generate_store(42)`):

- 5,000 items with descriptions from word lists ("Halden blue ceramic mug 350 ml"), a SKU, and
  GS1 GTINs with correct mod-10 check digits: mostly GTIN-13, some GTIN-12 (UPC-A) and GTIN-8, every
  one normalised to 14 digits in the record. About one item in ten carries a second (or third) unit
  GTIN. About a third have case packs: GTIN-14s with indicator digit 1-8, listed in `gtins` and in
  `pack_sizes` with their units per case (e.g. 6, 12, 24).
- 1,500 locations in one code scheme (below), with a serpentine `pick_sequence` and a capacity.
- Opening balances: `available` stock at each item's home shelf; some shelves are filled near
  capacity and their items have overflow stock in the backroom. A few items are out of stock.
- 20 purchase orders, each with one ASN: most ASNs match their PO exactly, some are short, some are
  over, and some carry a GTIN that is not in the item master (`item_id` None). One receive task per PO.
- 50 open customer orders (pickup and ship, some allowing substitution), 1-5 lines each, only of
  items in stock, and one pick task per order whose lines name a location holding the item, in
  pick-sequence order.
- 10 open count tasks: six by location, four by item. Count lines carry qty 0: counts are blind.
- Two users of each role (below).

Location codes, `ZONE-AISLE-BAY-LEVEL`:

    A-03-02-1     shelf: zone A-F, aisle 03, bay 02, level 1 (floor level is 1)
    BR-02-05-3    backroom racking: zone BR, same fields
    DOCK-1        receiving dock doors, zone DOCK, no aisle/bay/level
    STG-1         staging lanes for picked orders, zone STG

    A location's id is `loc-` + its code (`loc-A-03-02-1`). Pick sequence walks the shelves zone by
    zone and aisle by aisle, up one aisle and down the next (bays ascending in odd aisles,
    descending in even ones), levels from the floor up; then the backroom the same way; then the
    staging lanes and docks. Docks and staging have capacity 0 (unlimited).

Demo users (PINs are for the demo only; master data carries only their scrypt hashes):

    user_id     name             role        badge        PIN
    u-assoc-1   Ana Costa        associate   BADGE-1001   1111
    u-assoc-2   Ben Okafor       associate   BADGE-1002   2222
    u-mgr-1     Chloe Martin     manager     BADGE-2001   3333
    u-mgr-2     Dev Patel        manager     BADGE-2002   4444
    u-admin-1   Eva Lindqvist    admin       BADGE-9001   9001
    u-admin-2   Femi Adeyemi     admin       BADGE-9002   9002
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections import defaultdict
from typing import Final, NamedTuple

from edge_sync.contract import (
    AsnRecord,
    BalanceRecord,
    CustomerOrderRecord,
    ExpectedLine,
    ItemRecord,
    LocationKind,
    LocationRecord,
    MasterData,
    OrderKind,
    OrderLine,
    PurchaseOrderRecord,
    Role,
    StockStatus,
    TaskLineRecord,
    TaskRecord,
    TaskStatus,
    TaskType,
    UserRecord,
)
from server_stub import seed_words as words

__all__ = ["DEFAULT_NOW", "DEMO_USERS", "DemoUser", "generate_store", "gs1_check_digit", "location_code"]

DEFAULT_NOW: Final = dt.datetime(2025, 3, 3, 7, 0, tzinfo=dt.UTC)
"""The store's 'now' when none is given: a Monday morning, so every run is byte-identical."""

PURCHASE_ORDERS: Final = 20
CUSTOMER_ORDERS: Final = 50
COUNT_TASKS_BY_LOCATION: Final = 6
COUNT_TASKS_BY_ITEM: Final = 4
SHELF_ZONES: Final = ("A", "B", "C", "D", "E", "F")
SHELF_BAYS, SHELF_LEVELS = 10, 5
BACKROOM_BAYS, BACKROOM_LEVELS = 8, 4


class DemoUser(NamedTuple):
    """A demo login: the user record's fields plus the demo PIN (MasterData carries only its hash)."""

    user_id: str
    name: str
    role: Role
    badge: str
    pin: str


DEMO_USERS: Final[tuple[DemoUser, ...]] = (
    DemoUser("u-assoc-1", "Ana Costa", Role.ASSOCIATE, "BADGE-1001", "1111"),
    DemoUser("u-assoc-2", "Ben Okafor", Role.ASSOCIATE, "BADGE-1002", "2222"),
    DemoUser("u-mgr-1", "Chloe Martin", Role.MANAGER, "BADGE-2001", "3333"),
    DemoUser("u-mgr-2", "Dev Patel", Role.MANAGER, "BADGE-2002", "4444"),
    DemoUser("u-admin-1", "Eva Lindqvist", Role.ADMIN, "BADGE-9001", "9001"),
    DemoUser("u-admin-2", "Femi Adeyemi", Role.ADMIN, "BADGE-9002", "9002"),
)

DEMO_PIN_HASHES: Final[dict[str, str]] = {
    "u-assoc-1": "scrypt$15$8$1$1ba3ef1d91b925132bf4eb65f03c037d$ebea85e5c92ff2f69f769976666fb06aaef8b5c83f73c963d8b78c8d7323c28b",
    "u-assoc-2": "scrypt$15$8$1$b4cdd7e79c782be9cc0091481f98e736$ab91e08809f740c7f779f1829c209e39990444b984b52ea6e073abbca55d384f",
    "u-mgr-1": "scrypt$15$8$1$826232a1ab351a2b2931465c3c2c9ecf$c5d9be556b727d0e0c6281f458d48cf692d8be64abc1267fd2764a9b284dfe45",
    "u-mgr-2": "scrypt$15$8$1$72bc5e272f77cb836f1122878ac0559c$319effc1dc502ba914775a41cd5901aa261466ec75ec1c5f8d60f1afd32afbdc",
    "u-admin-1": "scrypt$15$8$1$b6aff32e14405fe98e78e9a57006f52a$b0d7af93ef13156ac6810fbbe7a75f17bf84fa4b9ac28695ad4f39edeeaba158",
    "u-admin-2": "scrypt$15$8$1$d0f1e965733afc909a4d9d7d42df4cb6$70ab4dcda44b2047aa9344e445397c5c7597d3e7acfebf7ef2860af60c3bd670",
}
"""The demo PINs' scrypt hashes (salt from `random.Random("pin-<user_id>")`), computed once and kept
here: hashing is slow on purpose, and the seed must stay fast. tests/unit/test_people_pin.py checks them."""

# GS1 prefixes that number trade items in open circulation. Left out on purpose: 02, 04 and 20-29
# (in-store and restricted numbers), 977-979 (ISSN/ISBN), 98-99 (coupons), so a seeded GTIN never
# looks like a weighed-item or coupon code to the scanner layer.
_GTIN13_PREFIXES: Final = ("400", "401", "405", "409", "426", "500", "501", "505", "540", "560", "569", "590",
                           "690", "703", "730", "731", "760", "800", "807", "840", "871", "872", "890", "930",
                           "940")
_UPC_FIRST_DIGITS: Final = ("0", "1", "6", "7", "8", "9")
_GTIN8_PREFIXES: Final = ("400", "425", "500", "590", "730", "871")


def gs1_check_digit(payload: str) -> str:
    """The GS1 mod-10 check digit for a string of digits (a GTIN or SSCC without its last digit)."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def location_code(zone: str, aisle: int, bay: int | None = None, level: int | None = None) -> str:
    """The code printed on a location label: `A-03-02-1`, `BR-01-04-2`; `DOCK-1`, `STG-2` take one number."""
    if bay is None or level is None:
        return f"{zone}-{aisle}"
    return f"{zone}-{aisle:02d}-{bay:02d}-{level}"


def generate_store(
    seed: int = 42,
    store_id: str = "store-001",
    *,
    items: int = 5000,
    locations: int = 1500,
    now: dt.datetime | None = None,
) -> MasterData:
    """A whole demo store, the same for the same arguments; see the module docstring for its shape."""
    if items < 100:
        raise ValueError("a demo store needs at least 100 items")
    if locations < 40:
        raise ValueError("a demo store needs at least 40 locations")
    now = DEFAULT_NOW if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _StoreBuilder(random.Random(seed), store_id, now).build(items, locations)


class _Supplier(NamedTuple):
    name: str
    gtin_kind: int  # 13, 12 or 8: the GTIN format this supplier's labels use
    prefix: str  # company prefix (GTIN-13: 7 digits, UPC: 6 digits, GTIN-8: 3 digits)
    family: words.Family


class _StoreBuilder:
    """Holds the one random stream and the indexes the later steps need; `build` runs the steps."""

    def __init__(self, rng: random.Random, store_id: str, now: dt.datetime) -> None:
        self.rng = rng
        self.store_id = store_id
        self.now = now
        self.used_gtins: set[str] = set()  # membership only; never iterated
        self.locations: list[LocationRecord] = []
        self.items: list[ItemRecord] = []
        self.item_supplier: dict[str, _Supplier] = {}
        self.balances: dict[tuple[str, str], int] = {}  # (item_id, location_id) -> available qty

    def build(self, n_items: int, n_locations: int) -> MasterData:
        """Run every step in a fixed order: each draws from the same stream, so order matters."""
        self._build_locations(n_locations)
        suppliers = self._build_suppliers(max(12, n_items // 40))
        self._build_items(n_items, suppliers)
        self._build_stock()
        pos, asns, receive_tasks = self._build_receiving(suppliers)
        orders, pick_tasks = self._build_orders()
        count_tasks = self._build_counts()
        balances = [
            BalanceRecord(item_id=item_id, location_id=location_id, status=StockStatus.AVAILABLE, qty=qty)
            for (item_id, location_id), qty in self.balances.items()
            if qty > 0
        ]
        # PINs travel only as slow salted hashes (DEMO_PIN_HASHES).
        users = [UserRecord(user_id=u.user_id, name=u.name, role=u.role, badge=u.badge,
                            pin_hash=DEMO_PIN_HASHES[u.user_id]) for u in DEMO_USERS]
        return MasterData(
            store_id=self.store_id,
            items=self.items,
            locations=self.locations,
            purchase_orders=pos,
            asns=asns,
            orders=orders,
            tasks=receive_tasks + pick_tasks + count_tasks,
            users=users,
            opening_balances=balances,
        )

    # -- locations -------------------------------------------------------------------------------

    def _build_locations(self, n: int) -> None:
        docks = 4 if n >= 200 else 2
        staging = 12 if n >= 200 else 4
        racked = n - docks - staging
        backroom = racked // 5
        shelves = racked - backroom
        sequence = 0

        def add(zone: str, kind: LocationKind, aisle: int | None, bay: int | None, level: int | None,
                capacity: int, code: str) -> None:
            nonlocal sequence
            sequence += 1
            self.locations.append(LocationRecord(
                location_id=f"loc-{code}", code=code, zone=zone, kind=kind, aisle=aisle, bay=bay,
                level=level, pick_sequence=sequence, capacity=capacity,
            ))

        for zone, aisle, bay, level in _serpentine(SHELF_ZONES, shelves, SHELF_BAYS, SHELF_LEVELS):
            add(zone, LocationKind.SHELF, aisle, bay, level, self.rng.choice((60, 96, 120, 144, 192, 240)),
                location_code(zone, aisle, bay, level))
        for zone, aisle, bay, level in _serpentine(("BR",), backroom, BACKROOM_BAYS, BACKROOM_LEVELS):
            add(zone, LocationKind.BACKROOM, aisle, bay, level, self.rng.choice((400, 600, 800, 1200)),
                location_code(zone, aisle, bay, level))
        for number in range(1, staging + 1):
            add("STG", LocationKind.STAGING, None, None, None, 0, location_code("STG", number))
        for number in range(1, docks + 1):
            add("DOCK", LocationKind.DOCK, None, None, None, 0, location_code("DOCK", number))

    def _of_kind(self, kind: LocationKind) -> list[LocationRecord]:
        return [loc for loc in self.locations if loc.kind is kind]

    # -- suppliers and items ---------------------------------------------------------------------

    def _build_suppliers(self, n: int) -> list[_Supplier]:
        suppliers: list[_Supplier] = []
        names: set[str] = set()
        prefixes: set[str] = set()
        while len(suppliers) < n:
            name = (f"{self.rng.choice(words.SUPPLIER_STEMS)} {self.rng.choice(words.SUPPLIER_TRADES)} "
                    f"{self.rng.choice(words.SUPPLIER_FORMS)}")
            roll = self.rng.random()
            if roll < 0.80:
                kind, prefix = 13, self.rng.choice(_GTIN13_PREFIXES) + f"{self.rng.randrange(10_000):04d}"
            elif roll < 0.95:
                kind, prefix = 12, self.rng.choice(_UPC_FIRST_DIGITS) + f"{self.rng.randrange(10_000, 100_000)}"
            else:
                kind, prefix = 8, self.rng.choice(_GTIN8_PREFIXES)
            if name in names or prefix in prefixes:
                continue
            names.add(name)
            prefixes.add(prefix)
            suppliers.append(_Supplier(name, kind, prefix, self.rng.choice(words.FAMILIES)))
        return suppliers

    def _unit_gtin(self, supplier: _Supplier) -> str:
        """A new unit GTIN on this supplier's label format, normalised to 14 digits."""
        while True:
            if supplier.gtin_kind == 13:
                payload = supplier.prefix + f"{self.rng.randrange(100_000):05d}"
            elif supplier.gtin_kind == 12:
                payload = supplier.prefix + f"{self.rng.randrange(100_000):05d}"
            else:
                payload = supplier.prefix + f"{self.rng.randrange(10_000):04d}"
            gtin = (payload + gs1_check_digit(payload)).zfill(14)
            if gtin not in self.used_gtins:
                self.used_gtins.add(gtin)
                return gtin

    def _pack_gtin(self, unit_gtin: str, indicator: int) -> str:
        """The case-pack GTIN-14 for a unit GTIN: indicator digit, the unit's digits, new check digit."""
        payload = str(indicator) + unit_gtin[1:13]
        gtin = payload + gs1_check_digit(payload)
        self.used_gtins.add(gtin)
        return gtin

    def _description(self, supplier: _Supplier, seen: set[str]) -> str:
        family = supplier.family
        for _ in range(20):
            product = self.rng.choice(family.products)
            text = (f"{self.rng.choice(words.BRANDS)} {self.rng.choice(family.adjectives)} {product.noun} "
                    f"{self.rng.choice(product.sizes)} {product.unit}")
            if text not in seen:
                break
        else:
            text = f"{text} ({self.rng.randrange(2, 100)})"
        seen.add(text)
        return text

    def _build_items(self, n: int, suppliers: list[_Supplier]) -> None:
        shelves = self._of_kind(LocationKind.SHELF)
        # Spread items evenly over the shelves, several per shelf location as on a real gondola.
        homes = [shelves[i % len(shelves)] for i in range(n)]
        self.rng.shuffle(homes)
        seen: set[str] = set()
        for index in range(n):
            supplier = self.rng.choice(suppliers)
            item_id = f"item-{index + 1:05d}"
            gtins = [self._unit_gtin(supplier)]
            roll = self.rng.random()
            if roll < 0.02:
                gtins += [self._unit_gtin(supplier), self._unit_gtin(supplier)]
            elif roll < 0.10:
                gtins.append(self._unit_gtin(supplier))
            pack_sizes: dict[str, int] = {}
            roll = self.rng.random()
            if roll < 0.35:
                packs = sorted(self.rng.sample(supplier.family.case_packs, 2 if roll < 0.07 else 1))
                for indicator, size in enumerate(packs, start=self.rng.choice((1, 1, 1, 3, 5))):
                    pack_sizes[self._pack_gtin(gtins[0], indicator)] = size
            self.items.append(ItemRecord(
                item_id=item_id,
                sku=f"SKU-{100_000 + index * 7 + self.rng.randrange(7)}",
                gtins=gtins + list(pack_sizes),
                description=self._description(supplier, seen),
                unit="each",
                pack_sizes=pack_sizes,
                home_location_id=homes[index].location_id,
            ))
            self.item_supplier[item_id] = supplier

    # -- stock -----------------------------------------------------------------------------------

    def _build_stock(self) -> None:
        by_home: dict[str, list[ItemRecord]] = defaultdict(list)
        for item in self.items:
            assert item.home_location_id is not None
            by_home[item.home_location_id].append(item)
        backroom = self._of_kind(LocationKind.BACKROOM)
        backroom_free = {loc.location_id: loc.capacity for loc in backroom}
        backroom_cursor = self.rng.randrange(len(backroom))
        for shelf in self._of_kind(LocationKind.SHELF):
            on_shelf = by_home.get(shelf.location_id, [])
            if not on_shelf:
                continue
            facing = max(1, shelf.capacity // len(on_shelf))
            tight = self.rng.random() < 0.12  # a shelf filled to the brim: putaway must overflow
            for item in on_shelf:
                if not tight and self.rng.random() < 0.04:
                    continue  # out of stock
                share = self.rng.uniform(0.95, 1.0) if tight else self.rng.uniform(0.25, 0.85)
                self.balances[(item.item_id, shelf.location_id)] = max(1, int(facing * share))
                if tight and self.rng.random() < 0.6:
                    case = min(item.pack_sizes.values(), default=6)
                    qty = case * self.rng.randint(2, 8)
                    for step in range(len(backroom)):
                        candidate = backroom[(backroom_cursor + step) % len(backroom)].location_id
                        if backroom_free[candidate] >= qty:
                            backroom_free[candidate] -= qty
                            self.balances[(item.item_id, candidate)] = qty
                            backroom_cursor += step + self.rng.randint(0, 2)
                            break

    # -- receiving -------------------------------------------------------------------------------

    def _build_receiving(
        self, suppliers: list[_Supplier],
    ) -> tuple[list[PurchaseOrderRecord], list[AsnRecord], list[TaskRecord]]:
        by_supplier: dict[str, list[ItemRecord]] = defaultdict(list)
        for item in self.items:
            by_supplier[self.item_supplier[item.item_id].name].append(item)
        candidates = [s for s in suppliers if len(by_supplier[s.name]) >= 3]
        chosen = self.rng.sample(candidates, min(PURCHASE_ORDERS, len(candidates)))
        while len(chosen) < PURCHASE_ORDERS:
            chosen.append(self.rng.choice(candidates))
        # Scenarios are fixed in number and shuffled in place, so every store has each case.
        scenarios = ["exact"] * 11 + ["short"] * 3 + ["over"] * 3 + ["unknown"] * 3
        self.rng.shuffle(scenarios)
        docks = self._of_kind(LocationKind.DOCK)
        associates = [u.user_id for u in DEMO_USERS if u.role is Role.ASSOCIATE]
        pos, asns, tasks = [], [], []
        for index, (supplier, scenario) in enumerate(zip(chosen, scenarios, strict=True), start=1):
            po_id, asn_id = f"po-{index:04d}", f"asn-{index:04d}"
            number = f"PO-{4_500_000 + index * 37}"
            expected_at = (self.now + dt.timedelta(days=self.rng.randint(0, 6), hours=self.rng.randint(1, 9)))
            stock = by_supplier[supplier.name]
            picked = self.rng.sample(stock, min(len(stock), self.rng.randint(3, 18)))
            po_lines = []
            for line_no, item in enumerate(picked, start=1):
                case = min(item.pack_sizes.values(), default=1)
                po_lines.append(ExpectedLine(line_id=f"{po_id}-{line_no}", item_id=item.item_id,
                                             gtin=item.gtins[0], qty=case * self.rng.randint(1, 10)))
            asn_lines = [line.model_copy(update={"line_id": f"{asn_id}-{n}"}) for n, line in enumerate(po_lines, 1)]
            if scenario == "short":
                victim = self.rng.randrange(len(asn_lines))
                line = asn_lines[victim]
                if line.qty > 1 and self.rng.random() < 0.7:
                    asn_lines[victim] = line.model_copy(update={"qty": self.rng.randint(1, line.qty - 1)})
                else:
                    del asn_lines[victim]  # the whole line missing from the delivery
            elif scenario == "over":
                victim = self.rng.randrange(len(asn_lines))
                line = asn_lines[victim]
                asn_lines[victim] = line.model_copy(update={"qty": line.qty + self.rng.randint(1, 12)})
            elif scenario == "unknown":
                asn_lines.append(ExpectedLine(line_id=f"{asn_id}-{len(po_lines) + 1}", item_id=None,
                                              gtin=self._unit_gtin(supplier), qty=self.rng.randint(1, 24)))
            sscc_payload = f"{self.rng.randrange(10)}{supplier.prefix[:7].ljust(7, '0')}{self.rng.randrange(10**9):09d}"
            pos.append(PurchaseOrderRecord(po_id=po_id, number=number, supplier=supplier.name,
                                           expected_at=expected_at, lines=po_lines))
            asns.append(AsnRecord(asn_id=asn_id, po_id=po_id, number=f"ASN-{700_000 + index * 53}",
                                  sscc=sscc_payload + gs1_check_digit(sscc_payload), expected_at=expected_at,
                                  lines=asn_lines))
            dock = self.rng.choice(docks)
            assignee = self.rng.choice(associates) if self.rng.random() < 0.3 else None
            tasks.append(TaskRecord(
                task_id=f"task-rcv-{index:04d}", type=TaskType.RECEIVE,
                status=TaskStatus.ASSIGNED if assignee else TaskStatus.OPEN, priority=3,
                assignee_id=assignee, due_at=expected_at + dt.timedelta(hours=4), ref_id=po_id,
                title=f"Receive {number} from {supplier.name}", created_at=self.now,
                lines=[TaskLineRecord(line_id=line.line_id, item_id=line.item_id, location_id=dock.location_id,
                                      qty=line.qty) for line in po_lines],
            ))
        return pos, asns, tasks

    # -- customer orders -------------------------------------------------------------------------

    def _build_orders(self) -> tuple[list[CustomerOrderRecord], list[TaskRecord]]:
        sequence = {loc.location_id: loc.pick_sequence for loc in self.locations}
        promisable = {key: qty for key, qty in self.balances.items() if qty > 0}
        where: dict[str, list[str]] = defaultdict(list)
        for item_id, location_id in promisable:
            where[item_id].append(location_id)
        in_stock = list(where)
        orders, tasks = [], []
        for index in range(1, CUSTOMER_ORDERS + 1):
            order_id = f"ord-{index:04d}"
            kind = OrderKind.PICKUP if self.rng.random() < 0.6 else OrderKind.SHIP
            wanted = self.rng.choices((1, 2, 3, 4, 5), weights=(30, 30, 20, 12, 8))[0]
            lines: list[OrderLine] = []
            task_lines: list[tuple[int, TaskLineRecord]] = []
            sampled = self.rng.sample(in_stock, min(len(in_stock), wanted * 3))
            tried = set(sampled)
            # Fall back to the whole catalogue (lazily) only when the sample ran out of stock.
            for item_id in itertools.chain(sampled, (i for i in in_stock if i not in tried)):
                if len(lines) == wanted:
                    break
                held = [(promisable[(item_id, loc)], loc) for loc in where[item_id] if promisable[(item_id, loc)] > 0]
                if not held:
                    continue
                best_qty, best_loc = max(held)
                qty = min(best_qty, self.rng.choices((1, 2, 3, 6), weights=(60, 25, 10, 5))[0])
                promisable[(item_id, best_loc)] -= qty
                line_id = f"{order_id}-{len(lines) + 1}"
                lines.append(OrderLine(line_id=line_id, item_id=item_id, qty=qty))
                task_lines.append((sequence[best_loc], TaskLineRecord(
                    line_id=line_id, item_id=item_id, location_id=best_loc, qty=qty)))
            due_at = self.now + dt.timedelta(hours=self.rng.randint(2, 52))
            orders.append(CustomerOrderRecord(
                order_id=order_id, number=f"CO-{880_000 + index * 11}", kind=kind,
                allow_substitution=self.rng.random() < 0.4,
                customer_name=f"{self.rng.choice(words.FIRST_NAMES)} {self.rng.choice(words.LAST_NAMES)}",
                # 555-01xx numbers are reserved for fiction: a seeded phone never reaches a person.
                customer_phone=f"+1-{self.rng.choice(('202', '312', '415', '617'))}-555-01{self.rng.randrange(100):02d}",
                due_at=due_at, lines=lines,
            ))
            task_lines.sort(key=lambda pair: (pair[0], pair[1].line_id))
            tasks.append(TaskRecord(
                task_id=f"task-pick-{index:04d}", type=TaskType.PICK, status=TaskStatus.OPEN,
                priority=2 if kind is OrderKind.PICKUP else 3, due_at=due_at - dt.timedelta(hours=1),
                ref_id=order_id, title=f"Pick {kind.value} order CO-{880_000 + index * 11}",
                created_at=self.now, lines=[line for _, line in task_lines],
            ))
        return orders, tasks

    # -- counts ----------------------------------------------------------------------------------

    def _build_counts(self) -> list[TaskRecord]:
        sequence = {loc.location_id: loc.pick_sequence for loc in self.locations}
        code = {loc.location_id: loc.code for loc in self.locations}
        at_location: dict[str, list[str]] = defaultdict(list)
        at_item: dict[str, list[str]] = defaultdict(list)
        for item_id, location_id in self.balances:
            at_location[location_id].append(item_id)
            at_item[item_id].append(location_id)
        shelves = [loc.location_id for loc in self._of_kind(LocationKind.SHELF) if at_location.get(loc.location_id)]
        spread = sorted(item_id for item_id, locs in at_item.items() if len(locs) > 1)
        description = {item.item_id: item.description for item in self.items}
        managers = [u.user_id for u in DEMO_USERS if u.role is Role.MANAGER]
        tasks = []
        for location_id in self.rng.sample(shelves, min(COUNT_TASKS_BY_LOCATION, len(shelves))):
            lines = [TaskLineRecord(line_id=f"{location_id}:{n}", item_id=item_id, location_id=location_id)
                     for n, item_id in enumerate(at_location[location_id], start=1)]
            tasks.append((f"Count location {code[location_id]}", location_id, lines))
        chosen = self.rng.sample(spread, min(COUNT_TASKS_BY_ITEM, len(spread)))
        if len(chosen) < COUNT_TASKS_BY_ITEM:  # a tiny store has little overflow: count single-home items too
            single = sorted(item_id for item_id, locs in at_item.items() if len(locs) == 1)
            chosen += self.rng.sample(single, min(COUNT_TASKS_BY_ITEM - len(chosen), len(single)))
        for item_id in chosen:
            locs = sorted(at_item[item_id], key=sequence.__getitem__)
            lines = [TaskLineRecord(line_id=f"{item_id}:{n}", item_id=item_id, location_id=loc)
                     for n, loc in enumerate(locs, start=1)]
            tasks.append((f"Count {description[item_id]}", item_id, lines))
        records = []
        for index, (title, ref_id, lines) in enumerate(tasks, start=1):
            task_id = f"task-cnt-{index:04d}"
            records.append(TaskRecord(
                task_id=task_id, type=TaskType.COUNT, status=TaskStatus.OPEN, priority=4,
                assignee_id=self.rng.choice(managers) if index % 5 == 0 else None,
                due_at=self.now + dt.timedelta(days=1), ref_id=ref_id, title=title, created_at=self.now,
                lines=[line.model_copy(update={"line_id": f"{task_id}-{n}"}) for n, line in enumerate(lines, 1)],
            ))
        return records


def _serpentine(zones: tuple[str, ...], count: int, bays: int, levels: int) -> list[tuple[str, int, int, int]]:
    """`count` racked positions in walking order: zone by zone, aisles up and down, levels upward."""
    per_aisle = bays * levels
    aisles_per_zone = max(1, math.ceil(math.ceil(count / per_aisle) / len(zones)))
    positions: list[tuple[str, int, int, int]] = []
    for zone in zones:
        for aisle in range(1, aisles_per_zone + 1):
            bay_order = range(1, bays + 1) if aisle % 2 == 1 else range(bays, 0, -1)
            for bay in bay_order:
                for level in range(1, levels + 1):
                    if len(positions) == count:
                        return positions
                    positions.append((zone, aisle, bay, level))
    return positions
