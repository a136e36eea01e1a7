"""Picking handlers (confirm a pick, declare a short, stage the order) and the pick walk query.

Each handler loads the task, its order and the walk, runs the rule in `app.domain.picking`, moves
local stock and appends its op in the bus's unit of work, so both commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from app.domain import picking as rules
from app.domain import tasks as task_rules
from app.domain.commands import Command, ConfirmPick, ShortPick, StageOrder
from app.domain.errors import InvalidState, NotFound
from app.services.bus import Handler, HandlerContext, Outcome
from app.services.tasks import load_task, name_lookup, to_row
from edge_sync import contract as c
from edge_sync.repositories.master import MasterRepository, StockRepository
from edge_sync.repositories.picking import PickingRepository
from edge_sync.repositories.tasks import TaskRepository
from edge_sync.uow import UnitOfWork, UnitOfWorkFactory

AVAILABLE = c.StockStatus.AVAILABLE.value
PICKED = c.StockStatus.PICKED.value
STAGED = c.StockStatus.STAGED.value


@dataclass(frozen=True, slots=True)
class PickWalkLine:
    """One stop of the pick walk as the screen shows it."""

    line_id: str
    item_id: str
    item_description: str
    location_id: str
    location_code: str
    qty: int
    picked_qty: int
    short_qty: int
    remaining: int
    substitute_item_id: str | None


@dataclass(frozen=True, slots=True)
class PickWalk:
    """A pick task's order and its lines in walk order."""

    task_id: str
    order_id: str
    order_number: str
    order_kind: str
    allow_substitution: bool
    order_status: str
    lines: list[PickWalkLine]

    @property
    def lines_left(self) -> int:
        """Lines with something still to pick or declare short."""
        return sum(1 for ln in self.lines if ln.remaining > 0)


@dataclass(frozen=True, slots=True)
class _Loaded:
    task: task_rules.TaskSnapshot
    order: rules.OrderSnapshot
    lines: list[rules.PickLineSnapshot]


def _load(uow: UnitOfWork, task_id: str) -> _Loaded:
    task = load_task(uow, task_id)
    if task.type != "pick" or task.ref_id is None:
        raise InvalidState("This is not a pick task")
    repo = PickingRepository(uow.conn)
    order = repo.order(task.ref_id)
    if order is None:
        raise NotFound("This task's order is not on this handheld yet: sync, then try again")
    lines = [
        rules.PickLineSnapshot(**{f.name: getattr(row, f.name) for f in fields(row)})
        for row in repo.walk(task.task_id, order.order_id)
    ]
    snap = rules.OrderSnapshot(order.order_id, order.number, order.kind, order.allow_substitution, order.status)
    return _Loaded(task, snap, rules.walk_order(lines))


def _line(loaded: _Loaded, line_id: str) -> rules.PickLineSnapshot:
    for ln in loaded.lines:
        if ln.line_id == line_id:
            return ln
    raise NotFound(f"Line {line_id} is not on order {loaded.order.number}")


def _ready(uow: UnitOfWork, ctx: HandlerContext, task_id: str) -> _Loaded:
    loaded = _load(uow, task_id)
    name_of = name_lookup(MasterRepository(uow.conn))
    rules.require_pick_task(loaded.task, ctx.actor, ctx.clock.now(), name_of)
    return loaded


def _scanned_location(master: MasterRepository, code: str) -> rules.ScannedLocation:
    loc = master.location_by_code(code)
    if loc is None:
        raise NotFound(f"{code.strip() or 'That'} is not a location here: scan the location label")
    return rules.ScannedLocation(loc.location_id, loc.code, loc.kind)


def confirm_pick(cmd: ConfirmPick, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Confirm units picked for an order line: location scanned, then item."""
    loaded = _ready(uow, ctx, cmd.task_id)
    line = _line(loaded, cmd.line_id)
    master = MasterRepository(uow.conn)
    location = _scanned_location(master, cmd.scanned_location_code)
    match = master.item_by_gtin(cmd.gtin)
    if match is None:
        raise NotFound("This barcode is not an item we know: scan the item's own barcode")
    scanned = rules.ScannedItem(match.item.item_id, match.item.description, match.units)
    decision = rules.confirm_pick(loaded.order, line, scanned_location=location, scanned_item=scanned,
                                  qty=cmd.qty, substitute=cmd.substitute)
    stock = StockRepository(uow.conn)
    stock.move(decision.item_id, line.location_id, AVAILABLE, -decision.units)
    stock.move(decision.item_id, line.location_id, PICKED, decision.units)
    picking = PickingRepository(uow.conn)
    picking.add_picked(loaded.order.order_id, line.line_id, decision.units,
                       substitute_item_id=decision.item_id if decision.substitute_for_item_id else None)
    if decision.substitute_for_item_id is None:
        TaskRepository(uow.conn).add_done(loaded.task.task_id, line.line_id, decision.units)
    if loaded.order.status == "open":
        picking.set_order_status(loaded.order.order_id, "picking")
    appended = uow.append_op(
        c.OpType.PICK_CONFIRM,
        c.PickConfirmPayload(task_id=loaded.task.task_id, order_id=loaded.order.order_id, line_id=line.line_id,
                             item_id=decision.item_id, location_id=line.location_id, qty=decision.units,
                             substitute_for_item_id=decision.substitute_for_item_id),
        user_id=ctx.actor.user_id, session_id=ctx.actor.session_id, occurred_at=ctx.clock.now(),
        command_id=cmd.command_id,
    )
    picked = line.picked_qty + decision.units
    what = f"{scanned.description} (substitute)" if decision.substitute_for_item_id else scanned.description
    return Outcome(f"Picked {decision.units} {what}: {picked} of {line.qty}",
                   {"task_id": loaded.task.task_id, "line_id": line.line_id, "units": decision.units,
                    "picked_qty": picked, "remaining": line.qty - picked - line.short_qty, "seq": appended.seq})


def short_pick(cmd: ShortPick, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Declare a line short, with a reason; the server raises it for the manager."""
    loaded = _ready(uow, ctx, cmd.task_id)
    line = _line(loaded, cmd.line_id)
    decision = rules.short_pick(loaded.order, line, short_qty=cmd.short_qty, reason=cmd.reason)
    PickingRepository(uow.conn).add_short(loaded.order.order_id, line.line_id, decision.short_qty)
    appended = uow.append_op(
        c.OpType.PICK_SHORT,
        c.PickShortPayload(task_id=loaded.task.task_id, order_id=loaded.order.order_id, line_id=line.line_id,
                           item_id=line.item_id, location_id=line.location_id or None,
                           short_qty=decision.short_qty, reason=decision.reason),
        user_id=ctx.actor.user_id, session_id=ctx.actor.session_id, occurred_at=ctx.clock.now(),
        command_id=cmd.command_id,
    )
    return Outcome(f"{decision.short_qty} {line.item_description} short: a manager will be told",
                   {"task_id": loaded.task.task_id, "line_id": line.line_id, "short_qty": decision.short_qty,
                    "remaining": line.remaining - decision.short_qty, "seq": appended.seq})


def stage_order(cmd: StageOrder, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Put the order's picked units at a staging location: the order is ready, the task done."""
    loaded = _ready(uow, ctx, cmd.task_id)
    master = MasterRepository(uow.conn)
    location = _scanned_location(master, cmd.scanned_location_code)
    staging = master.locations(kind=rules.STAGING)
    example = staging[0].code if staging else "STG-1"
    moves = rules.stage(loaded.order, loaded.lines, scanned_location=location, example_staging_code=example)
    stock = StockRepository(uow.conn)
    for m in moves:
        stock.move(m.item_id, m.from_location_id, PICKED, -m.qty)
        stock.move(m.item_id, location.location_id, STAGED, m.qty)
    PickingRepository(uow.conn).set_order_status(loaded.order.order_id, "staged")
    TaskRepository(uow.conn).save(to_row(task_rules.finished(loaded.task)))
    appended = uow.append_op(
        c.OpType.ORDER_STAGE,
        c.OrderStagePayload(task_id=loaded.task.task_id, order_id=loaded.order.order_id,
                            staging_location_id=location.location_id,
                            lines=[c.StagedLine(item_id=m.item_id, from_location_id=m.from_location_id, qty=m.qty)
                                   for m in moves]),
        user_id=ctx.actor.user_id, session_id=ctx.actor.session_id, occurred_at=ctx.clock.now(),
        command_id=cmd.command_id,
    )
    return Outcome(f"Order {loaded.order.number} staged at {location.code}: ready",
                   {"task_id": loaded.task.task_id, "order_id": loaded.order.order_id,
                    "staging_location_id": location.location_id, "seq": appended.seq})


def pick_walk(uow_factory: UnitOfWorkFactory, task_id: str) -> PickWalk:
    """A pick task's lines in walk order (location pick sequence), with what is left per line."""
    with uow_factory() as uow:
        loaded = _load(uow, task_id)
        o = loaded.order
        return PickWalk(
            task_id=loaded.task.task_id, order_id=o.order_id, order_number=o.number, order_kind=o.kind,
            allow_substitution=o.allow_substitution, order_status=o.status,
            lines=[PickWalkLine(ln.line_id, ln.item_id, ln.item_description, ln.location_id, ln.location_code,
                                ln.qty, ln.picked_qty, ln.short_qty, ln.remaining, ln.substitute_item_id)
                   for ln in loaded.lines],
        )


def next_stop(walk: PickWalk) -> PickWalkLine | None:
    """The first line of the walk with something left, or None when all are picked or short."""
    return next((ln for ln in walk.lines if ln.remaining > 0), None)


HANDLERS: dict[type[Command], Handler] = {
    ConfirmPick: confirm_pick,
    ShortPick: short_pick,
    StageOrder: stage_order,
}
