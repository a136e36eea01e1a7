"""Tasks: who may create, assign, take and finish work, as pure rules.

Managers create, assign, reprioritise and cancel tasks; associates claim a task with a lease that
expires, renew it by claiming again, and release or complete it. A task moves

    open / assigned  --claim-->  in_progress  --complete-->  done
          ^                           |
          +---------release-----------+          any of them --cancel--> cancelled

A live lease belongs to one user on one device: a second claimer (another person, or the same
person on another handheld) is told who holds the task and until when, because two devices working
one task offline would move the same units twice. An expired lease can be taken by anyone.
Assigning a task to someone (or to no one) takes it back from whoever held it.

Every function here takes plain snapshots and returns the new snapshot, or raises a DomainError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from app.domain.context import Actor
from app.domain.errors import DomainError, InvalidState, NotAllowed

OPEN: Final = "open"
ASSIGNED: Final = "assigned"
IN_PROGRESS: Final = "in_progress"
DONE: Final = "done"
CANCELLED: Final = "cancelled"
CLOSED: Final = frozenset({DONE, CANCELLED})

TASK_TYPES: Final = ("receive", "putaway", "count", "pick")
MAX_TEXT: Final = 500

NameOf = Callable[[str], str]
"""Turns a user id into the name a person recognises (the id itself when unknown)."""


@dataclass(frozen=True, slots=True)
class TaskLineSnapshot:
    """One line of a task: an item at a location, and how much of it is done."""

    line_id: str
    item_id: str | None = None
    location_id: str | None = None
    qty: int = 0
    done_qty: int = 0


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """A task as the rules see it."""

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

    def lease_live(self, now: dt.datetime) -> bool:
        """True while someone's lease on the task has not expired."""
        return self.lease_holder_user_id is not None and self.lease_until is not None and self.lease_until > now

    def held_by(self, actor: Actor) -> bool:
        """True when `actor` (this user on this device) holds the lease, live or expired."""
        return self.lease_holder_user_id == actor.user_id and self.lease_holder_device_id == actor.device_id


def clock_time(at: dt.datetime) -> str:
    """A time as a handheld shows it, e.g. "14:32"."""
    return at.strftime("%H:%M")


def require_manager(actor: Actor, action: str) -> None:
    """Refuse unless `actor` is a manager or admin; `action` completes "Only a manager can ..."."""
    if not actor.is_manager:
        raise NotAllowed(f"Only a manager can {action}")


def require_not_closed(task: TaskSnapshot) -> None:
    """Refuse any change to a done or cancelled task."""
    if task.status == DONE:
        raise InvalidState(f"{_label(task)} is already done")
    if task.status == CANCELLED:
        raise InvalidState(f"{_label(task)} was cancelled")


def require_workable(task: TaskSnapshot, actor: Actor, now: dt.datetime, name_of: NameOf) -> None:
    """Refuse work on a closed task or on one someone else holds a live lease on."""
    require_not_closed(task)
    if task.lease_live(now) and not task.held_by(actor):
        raise InvalidState(_held_message(task, actor, name_of))


def check_priority(priority: int) -> int:
    """A priority from 1 (most urgent) to 5."""
    if not 1 <= priority <= 5:
        raise DomainError("Pick a priority from 1 (most urgent) to 5", code="invalid_input")
    return priority


def check_text(text: str, what: str) -> str:
    """Free text a person typed: trimmed, at most MAX_TEXT characters."""
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise DomainError(f"Keep the {what} under {MAX_TEXT} characters", code="invalid_input")
    return text


def new_task(
    actor: Actor,
    *,
    task_id: str,
    type: str,
    priority: int,
    now: dt.datetime,
    lines: tuple[TaskLineSnapshot, ...] = (),
    assignee_id: str | None = None,
    due_at: dt.datetime | None = None,
    ref_id: str | None = None,
    title: str = "",
) -> TaskSnapshot:
    """A manager's new task: open, or assigned when it names someone."""
    require_manager(actor, "create tasks")
    if type not in TASK_TYPES:
        raise DomainError(f"Unknown task type {type!r}: use one of {', '.join(TASK_TYPES)}", code="invalid_input")
    if due_at is not None and due_at.tzinfo is None:
        raise DomainError("The due time needs a time zone", code="invalid_input")
    ids = [ln.line_id for ln in lines]
    if len(set(ids)) != len(ids):
        raise DomainError("Two lines have the same line number", code="invalid_input")
    if any(ln.qty < 0 for ln in lines):
        raise DomainError("A line quantity cannot be negative", code="invalid_input")
    return TaskSnapshot(
        task_id=task_id,
        type=type,
        status=ASSIGNED if assignee_id else OPEN,
        priority=check_priority(priority),
        created_at=now,
        assignee_id=assignee_id,
        due_at=due_at,
        ref_id=ref_id,
        title=check_text(title, "title"),
    )


def assign(task: TaskSnapshot, actor: Actor, assignee_id: str | None) -> TaskSnapshot:
    """Give the task to someone (or to no one); whoever held it loses the lease."""
    require_manager(actor, "assign tasks")
    require_not_closed(task)
    return _unleased(replace(task, assignee_id=assignee_id, status=ASSIGNED if assignee_id else OPEN))


def reprioritise(task: TaskSnapshot, actor: Actor, priority: int) -> TaskSnapshot:
    """Change how urgent a task is."""
    require_manager(actor, "change a task's priority")
    require_not_closed(task)
    return replace(task, priority=check_priority(priority))


def cancel(task: TaskSnapshot, actor: Actor, reason: str) -> tuple[TaskSnapshot, str]:
    """Cancel a task; returns the cancelled task and the trimmed reason."""
    require_manager(actor, "cancel tasks")
    require_not_closed(task)
    reason = check_text(reason, "reason")
    if not reason:
        raise DomainError("Say why the task is cancelled", code="invalid_input")
    return _unleased(replace(task, status=CANCELLED)), reason


def claim(
    task: TaskSnapshot,
    actor: Actor,
    *,
    now: dt.datetime,
    lease_seconds: int,
    max_lease_seconds: int,
    name_of: NameOf,
) -> TaskSnapshot:
    """Take (or renew) the lease on a task until now + lease_seconds."""
    require_not_closed(task)
    if not 0 < lease_seconds <= max_lease_seconds:
        hours = max_lease_seconds // 3600
        raise DomainError(f"A task can be held for 1 second to {hours} hours", code="invalid_input")
    if task.lease_live(now) and not task.held_by(actor):
        raise InvalidState(_held_message(task, actor, name_of))
    if task.assignee_id not in (None, actor.user_id) and not actor.is_manager:
        raise NotAllowed(f"This task is assigned to {name_of(task.assignee_id)}: ask a manager to reassign it")
    return replace(
        task,
        status=IN_PROGRESS,
        lease_holder_user_id=actor.user_id,
        lease_holder_device_id=actor.device_id,
        lease_until=now + dt.timedelta(seconds=lease_seconds),
    )


def release(task: TaskSnapshot, actor: Actor) -> TaskSnapshot:
    """Give a held task back: it is assigned again, or open to anyone."""
    require_not_closed(task)
    if not task.held_by(actor):
        raise NotAllowed("Only the person holding this task can release it")
    return _unleased(replace(task, status=ASSIGNED if task.assignee_id else OPEN))


def complete(task: TaskSnapshot, actor: Actor, *, now: dt.datetime, lines_left: int, name_of: NameOf) -> TaskSnapshot:
    """Finish a task: its holder (or a manager) once nothing is left to do."""
    require_not_closed(task)
    if not (task.held_by(actor) or actor.is_manager):
        if task.lease_live(now):
            raise NotAllowed(_held_message(task, actor, name_of))
        raise NotAllowed("Take the task first: only the person holding it can finish it")
    if lines_left > 0:
        raise InvalidState(f"{lines_left} {'line' if lines_left == 1 else 'lines'} still to do")
    return _unleased(replace(task, status=DONE))


def finished(task: TaskSnapshot) -> TaskSnapshot:
    """The task done by its workflow (an order staged): lease cleared."""
    return _unleased(replace(task, status=DONE))


def urgency_key(task: TaskSnapshot) -> tuple[int, int, dt.datetime, float]:
    """Sort key: most urgent first, then soonest due (undated last), then newest."""
    due_missing = 1 if task.due_at is None else 0
    due = task.due_at or dt.datetime.max.replace(tzinfo=dt.UTC)
    return (task.priority, due_missing, due, -task.created_at.timestamp())


def _unleased(task: TaskSnapshot) -> TaskSnapshot:
    return replace(task, lease_holder_user_id=None, lease_holder_device_id=None, lease_until=None)


def _label(task: TaskSnapshot) -> str:
    return f"Task {task.title}" if task.title else "This task"


def _held_message(task: TaskSnapshot, actor: Actor, name_of: NameOf) -> str:
    assert task.lease_holder_user_id is not None and task.lease_until is not None
    until = clock_time(task.lease_until)
    if task.lease_holder_user_id == actor.user_id:
        return f"You hold this task on another handheld until {until}: release it there first"
    return f"Task held by {name_of(task.lease_holder_user_id)} until {until}"
