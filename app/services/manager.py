"""The manager tablet's side of the device: sign-in with a manager badge, and what the tablet itself knows.

The tablet is a device like a handheld: its task commands go through the bus and the outbox
(`app.services.tasks`). These reads give the board what the tablet holds locally: the store's
people (for assigning), the tasks as last pulled, and which tasks it changed that the service has
not taken yet. Store-wide reads go to the service (`edge_sync.supervision`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from app.domain.context import Actor, Clock, SystemClock
from app.domain.errors import NotAllowed
from app.services import people
from edge_sync.contract import TaskRecord, TaskStatus, TaskType
from edge_sync.db import driver
from edge_sync.repositories.master import tasks_t, users_t
from edge_sync.uow import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Person:
    """Someone a task can be given to."""

    user_id: str
    name: str
    role: str


def sign_in_manager(
    uow_factory: UnitOfWorkFactory,
    badge: str,
    *,
    device_id: str,
    clock: Clock | None = None,
    online: people.SessionRegistrar | None = None,
) -> tuple[Actor, str]:
    """Sign in by badge, refusing anyone who is not a manager or admin.

    With `online` (the service is wired), the session is registered with the service, so it counts
    as started online (12 h) and the service lets it read store-wide data at once. A refused badge
    leaves no open session behind on the tablet.
    """
    clock = clock or SystemClock()
    actor, name = people.sign_in_by_badge(uow_factory, badge, device_id=device_id, clock=clock, online=online)
    if not actor.is_manager:
        people.sign_out(uow_factory, actor, clock.now())
        raise NotAllowed(
            f"{name} signs in as an associate: the manager tablet needs a manager's badge. "
            "Use a handheld for your tasks."
        )
    return actor, name


def store_people(uow_factory: UnitOfWorkFactory) -> list[Person]:
    """The store's people as last pulled, by name."""
    with uow_factory() as uow:
        rows = uow.conn.execute(select(users_t.c.user_id, users_t.c.name, users_t.c.role)).all()
    return sorted((Person(u, n, r) for u, n, r in rows), key=lambda p: (p.name.lower(), p.user_id))


def local_tasks(uow_factory: UnitOfWorkFactory) -> list[TaskRecord]:
    """Every task on this device: as last pulled, with this device's own changes on top."""
    with uow_factory() as uow:
        rows = uow.conn.execute(select(tasks_t)).all()
    return [
        TaskRecord(
            task_id=r.task_id, type=TaskType(r.type), status=TaskStatus(r.status), priority=r.priority,
            assignee_id=r.assignee_id, due_at=r.due_at, ref_id=r.ref_id, title=r.title or "",
            lease_holder_device_id=r.lease_holder_device_id, lease_holder_user_id=r.lease_holder_user_id,
            lease_until=r.lease_until, created_at=r.created_at,
        )
        for r in rows
    ]


def unsent_task_ids(engine: Engine) -> set[str]:
    """Tasks this device changed with ops still waiting to be sent (or parked after a refusal)."""
    with engine.connect() as conn:
        rows = driver(conn).execute(
            "SELECT json_extract(payload, '$.task_id') FROM outbox"
            " WHERE state IN ('pending', 'parked') AND type LIKE 'task.%'"
        ).fetchall()
    return {str(r[0]) for r in rows if r[0] is not None}
