"""Tasks: managers create, assign, reprioritise and cancel; associates claim with a lease,
release and complete. The REST endpoints and the task.* ops call these same functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edge_sync.contract import ChangeKind, TaskCreatePayload, TaskRecord, TaskStatus
from server_stub import tables as t
from server_stub.auth import Actor
from server_stub.authz import Action, allowed, require
from server_stub.errors import Conflict, LeaseHeld, NotFound
from server_stub.exceptions import raise_exception
from server_stub.records import task_record_from_row
from server_stub.txn import StoreTx

_CLOSED = (TaskStatus.DONE.value, TaskStatus.CANCELLED.value)


def get_task(conn: Connection, store_id: str, task_id: str) -> TaskRecord:
    """One task; NotFound when the store has no such task."""
    row = conn.execute(sa.select(t.tasks).where(t.tasks.c.store_id == store_id, t.tasks.c.task_id == task_id)).first()
    if row is None:
        raise NotFound(f"task {task_id} not found in store {store_id}")
    return task_record_from_row(row._mapping)


def list_tasks(
    conn: Connection,
    store_id: str,
    *,
    status: str | None = None,
    assignee_id: str | None = None,
    task_type: str | None = None,
    limit: int = 500,
) -> list[TaskRecord]:
    """The store's tasks, most urgent first, filtered."""
    tk = t.tasks
    query = sa.select(tk).where(tk.c.store_id == store_id)
    if status is not None:
        query = query.where(tk.c.status == status)
    if assignee_id is not None:
        query = query.where(tk.c.assignee_id == assignee_id)
    if task_type is not None:
        query = query.where(tk.c.type == task_type)
    query = query.order_by(tk.c.priority, tk.c.due_at, tk.c.created_at, tk.c.task_id).limit(limit)
    return [task_record_from_row(r._mapping) for r in conn.execute(query)]


def _save(tx: StoreTx, task_id: str, **values: Any) -> TaskRecord:
    tk = t.tasks
    tx.conn.execute(
        tk.update().where(tk.c.store_id == tx.store_id, tk.c.task_id == task_id).values(updated_at=tx.now, **values)
    )
    record = get_task(tx.conn, tx.store_id, task_id)
    tx.change(ChangeKind.TASK, task_id, record.model_dump(mode="json"))
    return record


def _open_task(tx: StoreTx, task_id: str, action: str) -> TaskRecord:
    task = get_task(tx.conn, tx.store_id, task_id)
    if task.status.value in _CLOSED:
        raise Conflict(f"task {task_id} is {task.status.value}; it cannot be {action}", status=task.status.value)
    return task


def create_task(tx: StoreTx, spec: TaskCreatePayload, actor: Actor) -> TaskRecord:
    """Create a task (manager)."""
    require(actor, Action.TASK_CREATE)
    exists = tx.conn.execute(
        sa.select(t.tasks.c.task_id).where(t.tasks.c.store_id == tx.store_id, t.tasks.c.task_id == spec.task_id)
    ).first()
    if exists is not None:
        raise Conflict(f"task {spec.task_id} already exists")
    tx.conn.execute(
        t.tasks.insert().values(
            store_id=tx.store_id,
            task_id=spec.task_id,
            type=spec.type.value,
            status=(TaskStatus.ASSIGNED if spec.assignee_id else TaskStatus.OPEN).value,
            priority=spec.priority,
            assignee_id=spec.assignee_id,
            due_at=spec.due_at,
            ref_id=spec.ref_id,
            title=spec.title,
            lines=[{**line.model_dump(mode="json"), "done_qty": 0} for line in spec.lines],
            created_at=tx.now,
            updated_at=tx.now,
        )
    )
    record = get_task(tx.conn, tx.store_id, spec.task_id)
    tx.change(ChangeKind.TASK, spec.task_id, record.model_dump(mode="json"))
    return record


def assign_task(tx: StoreTx, task_id: str, assignee_id: str | None, actor: Actor) -> TaskRecord:
    """Give a task to an associate, or back to the pool with None (manager)."""
    require(actor, Action.TASK_ASSIGN)
    task = _open_task(tx, task_id, "assigned")
    status = task.status.value
    if status != TaskStatus.IN_PROGRESS.value:
        status = (TaskStatus.ASSIGNED if assignee_id else TaskStatus.OPEN).value
    return _save(tx, task_id, assignee_id=assignee_id, status=status)


def reprioritise_task(tx: StoreTx, task_id: str, priority: int, actor: Actor) -> TaskRecord:
    """Change a task's priority, 1 most urgent (manager)."""
    require(actor, Action.TASK_REPRIORITISE)
    _open_task(tx, task_id, "reprioritised")
    return _save(tx, task_id, priority=priority)


def cancel_task(tx: StoreTx, task_id: str, reason: str, actor: Actor) -> TaskRecord:
    """Cancel a task that is not done (manager)."""
    require(actor, Action.TASK_CANCEL)
    _open_task(tx, task_id, "cancelled")
    return _save(
        tx, task_id, status=TaskStatus.CANCELLED.value, lease_device_id=None, lease_user_id=None, lease_until=None
    )


def _held_by_other(task: TaskRecord, actor: Actor, now: dt.datetime) -> bool:
    return (
        task.lease_until is not None
        and task.lease_until > now
        and task.lease_holder_device_id is not None
        and task.lease_holder_device_id != actor.device_id
    )


def claim_task(tx: StoreTx, task_id: str, actor: Actor, lease_until: dt.datetime) -> TaskRecord:
    """Take a task with a lease; LeaseHeld names the holder when another device has it."""
    task = _open_task(tx, task_id, "claimed")
    if _held_by_other(task, actor, tx.now):
        assert task.lease_until is not None
        raise LeaseHeld(task_id, task.lease_holder_device_id, task.lease_holder_user_id, task.lease_until)
    return _save(
        tx,
        task_id,
        status=TaskStatus.IN_PROGRESS.value,
        assignee_id=task.assignee_id or actor.user_id,
        lease_device_id=actor.device_id,
        lease_user_id=actor.user_id,
        lease_until=lease_until,
    )


def release_task(tx: StoreTx, task_id: str, actor: Actor) -> TaskRecord:
    """Give a claimed task back; only its holder (or a manager) may, while the lease runs."""
    task = _open_task(tx, task_id, "released")
    if _held_by_other(task, actor, tx.now) and not allowed(actor.role, Action.TASK_TAKE_OVER):
        assert task.lease_until is not None
        raise LeaseHeld(task_id, task.lease_holder_device_id, task.lease_holder_user_id, task.lease_until)
    status = (TaskStatus.ASSIGNED if task.assignee_id else TaskStatus.OPEN).value
    return _save(tx, task_id, status=status, lease_device_id=None, lease_user_id=None, lease_until=None)


def complete_task(tx: StoreTx, task_id: str, actor: Actor, *, op_id: Any = None) -> tuple[TaskRecord, str | None]:
    """Mark a task done. Work is a fact: a completion that clashes is recorded and raised, not refused."""
    task = get_task(tx.conn, tx.store_id, task_id)
    tk = t.tasks
    row = tx.conn.execute(
        sa.select(tk.c.completed_by_device_id).where(tk.c.store_id == tx.store_id, tk.c.task_id == task_id)
    ).scalar_one()
    who = {"op_id": op_id, "device_id": actor.device_id, "user_id": actor.user_id}
    if task.status is TaskStatus.CANCELLED:
        ex = raise_exception(
            tx, "task_completed_after_cancel", f"task {task_id} was completed by {actor.user_id} after it was cancelled",
            {"task_id": task_id}, **who,
        )
        return task, ex
    if task.status is TaskStatus.DONE:
        if row == actor.device_id:
            return task, None
        ex = raise_exception(
            tx, "task_worked_twice", f"task {task_id} was completed again by {actor.user_id} on {actor.device_id}",
            {"task_id": task_id, "first_completed_by_device_id": row}, **who,
        )
        return task, ex
    clash: str | None = None
    if _held_by_other(task, actor, tx.now):
        clash = raise_exception(
            tx, "task_worked_twice",
            f"task {task_id} was completed by {actor.user_id} on {actor.device_id} while "
            f"{task.lease_holder_user_id} on {task.lease_holder_device_id} held it",
            {"task_id": task_id, "holder_device_id": task.lease_holder_device_id, "holder_user_id": task.lease_holder_user_id},
            **who,
        )
    record = _save(
        tx, task_id, status=TaskStatus.DONE.value, lease_device_id=None, lease_user_id=None, lease_until=None,
        completed_by_device_id=actor.device_id,
    )
    return record, clash


def record_line_progress(tx: StoreTx, task_id: str | None, line_id: str | None, item_id: str, qty: int) -> None:
    """Add done quantity to a task line (matched by line_id, else by item), if the task has it."""
    if task_id is None:
        return
    tk = t.tasks
    lines = tx.conn.execute(
        sa.select(tk.c.lines).where(tk.c.store_id == tx.store_id, tk.c.task_id == task_id)
    ).scalar_one_or_none()
    if not lines:
        return
    for line in lines:
        if (line_id is not None and line.get("line_id") == line_id) or (line_id is None and line.get("item_id") == item_id):
            line["done_qty"] = min(1_000_000, int(line.get("done_qty", 0)) + qty)
            _save(tx, task_id, lines=[dict(x) for x in lines])
            return
