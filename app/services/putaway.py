"""Putaway handler and queries: what waits on the dock, where it should go, and confirming it went.

`confirm_putaway` moves units from `received` at the dock to `available` at the scanned location
and appends `putaway.confirm` in the same unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from app.domain import putaway as rules
from app.domain.commands import Command, ConfirmPutaway
from app.domain.errors import DomainError, NotFound
from app.domain.putaway import Suggestion
from app.services.bus import Handler, HandlerContext, Outcome
from app.services.receiving import read_connection
from edge_sync.contract import OpType, PutawayConfirmPayload
from edge_sync.repositories.master import MasterRepository, StockRepository
from edge_sync.repositories.putaway import PlaceRow, PutawayRepository
from edge_sync.uow import UnitOfWork

__all__ = ["AwaitingPutaway", "Suggestion", "awaiting_putaway", "confirm_putaway", "suggest_putaway", "HANDLERS"]

RECEIVED = "received"
AVAILABLE = "available"


@dataclass(frozen=True, slots=True)
class AwaitingPutaway:
    """A line of the putaway list: units of an item waiting at a location, and where they should go."""

    item_id: str
    description: str
    from_location_id: str
    from_code: str
    qty: int
    suggestion: Suggestion


def _place(row: PlaceRow) -> rules.Place:
    return rules.Place(row.location_id, row.code, row.zone, row.kind, row.pick_sequence, row.capacity, row.units)


def _suggest(conn: Connection, item_id: str, qty: int) -> Suggestion:
    item = MasterRepository(conn).item(item_id)
    if item is None:
        raise NotFound(f"Unknown item {item_id}: sync, or ask a manager")
    repo = PutawayRepository(conn)
    home_row = repo.place(item.home_location_id) if item.home_location_id else None
    home = _place(home_row) if home_row else None
    zone = [_place(p) for p in repo.places(kind="shelf", zone=home.zone)] if home else []
    backrooms = [_place(p) for p in repo.places(kind="backroom")]
    return rules.suggest(home, zone, backrooms, qty)


def suggest_putaway(source: UnitOfWork | Engine, item_id: str, qty: int) -> Suggestion:
    """Where `qty` received units of an item should go, with the reason to show."""
    with read_connection(source) as conn:
        return _suggest(conn, item_id, qty)


def awaiting_putaway(source: UnitOfWork | Engine, item_id: str | None = None) -> list[AwaitingPutaway]:
    """Stock in `received` status waiting to be put away, each with its suggested location."""
    with read_connection(source) as conn:
        return [
            AwaitingPutaway(a.item_id, a.description, a.location_id, a.location_code, a.qty,
                            _suggest(conn, a.item_id, a.qty))
            for a in PutawayRepository(conn).awaiting(item_id)
        ]


def confirm_putaway(cmd: ConfirmPutaway, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Confirm received units were put at the scanned location: they become available there."""
    rules.check_qty(cmd.qty)
    master = MasterRepository(uow.conn)
    repo = PutawayRepository(uow.conn)
    stock = StockRepository(uow.conn)
    item = master.item(cmd.item_id)
    if item is None:
        raise NotFound(f"Unknown item {cmd.item_id}: sync, or ask a manager")
    source = master.location(cmd.from_location_id)
    if source is None:
        raise NotFound(f"No location {cmd.from_location_id}: pick the stock from the putaway list")
    scanned_row = repo.place_by_code(cmd.scanned_location_code)
    if cmd.suggested_location_id is not None:
        suggested_row = repo.place(cmd.suggested_location_id)
        suggested = _place(suggested_row) if suggested_row else None
    else:
        try:
            suggested = _suggest(uow.conn, item.item_id, cmd.qty).location
        except DomainError:
            suggested = None  # nowhere to suggest: any valid scan is taken as it is
    done = rules.confirm(
        item_id=item.item_id,
        description=item.description,
        qty=cmd.qty,
        from_location_id=source.location_id,
        from_code=source.code,
        waiting=stock.qty(item.item_id, source.location_id, RECEIVED),
        scanned_code=cmd.scanned_location_code,
        scanned=_place(scanned_row) if scanned_row else None,
        suggested=suggested,
        override_reason=cmd.override_reason,
    )
    stock.move(item.item_id, source.location_id, RECEIVED, -done.qty)
    stock.move(item.item_id, done.to.location_id, AVAILABLE, done.qty)
    payload = PutawayConfirmPayload(
        item_id=item.item_id, qty=done.qty, from_location_id=source.location_id, to_location_id=done.to.location_id,
        suggested_location_id=done.suggested_location_id, override_reason=done.override_reason, task_id=cmd.task_id,
    )
    uow.append_op(OpType.PUTAWAY_CONFIRM, payload, user_id=ctx.actor.user_id, session_id=ctx.actor.session_id,
                  occurred_at=ctx.clock.now(), command_id=cmd.command_id)
    return Outcome(done.message, {
        "item_id": item.item_id, "qty": done.qty, "from_location_id": source.location_id,
        "to_location_id": done.to.location_id, "to_code": done.to.code,
        "suggested_location_id": done.suggested_location_id, "override_reason": done.override_reason,
        "over_capacity": done.over_capacity,
    })


HANDLERS: dict[type[Command], Handler] = {
    ConfirmPutaway: confirm_putaway,
}
