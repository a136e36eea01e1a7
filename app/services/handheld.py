"""The handheld screens' small queries and the parked-op actions, behind plain functions.

Screens never open a connection: the view-models get these through `app.bootstrap` as callables.

    task_ref(uow, task_id)               what a task is about: its type and the document it names
    approver_by_badge(uow, badge)        a manager's id and name from a badge scanned on the spot
    location_id_by_code(uow, code)       the location a label names, for corrections
    parked_ops(uow)                      refused ops with the service's reason
    dismiss_parked(uow, seq, ...)        give one up, with a reason
    resend_parked(uow, seq, ...)         send a corrected copy as a new op
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.context import Actor
from app.domain.errors import DomainError, NotAllowed, NotFound, WrongScan
from edge_sync import parked
from edge_sync.repositories.master import MasterRepository
from edge_sync.repositories.tasks import TaskRepository
from edge_sync.uow import UnitOfWorkFactory

MAX_BADGE = 64


@dataclass(frozen=True, slots=True)
class TaskRef:
    """What opening a task needs: its type and the id of the document or place it is about."""

    task_id: str
    type: str
    ref_id: str | None


def task_ref(uow_factory: UnitOfWorkFactory, task_id: str) -> TaskRef:
    """The type and reference of a task on this device; NotFound when it is not here."""
    with uow_factory() as uow:
        row = TaskRepository(uow.conn).get(task_id)
    if row is None:
        raise NotFound("This task is not on this handheld yet: sync, then try again")
    return TaskRef(row.task_id, row.type, row.ref_id)


def approver_by_badge(uow_factory: UnitOfWorkFactory, badge: str) -> tuple[str, str]:
    """The user id and name of the manager whose badge was scanned; refuses anyone else."""
    badge = badge.strip()
    if not badge or len(badge) > MAX_BADGE or not badge.isprintable():
        raise WrongScan("Scan the manager's badge")
    with uow_factory() as uow:
        user = MasterRepository(uow.conn).user_by_badge(badge.upper())
    if user is None:
        raise NotFound(f"Badge {badge[:20]} is not known on this device: scan a manager's badge")
    if user.role not in ("manager", "admin"):
        raise NotAllowed(f"{user.name} is not a manager: a manager must scan their badge")
    return user.user_id, user.name


def location_id_by_code(uow_factory: UnitOfWorkFactory, code: str) -> tuple[str, str]:
    """The id and printed code of the location a label names; NotFound when it is not in this store."""
    with uow_factory() as uow:
        loc = MasterRepository(uow.conn).location_by_code(code)
    if loc is None:
        raise NotFound(f"{code.strip()[:32] or 'That'} is not a location here: scan the location label")
    return loc.location_id, loc.code


def names(uow_factory: UnitOfWorkFactory, kind: str, key: str) -> str | None:
    """What an associate calls an item (its description) or a location (its printed code), by id;
    None when this device does not know it."""
    with uow_factory() as uow:
        repo = MasterRepository(uow.conn)
        if kind == "item":
            item = repo.item(key)
            return None if item is None else item.description
        loc = repo.location(key)
        return None if loc is None else loc.code


def parked_ops(uow_factory: UnitOfWorkFactory) -> list[parked.ParkedOp]:
    """Every op the service refused and nobody has resolved yet, oldest first."""
    with uow_factory() as uow:
        return parked.list_parked(uow)


def dismiss_parked(uow_factory: UnitOfWorkFactory, seq: int, *, reason: str, actor: Actor) -> None:
    """Give up on a parked op with a reason; its local effect stops being shown."""
    with uow_factory() as uow:
        try:
            parked.dismiss(uow, seq, reason=reason, user_id=actor.user_id)
        except parked.NotParked as exc:
            raise NotFound("That op is no longer waiting: it was resolved already") from exc
        except parked.InvalidCorrection as exc:
            raise DomainError(f"Cannot dismiss: {exc}", code="invalid_input") from exc
        uow.commit()


def resend_parked(uow_factory: UnitOfWorkFactory, seq: int, *, payload: dict[str, Any], actor: Actor) -> int:
    """Send a corrected copy of a parked op as a new op; returns the new op's seq."""
    with uow_factory() as uow:
        try:
            appended = parked.resend(uow, seq, payload=payload, user_id=actor.user_id, session_id=actor.session_id)
        except parked.NotParked as exc:
            raise NotFound("That op is no longer waiting: it was resolved already") from exc
        except parked.InvalidCorrection as exc:
            raise DomainError(f"Cannot send it again: {exc}", code="invalid_input") from exc
        uow.commit()
    return appended.seq


@dataclass(frozen=True, slots=True)
class ItemRef:
    """The item a scanned GTIN names, and how many units one scan of it is."""

    item_id: str
    description: str
    units: int


def item_by_gtin(uow_factory: UnitOfWorkFactory, gtin: str) -> ItemRef:
    """The item of a GTIN on this device; NotFound in words when the item master does not know it."""
    with uow_factory() as uow:
        match = MasterRepository(uow.conn).item_by_gtin(gtin)
    if match is None:
        raise NotFound(f"{gtin} is not an item we know: set it aside for a manager")
    return ItemRef(match.item.item_id, match.item.description, match.units)
