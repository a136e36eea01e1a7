"""Customer orders and the pick walk on the device.

A pick task's lines carry the same line ids as its order's lines (the task's `ref_id` is the
order). The walk joins them: the task line says where to pick and how many of the ordered item
were picked (`done_qty`); the order line says how many units went into the order for that line,
substitutes included (`picked_qty`), and how many were declared short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from edge_sync.repositories.master import items_t, locations_t, order_lines_t, orders_t, task_lines_t



@dataclass(frozen=True, slots=True)
class OrderRow:
    """A customer order's header."""

    order_id: str
    number: str
    kind: str
    allow_substitution: bool
    status: str


@dataclass(frozen=True, slots=True)
class PickLineRow:
    """One line of a pick walk (field names match app.domain.picking.PickLineSnapshot)."""

    line_id: str
    item_id: str
    item_description: str
    location_id: str
    location_code: str
    pick_sequence: int
    qty: int
    done_qty: int
    picked_qty: int
    short_qty: int
    substitute_item_id: str | None


def _order(row: Any) -> OrderRow:
    m = row._mapping
    return OrderRow(m["order_id"], m["number"], m["kind"], bool(m["allow_substitution"]), m["status"])


class PickingRepository:
    """Reads and writes orders, order lines and the pick walk."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def order(self, order_id: str) -> OrderRow | None:
        """An order by id."""
        row = self.conn.execute(select(orders_t).where(orders_t.c.order_id == order_id)).first()
        return None if row is None else _order(row)

    def walk(self, task_id: str, order_id: str) -> list[PickLineRow]:
        """The task's lines joined to its order's, in location pick-sequence order."""
        ol = order_lines_t
        rows = self.conn.execute(
            select(
                task_lines_t.c.line_id,
                ol.c.item_id,
                items_t.c.description,
                task_lines_t.c.location_id,
                locations_t.c.code,
                locations_t.c.pick_sequence,
                ol.c.qty,
                task_lines_t.c.done_qty,
                ol.c.picked_qty,
                ol.c.short_qty,
                ol.c.substitute_item_id,
            )
            .select_from(task_lines_t)
            .join(ol, (ol.c.order_id == order_id) & (ol.c.line_id == task_lines_t.c.line_id))
            .outerjoin(items_t, items_t.c.item_id == ol.c.item_id)
            .outerjoin(locations_t, locations_t.c.location_id == task_lines_t.c.location_id)
            .where(task_lines_t.c.task_id == task_id)
            .order_by(locations_t.c.pick_sequence, locations_t.c.code, task_lines_t.c.line_id)
        )
        return [
            PickLineRow(
                line_id=r.line_id,
                item_id=r.item_id,
                item_description=r.description or r.item_id,
                location_id=r.location_id or "",
                location_code=r.code or "?",
                pick_sequence=int(r.pick_sequence or 0),
                qty=int(r.qty),
                done_qty=int(r.done_qty),
                picked_qty=int(r.picked_qty),
                short_qty=int(r.short_qty),
                substitute_item_id=r.substitute_item_id,
            )
            for r in rows
        ]

    def add_picked(self, order_id: str, line_id: str, units: int, *, substitute_item_id: str | None = None) -> None:
        """Add units to an order line's picked quantity (recording the substitute, if one)."""
        values: dict[str, Any] = {"picked_qty": order_lines_t.c.picked_qty + units}
        if substitute_item_id is not None:
            values["substitute_item_id"] = substitute_item_id
        self.conn.execute(
            update(order_lines_t)
            .where(order_lines_t.c.order_id == order_id, order_lines_t.c.line_id == line_id)
            .values(**values)
        )

    def add_short(self, order_id: str, line_id: str, qty: int) -> None:
        """Add units to an order line's short quantity."""
        self.conn.execute(
            update(order_lines_t)
            .where(order_lines_t.c.order_id == order_id, order_lines_t.c.line_id == line_id)
            .values(short_qty=order_lines_t.c.short_qty + qty)
        )

    def set_order_status(self, order_id: str, status: str) -> None:
        """Set an order's status (open, picking, staged, ...)."""
        self.conn.execute(update(orders_t).where(orders_t.c.order_id == order_id).values(status=status))
