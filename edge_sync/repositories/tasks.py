"""Tasks and task lines on the device: the SQL behind the task rules and the "my tasks" list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from edge_sync.repositories.master import task_lines_t, tasks_t


OPEN_STATUSES = ("open", "assigned", "in_progress")


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task as stored (field names match app.domain.tasks.TaskSnapshot)."""

    task_id: str
    type: str
    status: str
    priority: int
    created_at: dt.datetime
    assignee_id: str | None = None
    due_at: dt.datetime | None = None
    ref_id: str | None = None
    title: str = ""
    lease_holder_device_id: str | None = None
    lease_holder_user_id: str | None = None
    lease_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskLineRow:
    """A task line as stored."""

    task_id: str
    line_id: str
    item_id: str | None
    location_id: str | None
    qty: int
    done_qty: int


@dataclass(frozen=True, slots=True)
class TaskListRow:
    """A task in a list, with how many lines it has."""

    task: TaskRow
    line_count: int


_TASK_FIELDS = (
    "task_id", "type", "status", "priority", "created_at", "assignee_id", "due_at", "ref_id", "title",
    "lease_holder_device_id", "lease_holder_user_id", "lease_until",
)


def _task(row: Any) -> TaskRow:
    m = row._mapping
    return TaskRow(**{f: m[f] for f in _TASK_FIELDS})


def _line(row: Any) -> TaskLineRow:
    m = row._mapping
    return TaskLineRow(m["task_id"], m["line_id"], m["item_id"], m["location_id"], int(m["qty"]), int(m["done_qty"]))


class TaskRepository:
    """Reads and writes tasks and their lines."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, task_id: str) -> TaskRow | None:
        """A task by id."""
        row = self.conn.execute(select(tasks_t).where(tasks_t.c.task_id == task_id)).first()
        return None if row is None else _task(row)

    def lines(self, task_id: str) -> list[TaskLineRow]:
        """A task's lines, by line id."""
        rows = self.conn.execute(
            select(task_lines_t).where(task_lines_t.c.task_id == task_id).order_by(task_lines_t.c.line_id)
        )
        return [_line(r) for r in rows]

    def add(self, task: TaskRow, lines: list[TaskLineRow]) -> None:
        """Insert a new task and its lines."""
        self.conn.execute(insert(tasks_t).values(**{f: getattr(task, f) for f in _TASK_FIELDS}))
        if lines:
            self.conn.execute(insert(task_lines_t), [
                {"task_id": ln.task_id, "line_id": ln.line_id, "item_id": ln.item_id, "location_id": ln.location_id,
                 "qty": ln.qty, "done_qty": ln.done_qty} for ln in lines
            ])

    def save(self, task: TaskRow) -> None:
        """Write a task's mutable fields (status, priority, assignee, lease)."""
        self.conn.execute(
            update(tasks_t).where(tasks_t.c.task_id == task.task_id).values(
                status=task.status, priority=task.priority, assignee_id=task.assignee_id,
                lease_holder_device_id=task.lease_holder_device_id,
                lease_holder_user_id=task.lease_holder_user_id, lease_until=task.lease_until,
            )
        )

    def add_done(self, task_id: str, line_id: str, units: int) -> None:
        """Add units to a task line's done quantity."""
        self.conn.execute(
            update(task_lines_t)
            .where(task_lines_t.c.task_id == task_id, task_lines_t.c.line_id == line_id)
            .values(done_qty=task_lines_t.c.done_qty + units)
        )

    def for_user(self, user_id: str, *, include_unassigned: bool = True) -> list[TaskListRow]:
        """Unfinished tasks assigned to or held by a user (and, optionally, open ones anyone may take).

        Sorted most urgent first, then soonest due (undated last), then newest.
        """
        mine = or_(tasks_t.c.assignee_id == user_id, tasks_t.c.lease_holder_user_id == user_id)
        if include_unassigned:
            mine = or_(mine, and_(tasks_t.c.assignee_id.is_(None), tasks_t.c.status == "open"))
        n_lines = (
            select(func.count()).where(task_lines_t.c.task_id == tasks_t.c.task_id).scalar_subquery().label("n")
        )
        rows = self.conn.execute(
            select(tasks_t, n_lines)
            .where(tasks_t.c.status.in_(OPEN_STATUSES), mine)
            .order_by(
                tasks_t.c.priority,
                tasks_t.c.due_at.is_(None),
                tasks_t.c.due_at,
                tasks_t.c.created_at.desc(),
                tasks_t.c.task_id,
            )
        )
        return [TaskListRow(task=_task(r), line_count=int(r.n)) for r in rows]
