"""Who is who on this device: sign-in by badge."""

from __future__ import annotations

import uuid

from app.domain.context import Actor
from app.domain.errors import NotFound, WrongScan
from edge_sync.repositories.master import MasterRepository
from edge_sync.uow import UnitOfWorkFactory

MAX_BADGE = 64


def sign_in_by_badge(uow_factory: UnitOfWorkFactory, badge: str, *, device_id: str) -> tuple[Actor, str]:
    """The actor for a scanned badge and the name to greet; refuses unknown or malformed badges."""
    badge = badge.strip()
    if not badge:
        raise WrongScan("Scan your badge")
    if len(badge) > MAX_BADGE or not badge.isprintable():
        raise WrongScan("That is not a badge: scan the barcode on your badge")
    with uow_factory() as uow:
        user = MasterRepository(uow.conn).user_by_badge(badge.upper())
    if user is None:
        raise NotFound(f"Badge {badge[:20]} is not known on this device: ask a manager")
    actor = Actor(user_id=user.user_id, session_id=f"sess-{uuid.uuid4().hex[:16]}", role=user.role,
                  device_id=device_id)
    return actor, user.name
