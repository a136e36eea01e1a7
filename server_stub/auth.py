"""Who is acting, and may they. The seam where device signing and sessions will plug in.

Today a request names its user in `X-User-Id` (and device in `X-Device-Id`) and an op carries its
`user_id`; the role comes from the store's user list. A later issue replaces `actor_for_request`
with signature and session checks; the services only ever see an `Actor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_sync.contract import Role
from server_stub import lookups
from server_stub.errors import Forbidden
from server_stub.settings import Settings
from server_stub.txn import StoreTx

MANAGER_ROLES = frozenset({Role.MANAGER.value, Role.ADMIN.value})


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (and device) behind a request or an op."""

    user_id: str
    device_id: str | None = None
    role: str | None = None

    @property
    def is_manager(self) -> bool:
        """True for managers and admins."""
        return self.role in MANAGER_ROLES


def actor_for(tx: StoreTx, settings: Settings, user_id: str | None, device_id: str | None) -> Actor:
    """The actor for a user id in this store; Forbidden when the store does not know the user."""
    if not user_id:
        raise Forbidden("say who you are: the X-User-Id header is required")
    role = lookups.user_role(tx, user_id)
    if role is None and settings.require_known_users:
        raise Forbidden(f"user {user_id} is not known in store {tx.store_id}")
    return Actor(user_id=user_id, device_id=device_id, role=role)


def require_manager(actor: Actor, action: str) -> None:
    """Forbidden unless the actor is a manager or admin."""
    if not actor.is_manager:
        raise Forbidden(f"only a manager may {action}; {actor.user_id} is {actor.role or 'not known here'}")
