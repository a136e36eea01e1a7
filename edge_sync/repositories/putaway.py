"""Putaway on the device: locations with what they hold, and stock waiting to be put away."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Select, func, select

from edge_sync.repositories.master import items_t, locations_t, stock_t

RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """A location and the units of every item, in every status, it holds now."""

    location_id: str
    code: str
    zone: str
    kind: str
    pick_sequence: int
    capacity: int
    units: int


@dataclass(frozen=True, slots=True)
class AwaitingRow:
    """Units of an item in `received` status at a location, waiting to be put away."""

    item_id: str
    description: str
    location_id: str
    location_code: str
    qty: int


def _places() -> Select[tuple[object, ...]]:
    held = (
        select(stock_t.c.location_id, func.sum(stock_t.c.qty).label("units"))
        .group_by(stock_t.c.location_id)
        .subquery()
    )
    return (
        select(locations_t, func.coalesce(held.c.units, 0).label("units"))
        .outerjoin(held, held.c.location_id == locations_t.c.location_id)
    )


def _place(r: object) -> PlaceRow:
    m = r._mapping  # type: ignore[attr-defined]
    return PlaceRow(m["location_id"], m["code"], m["zone"], m["kind"], int(m["pick_sequence"]), int(m["capacity"]),
                    max(int(m["units"]), 0))


class PutawayRepository:
    """The SQL of the putaway workflow."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def place(self, location_id: str) -> PlaceRow | None:
        """A location by id, with what it holds."""
        r = self.conn.execute(_places().where(locations_t.c.location_id == location_id)).first()
        return None if r is None else _place(r)

    def place_by_code(self, code: str) -> PlaceRow | None:
        """A location by the code on its label (case and surrounding spaces ignored)."""
        r = self.conn.execute(_places().where(locations_t.c.code == code.strip().upper())).first()
        return None if r is None else _place(r)

    def places(self, *, kind: str, zone: str | None = None) -> list[PlaceRow]:
        """Locations of a kind (optionally in one zone), in pick-sequence order, with what they hold."""
        q = _places().where(locations_t.c.kind == kind)
        if zone is not None:
            q = q.where(locations_t.c.zone == zone)
        return [_place(r) for r in self.conn.execute(q.order_by(locations_t.c.pick_sequence, locations_t.c.code))]

    def awaiting(self, item_id: str | None = None) -> list[AwaitingRow]:
        """Stock in `received` status, by location pick sequence, then item description."""
        q = (
            select(stock_t.c.item_id, items_t.c.description, stock_t.c.location_id, locations_t.c.code,
                   stock_t.c.qty)
            .join(items_t, items_t.c.item_id == stock_t.c.item_id)
            .join(locations_t, locations_t.c.location_id == stock_t.c.location_id)
            .where(stock_t.c.status == RECEIVED, stock_t.c.qty > 0)
        )
        if item_id is not None:
            q = q.where(stock_t.c.item_id == item_id)
        rows = self.conn.execute(q.order_by(locations_t.c.pick_sequence, items_t.c.description))
        return [AwaitingRow(r.item_id, r.description, r.location_id, r.code, int(r.qty)) for r in rows]
