"""Task handlers (create, assign, reprioritise, cancel, claim, release, complete) and "my tasks".

Each handler loads the task, runs the rule in `app.domain.tasks`, writes the task and appends its
`task.*` op in the bus's unit of work, so both commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from pydantic import BaseModel

from app.domain import tasks as rules
from app.domain.commands import (
    AssignTask,
    CancelTask,
    ClaimTask,
    Command,
    CompleteTask,
    CreateTask,
    ReleaseTask,
    ReprioritiseTask,
)
from app.domain.context import Actor
from app.domain.errors import InvalidState, NotFound
from app.services.bus import Handler, HandlerContext, Outcome
from edge_sync import contract as c
from edge_sync.repositories.counting import CountRepository
from edge_sync.repositories.master import MasterRepository
from edge_sync.repositories.picking import PickingRepository
from edge_sync.repositories.tasks import TaskLineRow, TaskRepository, TaskRow
from edge_sync.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """A task as the "my tasks" list shows it."""

    task_id: str
    type: str
    status: str
    priority: int
    title: str
    due_at: dt.datetime | None
    created_at: dt.datetime
    assignee_id: str | None
    line_count: int
    held_by_me: bool
    held_by: str | None
    """The name of whoever else holds a live lease on it, if anyone."""
    lease_until: dt.datetime | None


def snapshot(row: TaskRow) -> rules.TaskSnapshot:
    """The domain snapshot of a stored task."""
    return rules.TaskSnapshot(**{f.name: getattr(row, f.name) for f in fields(row)})


def to_row(task: rules.TaskSnapshot) -> TaskRow:
    """The stored form of a domain task."""
    return TaskRow(**{f.name: getattr(task, f.name) for f in fields(task)})


def name_lookup(master: MasterRepository) -> rules.NameOf:
    """A user-id-to-name function over the local users."""

    def name_of(user_id: str) -> str:
        user = master.user(user_id)
        return user.name if user is not None else user_id

    return name_of


def load_task(uow: UnitOfWork, task_id: str) -> rules.TaskSnapshot:
    """A task by id, or NotFound in words for the screen."""
    row = TaskRepository(uow.conn).get(task_id)
    if row is None:
        raise NotFound("This task is not on this handheld yet: sync, then try again")
    return snapshot(row)


def _op(uow: UnitOfWork, ctx: HandlerContext, cmd: Command, op_type: c.OpType, payload: BaseModel) -> int:
    appended = uow.append_op(
        op_type, payload, user_id=ctx.actor.user_id, session_id=ctx.actor.session_id,
        occurred_at=ctx.clock.now(), command_id=cmd.command_id,
    )
    return appended.seq


def _data(task: rules.TaskSnapshot, seq: int) -> dict[str, object]:
    return {"task_id": task.task_id, "status": task.status, "seq": seq}


def create_task(cmd: CreateTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """A manager creates a task."""
    master, repo = MasterRepository(uow.conn), TaskRepository(uow.conn)
    lines = tuple(
        rules.TaskLineSnapshot(line_id=ln.line_id, item_id=ln.item_id, location_id=ln.location_id, qty=ln.qty)
        for ln in cmd.lines
    )
    task = rules.new_task(
        ctx.actor, task_id=cmd.task_id, type=cmd.type, priority=cmd.priority, now=ctx.clock.now(), lines=lines,
        assignee_id=cmd.assignee_id, due_at=cmd.due_at, ref_id=cmd.ref_id, title=cmd.title,
    )
    if repo.get(cmd.task_id) is not None:
        raise InvalidState("A task with this id already exists")
    if cmd.assignee_id is not None and master.user(cmd.assignee_id) is None:
        raise NotFound("No such person on this handheld: pick someone from the list")
    repo.add(to_row(task), [
        TaskLineRow(task.task_id, ln.line_id, ln.item_id, ln.location_id, ln.qty, 0) for ln in lines
    ])
    seq = _op(uow, ctx, cmd, c.OpType.TASK_CREATE, c.TaskCreatePayload(
        task_id=task.task_id, type=c.TaskType(task.type), priority=task.priority, assignee_id=task.assignee_id,
        due_at=task.due_at, ref_id=task.ref_id, title=task.title,
        lines=[c.TaskLineSpec(line_id=ln.line_id, item_id=ln.item_id, location_id=ln.location_id, qty=ln.qty)
               for ln in lines],
    ))
    who = f" for {name_lookup(master)(task.assignee_id)}" if task.assignee_id else ""
    return Outcome(f"Task created{who}", _data(task, seq))


def assign_task(cmd: AssignTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """A manager assigns a task to someone, or to no one."""
    master = MasterRepository(uow.conn)
    task = rules.assign(load_task(uow, cmd.task_id), ctx.actor, cmd.assignee_id)
    if cmd.assignee_id is not None and master.user(cmd.assignee_id) is None:
        raise NotFound("No such person on this handheld: pick someone from the list")
    TaskRepository(uow.conn).save(to_row(task))
    seq = _op(uow, ctx, cmd, c.OpType.TASK_ASSIGN, c.TaskAssignPayload(task_id=task.task_id,
                                                                       assignee_id=task.assignee_id))
    if task.assignee_id is None:
        return Outcome("Task unassigned: anyone can take it", _data(task, seq))
    return Outcome(f"Task assigned to {name_lookup(master)(task.assignee_id)}", _data(task, seq))


def reprioritise_task(cmd: ReprioritiseTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """A manager changes a task's priority."""
    task = rules.reprioritise(load_task(uow, cmd.task_id), ctx.actor, cmd.priority)
    TaskRepository(uow.conn).save(to_row(task))
    seq = _op(uow, ctx, cmd, c.OpType.TASK_REPRIORITISE,
              c.TaskReprioritisePayload(task_id=task.task_id, priority=task.priority))
    return Outcome(f"Priority set to {task.priority}", _data(task, seq))


def cancel_task(cmd: CancelTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """A manager cancels a task, with a reason."""
    task, reason = rules.cancel(load_task(uow, cmd.task_id), ctx.actor, cmd.reason)
    TaskRepository(uow.conn).save(to_row(task))
    seq = _op(uow, ctx, cmd, c.OpType.TASK_CANCEL, c.TaskCancelPayload(task_id=task.task_id, reason=reason))
    return Outcome("Task cancelled", _data(task, seq))


def claim_task(cmd: ClaimTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """An associate takes (or renews) a task's lease."""
    before = load_task(uow, cmd.task_id)
    task = rules.claim(
        before, ctx.actor, now=ctx.clock.now(), lease_seconds=cmd.lease_seconds,
        max_lease_seconds=ctx.policy.max_lease_seconds, name_of=name_lookup(MasterRepository(uow.conn)),
    )
    assert task.lease_until is not None
    TaskRepository(uow.conn).save(to_row(task))
    seq = _op(uow, ctx, cmd, c.OpType.TASK_CLAIM, c.TaskClaimPayload(task_id=task.task_id,
                                                                     lease_until=task.lease_until))
    verb = "Still yours" if before.held_by(ctx.actor) and before.lease_live(ctx.clock.now()) else "Task is yours"
    return Outcome(f"{verb} until {rules.clock_time(task.lease_until)}",
                   {**_data(task, seq), "lease_until": task.lease_until.isoformat()})


def release_task(cmd: ReleaseTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """The holder gives a task back."""
    task = rules.release(load_task(uow, cmd.task_id), ctx.actor)
    TaskRepository(uow.conn).save(to_row(task))
    seq = _op(uow, ctx, cmd, c.OpType.TASK_RELEASE, c.TaskReleasePayload(task_id=task.task_id))
    return Outcome("Task released: someone else can take it", _data(task, seq))


def complete_task(cmd: CompleteTask, uow: UnitOfWork, ctx: HandlerContext) -> Outcome:
    """The holder (or a manager) finishes a task once nothing is left to do."""
    before = load_task(uow, cmd.task_id)
    if before.type == "pick" and before.status not in rules.CLOSED and _picked_not_staged(uow, before):
        raise InvalidState("Scan a staging location to finish: the picked units must be staged")
    task = rules.complete(
        before, ctx.actor, now=ctx.clock.now(), lines_left=lines_left(uow, before),
        name_of=name_lookup(MasterRepository(uow.conn)),
    )
    TaskRepository(uow.conn).save(to_row(task))
    seq = _op(uow, ctx, cmd, c.OpType.TASK_COMPLETE, c.TaskCompletePayload(task_id=task.task_id))
    return Outcome("Task done", _data(task, seq))


def lines_left(uow: UnitOfWork, task: rules.TaskSnapshot) -> int:
    """Lines of a pick or count task not finished yet (other tasks: 0).

    A pick line is finished when picked or declared short; a count line once a count for it was sent.
    """
    if task.type == "pick" and task.ref_id is not None:
        walk = PickingRepository(uow.conn).walk(task.task_id, task.ref_id)
        return sum(1 for ln in walk if ln.picked_qty + ln.short_qty < ln.qty)
    if task.type == "count":
        return sum(1 for ln in CountRepository(uow.conn).task_lines(task.task_id)
                   if ln.last_status not in ("provisional", "posted"))
    return 0


def _picked_not_staged(uow: UnitOfWork, task: rules.TaskSnapshot) -> bool:
    # Units picked for an order must reach a staging location (StageOrder finishes the task).
    if task.ref_id is None:
        return False
    repo = PickingRepository(uow.conn)
    order = repo.order(task.ref_id)
    picked = any(ln.picked_qty for ln in repo.walk(task.task_id, task.ref_id))
    return picked and order is not None and order.status != "staged"


def my_tasks(uow_factory: UnitOfWorkFactory, actor: Actor, now: dt.datetime, *,
             include_unassigned: bool = True) -> list[TaskSummary]:
    """The actor's unfinished tasks: most urgent first, then soonest due, then newest."""
    with uow_factory() as uow:
        name_of = name_lookup(MasterRepository(uow.conn))
        out = []
        for listed in TaskRepository(uow.conn).for_user(actor.user_id, include_unassigned=include_unassigned):
            task = snapshot(listed.task)
            mine = task.held_by(actor) and task.lease_live(now)
            other = task.lease_live(now) and not task.held_by(actor)
            out.append(TaskSummary(
                task_id=task.task_id, type=task.type, status=task.status, priority=task.priority, title=task.title,
                due_at=task.due_at, created_at=task.created_at, assignee_id=task.assignee_id,
                line_count=listed.line_count, held_by_me=mine,
                held_by=name_of(task.lease_holder_user_id) if other and task.lease_holder_user_id else None,
                lease_until=task.lease_until,
            ))
        return out


HANDLERS: dict[type[Command], Handler] = {
    CreateTask: create_task,
    AssignTask: assign_task,
    ReprioritiseTask: reprioritise_task,
    CancelTask: cancel_task,
    ClaimTask: claim_task,
    ReleaseTask: release_task,
    CompleteTask: complete_task,
}
