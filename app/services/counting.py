"""Count handler (RecordCount) and the count screens' queries.

The handler runs the rule in `app.domain.counting` (see its docstring for recounts and approvals),
stores the count, and, when the count is sent, appends the `count.record` op and adjusts local
`available` stock by the variance, all in the bus's unit of work. Blind counts never show the
expected figure: not in the outcome, not in the task lines, not in the op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.domain import counting as rules
from app.domain.commands import Command, RecordCount, TaskLineInput
from app.domain.context import Actor
from app.domain.errors import InvalidState, NotFound
from app.domain.tasks import require_manager, require_workable
from app.services.bus import Handler, HandlerContext, Outcome
from app.services.tasks import load_task, name_lookup
from edge_sync import contract as c
from edge_sync.repositories.counting import CountRepository, CountRow
from edge_sync.repositories.master import MasterRepository, StockRepository
from edge_sync.uow import UnitOfWork, UnitOfWorkFactory

AVAILABLE = c.StockStatus.AVAILABLE.value


@dataclass(frozen=True, slots=True)
class CountTaskLine:
    """A line of a count task as the screen shows it; `expected_qty` is None on blind counts."""

    line_id: str
    item_id: str
    item_description: str
    location_id: str
    location_code: str
    status: str | None
    """None (not counted yet), recount, pending_approval, provisional or posted."""
    counted_qty: int | None
    expected_qty: int | None


@dataclass(frozen=True, slots=True)
class CountAwaitingApproval:
    """A count a manager must approve, with what the device expected (managers only)."""

    count_id: str
    task_id: str | None
    item_id: str
    location_id: str
    counted_qty: int
    expected_qty: int
    variance: int
    attempt: int
    counted_at: dt.datetime


def _approver(master: MasterRepository, user_id: str | None) -> rules.Approver | None:
    if user_id is None:
        return None
    user = master.user(user_id)
    if user is None:
        raise NotFound("That badge is not a person we know: scan a manager's badge")
    return rules.Approver(user.user_id, user.name, user.role in ("manager", "admin"))


def record_count(cmd: RecordCount, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """Record a counted quantity: ask for a recount, wait for a manager, or send it."""
    now = ctx.clock.now()
    master, counts, stock = MasterRepository(uow.conn), CountRepository(uow.conn), StockRepository(uow.conn)
    location = master.location(cmd.location_id)
    item = master.item(cmd.item_id)
    if location is None or item is None:
        raise NotFound("This item or location is not on this handheld yet: sync, then try again")
    if cmd.task_id is not None:
        task = load_task(uow, cmd.task_id)
        if task.type != "count":
            raise InvalidState("This is not a count task")
        require_workable(task, ctx.actor, now, name_lookup(master))
    approver = _approver(master, cmd.approved_by)
    existing = counts.get(cmd.count_id)
    if existing is not None:
        same = (existing.location_id, existing.item_id, existing.counted_qty) == (
            cmd.location_id, cmd.item_id, cmd.counted_qty)
        if not same:
            raise InvalidState("This count is already recorded: start a new count")
        count = existing
        decision = rules.approve_pending(existing.status, _input(existing), approver, now=now)
        counts.set_status(count.count_id, decision.status, approved_by=decision.approved_by)
    else:
        expected = stock.qty(cmd.item_id, cmd.location_id, AVAILABLE)
        since = cmd.counted_at - rules.RECOUNT_WINDOW
        attempt = counts.open_attempts(cmd.location_id, cmd.item_id, since=since) + 1
        draft = rules.CountInput(cmd.counted_qty, expected, cmd.started_at, cmd.counted_at, attempt)
        decision = rules.decide(draft, ctx.policy, now=now, approver=approver)
        count = CountRow(
            count_id=cmd.count_id, task_id=cmd.task_id, location_id=cmd.location_id, item_id=cmd.item_id,
            attempt=decision.attempt, counted_qty=cmd.counted_qty, expected_qty=expected,
            started_at=cmd.started_at, counted_at=cmd.counted_at, status=decision.status,
            approved_by=decision.approved_by,
        )
        counts.add(count)
    data: dict[str, object] = {"count_id": count.count_id, "status": decision.status, "attempt": decision.attempt}
    if decision.send:
        counts.supersede_open(count.location_id, count.item_id, keep=count.count_id)
        if decision.adjustment:
            stock.move(count.item_id, count.location_id, AVAILABLE, decision.adjustment)
        appended = uow.append_op(
            c.OpType.COUNT_RECORD,
            c.CountRecordPayload(
                count_id=count.count_id, task_id=count.task_id, location_id=count.location_id,
                item_id=count.item_id, counted_qty=count.counted_qty, started_at=count.started_at,
                counted_at=count.counted_at, expected_qty=None if ctx.policy.blind_counts else count.expected_qty,
                attempt=decision.attempt, approved_by=decision.approved_by,
            ),
            user_id=ctx.actor.user_id, session_id=ctx.actor.session_id, occurred_at=now,
            command_id=cmd.command_id,
        )
        data["seq"] = appended.seq
    text = rules.message(decision, counted_qty=count.counted_qty, item=item.description, location_code=location.code)
    return Outcome(text, data)


def _input(row: CountRow) -> rules.CountInput:
    return rules.CountInput(row.counted_qty, row.expected_qty, row.started_at, row.counted_at, row.attempt)


def count_task_lines(uow_factory: UnitOfWorkFactory, task_id: str, *, blind: bool = True) -> list[CountTaskLine]:
    """A count task's lines in walk order, each with its latest count; no expected figure when blind."""
    with uow_factory() as uow:
        stock = StockRepository(uow.conn)
        return [
            CountTaskLine(
                line_id=ln.line_id, item_id=ln.item_id, item_description=ln.item_description,
                location_id=ln.location_id, location_code=ln.location_code, status=ln.last_status,
                counted_qty=ln.last_counted_qty,
                expected_qty=None if blind else stock.qty(ln.item_id, ln.location_id, AVAILABLE),
            )
            for ln in CountRepository(uow.conn).task_lines(task_id)
        ]


def counts_awaiting_approval(uow_factory: UnitOfWorkFactory, actor: Actor) -> list[CountAwaitingApproval]:
    """Counts waiting for a manager, oldest first, with their variance (managers only)."""
    require_manager(actor, "see counts waiting for approval")
    with uow_factory() as uow:
        return [
            CountAwaitingApproval(r.count_id, r.task_id, r.item_id, r.location_id, r.counted_qty, r.expected_qty,
                                  r.counted_qty - r.expected_qty, r.attempt, r.counted_at)
            for r in CountRepository(uow.conn).pending_approval()
        ]


def count_lines_for_location(uow_factory: UnitOfWorkFactory, location_id: str) -> tuple[TaskLineInput, ...]:
    """Lines for a count task by location: every item with stock there (or whose home it is)."""
    with uow_factory() as uow:
        master = MasterRepository(uow.conn)
        if master.location(location_id) is None:
            raise NotFound("No such location on this handheld")
        items = CountRepository(uow.conn).items_at(location_id)
        return tuple(TaskLineInput(line_id=str(i), item_id=item_id, location_id=location_id)
                     for i, item_id in enumerate(items, start=1))


def count_lines_for_item(uow_factory: UnitOfWorkFactory, item_id: str) -> tuple[TaskLineInput, ...]:
    """Lines for a count task by item: every location holding it available, and its home location."""
    with uow_factory() as uow:
        master = MasterRepository(uow.conn)
        item = master.item(item_id)
        if item is None:
            raise NotFound("No such item on this handheld")
        places = {loc for loc, _status, _qty in StockRepository(uow.conn).of_item(item_id, AVAILABLE)}
        if item.home_location_id:
            places.add(item.home_location_id)
        located = [master.location(p) for p in places]
        ordered = sorted((loc for loc in located if loc is not None), key=lambda loc: (loc.pick_sequence, loc.code))
        return tuple(TaskLineInput(line_id=str(i), item_id=item_id, location_id=loc.location_id)
                     for i, loc in enumerate(ordered, start=1))


HANDLERS: dict[type[Command], Handler] = {
    RecordCount: record_count,
}
