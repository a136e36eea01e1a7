"""Load a store's master data and open documents into the service, in one transaction.

Used by the seed generator, the CSV/JSON importers and the benchmarks. Records are upserted by id
(loading the same data twice changes nothing but `updated_at`), and each one is appended to the
change feed. Opening balances are posted to the ledger as the difference to the current balance,
so a reload sets the balance again instead of adding to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from edge_sync.contract import ChangeKind, MasterData
from server_stub import tables as t
from server_stub.db import upsert, write_transaction
from server_stub.records import task_row_from_record
from server_stub.txn import StoreTx

OPENING = "opening"
"""The ledger reason of an opening balance."""

OPENING_AS_OF = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""When opening balances take effect by default: before anything a device can report, so a count
or a sale dated before the load still finds the opening stock in `balance_as_of`."""


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What one load wrote."""

    store_id: str
    items: int
    locations: int
    purchase_orders: int
    asns: int
    orders: int
    tasks: int
    users: int
    opening_balances: int
    """Ledger entries posted (a balance already at its opening figure posts nothing)."""
    changes: int


def _chunks(rows: Sequence[dict[str, Any]], size: int = 1000) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _put(tx: StoreTx, table: sa.Table, rows: list[dict[str, Any]], key: Sequence[str], **kw: Any) -> None:
    for row in rows:
        row["store_id"] = tx.store_id
    for chunk in _chunks(rows):
        upsert(tx.conn, table, chunk, ["store_id", *key], **kw)


def load_master_data(engine: Engine, data: MasterData, *, opening_as_of: dt.datetime = OPENING_AS_OF) -> LoadReport:
    """Write a store's master data, open documents and opening balances, all or nothing."""
    with write_transaction(engine) as conn:
        tx = StoreTx(conn, data.store_id)
        tx.lock_store()
        tx.new_master_version()
        change_before = tx.counter("change_seq")
        now = tx.now

        _put(
            tx,
            t.items,
            [{"item_id": i.item_id, "sku": i.sku, "data": i.model_dump(mode="json"), "updated_at": now} for i in data.items],
            ["item_id"],
        )
        item_ids = [i.item_id for i in data.items]
        for start in range(0, len(item_ids), 500):
            tx.conn.execute(
                t.item_gtins.delete().where(
                    t.item_gtins.c.store_id == tx.store_id, t.item_gtins.c.item_id.in_(item_ids[start : start + 500])
                )
            )
        _put(
            tx,
            t.item_gtins,
            [
                {"gtin": g, "item_id": i.item_id, "pack_qty": i.pack_sizes.get(g, 1)}
                for i in data.items
                for g in dict.fromkeys([*i.gtins, *i.pack_sizes])
            ],
            ["gtin"],
        )
        _put(
            tx,
            t.locations,
            [
                {
                    "location_id": loc.location_id,
                    "code": loc.code,
                    "kind": loc.kind.value,
                    "capacity": loc.capacity,
                    "data": loc.model_dump(mode="json"),
                    "updated_at": now,
                }
                for loc in data.locations
            ],
            ["location_id"],
        )
        _put(
            tx,
            t.users,
            [{"user_id": u.user_id, "role": u.role.value, "data": u.model_dump(mode="json"), "updated_at": now} for u in data.users],
            ["user_id"],
        )
        _put(
            tx,
            t.purchase_orders,
            [{"po_id": p.po_id, "status": p.status, "data": p.model_dump(mode="json"), "updated_at": now} for p in data.purchase_orders],
            ["po_id"],
        )
        _put(
            tx,
            t.asns,
            [
                {"asn_id": a.asn_id, "po_id": a.po_id, "status": a.status, "data": a.model_dump(mode="json"), "updated_at": now}
                for a in data.asns
            ],
            ["asn_id"],
        )
        _put(
            tx,
            t.orders,
            [
                {
                    "order_id": o.order_id,
                    "status": o.status,
                    "allow_substitution": o.allow_substitution,
                    "data": o.model_dump(mode="json"),
                    "updated_at": now,
                }
                for o in data.orders
            ],
            ["order_id"],
        )
        # Progress on a line (picked, short, staged) survives a reload of the order.
        _put(
            tx,
            t.order_lines,
            [
                {"order_id": o.order_id, "line_id": line.line_id, "item_id": line.item_id, "qty": line.qty}
                for o in data.orders
                for line in o.lines
            ],
            ["order_id", "line_id"],
        )
        _put(tx, t.tasks, [task_row_from_record(task, now) for task in data.tasks], ["task_id"])

        for kind, records, key in (
            (ChangeKind.ITEM, data.items, "item_id"),
            (ChangeKind.LOCATION, data.locations, "location_id"),
            (ChangeKind.USER, data.users, "user_id"),
            (ChangeKind.PURCHASE_ORDER, data.purchase_orders, "po_id"),
            (ChangeKind.ASN, data.asns, "asn_id"),
            (ChangeKind.ORDER, data.orders, "order_id"),
            (ChangeKind.TASK, data.tasks, "task_id"),
        ):
            for record in records:
                tx.change(kind, getattr(record, key), record.model_dump(mode="json"))

        postings = _post_opening_balances(tx, data, opening_as_of)
        tx.finish()
        changes_written = tx.counter("change_seq") - change_before
    return LoadReport(
        store_id=data.store_id,
        items=len(data.items),
        locations=len(data.locations),
        purchase_orders=len(data.purchase_orders),
        asns=len(data.asns),
        orders=len(data.orders),
        tasks=len(data.tasks),
        users=len(data.users),
        opening_balances=postings,
        changes=changes_written,
    )


def _post_opening_balances(tx: StoreTx, data: MasterData, as_of: dt.datetime) -> int:
    if not data.opening_balances:
        return 0
    current = tx.current_balances({(b.item_id, b.location_id, b.status.value) for b in data.opening_balances})
    posted = 0
    for b in data.opening_balances:
        key = (b.item_id, b.location_id, b.status.value)
        delta = b.qty - current[key]
        current[key] = b.qty
        if delta:
            tx.post(b.item_id, b.location_id, b.status.value, delta, effective_at=as_of, reason=OPENING)
            posted += 1
    return posted
