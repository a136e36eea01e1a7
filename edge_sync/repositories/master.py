"""Master data on the device: items, GTINs, locations, users, stock; and loading them from records.

`apply_master_data` writes contract records (as the change feed or a seed delivers them) into the
local tables with upserts, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from edge_sync import contract, crypto, overlay
from edge_sync.db import driver
from edge_sync.tables import (
    Asn,
    CustomerOrder,
    ExpectedLine,
    Item,
    ItemGtin,
    Location,
    OrderLine,
    PurchaseOrder,
    Stock,
    Task,
    TaskLine,
    User,
)

items_t = Item.__table__  # type: ignore[attr-defined]
gtins_t = ItemGtin.__table__  # type: ignore[attr-defined]
locations_t = Location.__table__  # type: ignore[attr-defined]
users_t = User.__table__  # type: ignore[attr-defined]
stock_t = Stock.__table__  # type: ignore[attr-defined]
pos_t = PurchaseOrder.__table__  # type: ignore[attr-defined]
asns_t = Asn.__table__  # type: ignore[attr-defined]
expected_t = ExpectedLine.__table__  # type: ignore[attr-defined]
orders_t = CustomerOrder.__table__  # type: ignore[attr-defined]
order_lines_t = OrderLine.__table__  # type: ignore[attr-defined]
tasks_t = Task.__table__  # type: ignore[attr-defined]
task_lines_t = TaskLine.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ItemInfo:
    item_id: str
    sku: str
    description: str
    unit: str
    home_location_id: str | None


@dataclass(frozen=True, slots=True)
class GtinMatch:
    """An item found by one of its GTINs; `units` is how many units one scan of it is."""

    item: ItemInfo
    gtin: str
    units: int


@dataclass(frozen=True, slots=True)
class LocationInfo:
    location_id: str
    code: str
    zone: str
    kind: str
    aisle: int | None
    bay: int | None
    level: int | None
    pick_sequence: int
    capacity: int


@dataclass(frozen=True, slots=True)
class UserInfo:
    user_id: str
    name: str
    role: str
    badge: str | None


def _item(row: object) -> ItemInfo:
    m = row._mapping  # type: ignore[attr-defined]
    return ItemInfo(m["item_id"], m["sku"], m["description"], m["unit"], m["home_location_id"])


def _location(row: object) -> LocationInfo:
    m = row._mapping  # type: ignore[attr-defined]
    return LocationInfo(
        m["location_id"], m["code"], m["zone"], m["kind"], m["aisle"], m["bay"], m["level"],
        m["pick_sequence"], m["capacity"],
    )


_ITEM_BY_GTIN_SQL = (
    "SELECT i.item_id, i.sku, i.description, i.unit, i.home_location_id, g.units"
    " FROM item_gtins g JOIN items i ON i.item_id = g.item_id WHERE g.gtin = ?"
)


class MasterRepository:
    """Lookups every workflow shares."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def item_by_gtin(self, gtin14: str) -> GtinMatch | None:
        """The item sold under this GTIN-14, with the units one scan of it stands for."""
        # sqlite3 directly: every scan looks its GTIN up (see edge_sync.db.driver).
        row = driver(self.conn).execute(_ITEM_BY_GTIN_SQL, (gtin14,)).fetchone()
        if row is None:
            return None
        return GtinMatch(item=ItemInfo(*row[:5]), gtin=gtin14, units=int(row[5]))

    def item(self, item_id: str) -> ItemInfo | None:
        """An item by id."""
        row = self.conn.execute(select(items_t).where(items_t.c.item_id == item_id)).first()
        return None if row is None else _item(row)

    def gtins_of(self, item_id: str) -> list[tuple[str, int]]:
        """Every (GTIN, units) of an item."""
        rows = self.conn.execute(select(gtins_t.c.gtin, gtins_t.c.units).where(gtins_t.c.item_id == item_id))
        return [(r.gtin, int(r.units)) for r in rows]

    def location(self, location_id: str) -> LocationInfo | None:
        """A location by id."""
        row = self.conn.execute(select(locations_t).where(locations_t.c.location_id == location_id)).first()
        return None if row is None else _location(row)

    def location_by_code(self, code: str) -> LocationInfo | None:
        """A location by the code printed on its label (case-insensitive)."""
        row = self.conn.execute(select(locations_t).where(locations_t.c.code == code.strip().upper())).first()
        return None if row is None else _location(row)

    def locations(self, *, kind: str | None = None, zone: str | None = None) -> list[LocationInfo]:
        """Locations, optionally of one kind and zone, in pick-sequence order."""
        q = select(locations_t)
        if kind is not None:
            q = q.where(locations_t.c.kind == kind)
        if zone is not None:
            q = q.where(locations_t.c.zone == zone)
        return [_location(r) for r in self.conn.execute(q.order_by(locations_t.c.pick_sequence))]

    def user(self, user_id: str) -> UserInfo | None:
        """A user by id."""
        row = self.conn.execute(select(users_t).where(users_t.c.user_id == user_id)).first()
        return None if row is None else UserInfo(row.user_id, row.name, row.role, row.badge)

    def user_by_badge(self, badge: str) -> UserInfo | None:
        """The user whose badge was scanned."""
        row = self.conn.execute(select(users_t).where(users_t.c.badge == badge)).first()
        return None if row is None else UserInfo(row.user_id, row.name, row.role, row.badge)


class StockRepository:
    """Local stock by (item, location, status)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def qty(self, item_id: str, location_id: str, status: str) -> int:
        """Units of an item at a location in a status."""
        row = self.conn.execute(
            select(stock_t.c.qty).where(
                and_(stock_t.c.item_id == item_id, stock_t.c.location_id == location_id, stock_t.c.status == status)
            )
        ).first()
        return 0 if row is None else int(row.qty)

    def at_location(self, location_id: str, status: str | None = None) -> int:
        """Units of every item at a location (optionally in one status)."""
        q = select(stock_t.c.qty).where(stock_t.c.location_id == location_id)
        if status is not None:
            q = q.where(stock_t.c.status == status)
        return sum(int(r.qty) for r in self.conn.execute(q))

    def of_item(self, item_id: str, status: str | None = None) -> list[tuple[str, str, int]]:
        """(location_id, status, qty) rows with stock of an item."""
        q = select(stock_t).where(stock_t.c.item_id == item_id, stock_t.c.qty != 0)
        if status is not None:
            q = q.where(stock_t.c.status == status)
        return [(r.location_id, r.status, int(r.qty)) for r in self.conn.execute(q)]

    def move(self, item_id: str, location_id: str, status: str, delta: int) -> int:
        """Add `delta` (signed) to a stock row, creating it, and remember the movement for the
        overlay (see edge_sync.overlay); return the new quantity."""
        insert = sqlite_insert(stock_t).values(item_id=item_id, location_id=location_id, status=status, qty=delta)
        upsert = insert.on_conflict_do_update(
            index_elements=[stock_t.c.item_id, stock_t.c.location_id, stock_t.c.status],
            set_={"qty": stock_t.c.qty + delta},
        ).returning(stock_t.c.qty)
        qty = int(self.conn.execute(upsert).scalar_one())
        overlay.record_move(self.conn, item_id, location_id, status, delta)
        return qty


_UPSERTS: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _upsert(conn: Connection, table: Table, key: list[str], rows: list[dict[str, object]]) -> None:
    """Insert or update `rows` by `key`; the statement is built once per table and column set."""
    if not rows:
        return
    columns = tuple(rows[0])
    cache_key = (table.name, tuple(key), columns)
    stmt = _UPSERTS.get(cache_key)
    if stmt is None:
        insert = sqlite_insert(table)
        cols = {c: insert.excluded[c] for c in columns if c not in key}
        stmt = insert.on_conflict_do_update(index_elements=key, set_=cols) if cols else insert.on_conflict_do_nothing()
        _UPSERTS[cache_key] = stmt
    for start in range(0, len(rows), 500):
        conn.execute(stmt, rows[start : start + 500])


def apply_items(conn: Connection, records: Iterable[contract.ItemRecord]) -> None:
    """Upsert items and replace their GTINs."""
    records = list(records)
    _upsert(conn, items_t, ["item_id"], [
        {"item_id": r.item_id, "sku": r.sku, "description": r.description, "unit": r.unit,
         "home_location_id": r.home_location_id} for r in records
    ])
    ids = [r.item_id for r in records]
    for start in range(0, len(ids), 500):
        conn.execute(delete(gtins_t).where(gtins_t.c.item_id.in_(ids[start : start + 500])))
    _upsert(conn, gtins_t, ["gtin"], [
        {"gtin": g, "item_id": r.item_id, "units": r.pack_sizes.get(g, 1)} for r in records for g in r.gtins
    ])


def apply_locations(conn: Connection, records: Iterable[contract.LocationRecord]) -> None:
    """Upsert locations."""
    _upsert(conn, locations_t, ["location_id"], [r.model_dump(mode="python") for r in records])


def apply_users(conn: Connection, records: Iterable[contract.UserRecord]) -> None:
    """Upsert users; PIN hashes are kept encrypted (edge_sync.crypto)."""
    cipher = crypto.cipher_for(conn)
    _upsert(conn, users_t, ["user_id"], [
        {**r.model_dump(mode="python"),
         "pin_hash": cipher.encrypt(r.pin_hash, table="users", column="pin_hash", row=r.user_id)}
        for r in records
    ])


def _apply_expected(conn: Connection, kind: str, doc_id: str, lines: list[contract.ExpectedLine]) -> None:
    conn.execute(delete(expected_t).where(expected_t.c.doc_kind == kind, expected_t.c.doc_id == doc_id))
    _upsert(conn, expected_t, ["doc_kind", "doc_id", "line_id"], [
        {"doc_kind": kind, "doc_id": doc_id, "line_id": ln.line_id, "item_id": ln.item_id, "gtin": ln.gtin,
         "qty": ln.qty} for ln in lines
    ])


def apply_purchase_orders(conn: Connection, records: Iterable[contract.PurchaseOrderRecord]) -> None:
    """Upsert POs and replace their expected lines."""
    for r in records:
        _upsert(conn, pos_t, ["po_id"], [{"po_id": r.po_id, "number": r.number, "supplier": r.supplier,
                                           "status": r.status, "expected_at": r.expected_at}])
        _apply_expected(conn, "po", r.po_id, r.lines)


def apply_asns(conn: Connection, records: Iterable[contract.AsnRecord]) -> None:
    """Upsert ASNs and replace their expected lines."""
    for r in records:
        _upsert(conn, asns_t, ["asn_id"], [{"asn_id": r.asn_id, "po_id": r.po_id, "number": r.number,
                                             "sscc": r.sscc, "status": r.status, "expected_at": r.expected_at}])
        _apply_expected(conn, "asn", r.asn_id, r.lines)


def apply_orders(conn: Connection, records: Iterable[contract.CustomerOrderRecord]) -> None:
    """Upsert customer orders and their lines (keeping the device's picked/short figures).

    The customer's name and phone (a pickup at the desk is matched by them) are kept encrypted.
    """
    cipher = crypto.cipher_for(conn)
    for r in records:
        _upsert(conn, orders_t, ["order_id"], [{"order_id": r.order_id, "number": r.number, "kind": r.kind.value,
                                                 "allow_substitution": r.allow_substitution, "status": r.status,
                                                 "due_at": r.due_at,
                                                 "customer_name": cipher.encrypt(r.customer_name, table="customer_orders",
                                                                                 column="customer_name", row=r.order_id),
                                                 "customer_phone": cipher.encrypt(r.customer_phone, table="customer_orders",
                                                                                  column="customer_phone", row=r.order_id)}])
        _upsert(conn, order_lines_t, ["order_id", "line_id"], [
            {"order_id": r.order_id, "line_id": ln.line_id, "item_id": ln.item_id, "qty": ln.qty} for ln in r.lines
        ])


def apply_tasks(conn: Connection, records: Iterable[contract.TaskRecord]) -> None:
    """Upsert tasks and their lines."""
    records = list(records)
    rows = []
    for r in records:
        row = r.model_dump(mode="python", exclude={"lines"})
        row["type"] = r.type.value
        row["status"] = r.status.value
        rows.append(row)
    _upsert(conn, tasks_t, ["task_id"], rows)
    _upsert(conn, task_lines_t, ["task_id", "line_id"], [
        {"task_id": r.task_id, **ln.model_dump(mode="python")} for r in records for ln in r.lines
    ])


def apply_balances(conn: Connection, records: Iterable[contract.BalanceRecord]) -> None:
    """Take the service's balances; what screens show keeps this device's unacknowledged moves."""
    overlay.set_server_balances(conn, ((r.item_id, r.location_id, r.status.value, r.qty) for r in records))


def apply_master_data(conn: Connection, data: contract.MasterData) -> None:
    """Load a whole store's master data and open documents into the local tables."""
    apply_locations(conn, data.locations)
    apply_items(conn, data.items)
    apply_users(conn, data.users)
    apply_purchase_orders(conn, data.purchase_orders)
    apply_asns(conn, data.asns)
    apply_orders(conn, data.orders)
    apply_tasks(conn, data.tasks)
    apply_balances(conn, data.opening_balances)
