"""Who is acting: the actor behind a request or an op. What they may do is `server_stub.authz`.

A request names its user in `X-User-Id` (its device is named, and proven, by the request's
signature: server_stub.signatures); the role comes from the store's user list. An op's actor is
built by the ingest from the session that made it (server_stub.sessions), with the role that
session was started with. The services only ever see an `Actor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from server_stub import authz, lookups
from server_stub.errors import Forbidden
from server_stub.settings import Settings
from server_stub.txn import StoreTx


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (and device, and session) behind a request or an op."""

    user_id: str
    device_id: str | None = None
    role: str | None = None
    session_id: str | None = None

    @property
    def is_manager(self) -> bool:
        """True for the roles the authorisation table lets supervise (managers and admins)."""
        return self.role in authz.SUPERVISOR_ROLES


def actor_for(tx: StoreTx, settings: Settings, user_id: str | None, device_id: str | None) -> Actor:
    """The actor for a user id in this store; Forbidden when the store does not know the user."""
    if not user_id:
        raise Forbidden("say who you are: the X-User-Id header is required")
    role = lookups.user_role(tx, user_id)
    if role is None and settings.require_known_users:
        raise Forbidden(f"user {user_id} is not known in store {tx.store_id}")
    return Actor(user_id=user_id, device_id=device_id, role=role)


def require_manager(actor: Actor, action: str) -> None:
    """Forbidden unless the actor's role may supervise. Prefer `authz.require(actor, Action.X)`,
    which names the exact action in the one table."""
    if not actor.is_manager:
        raise Forbidden(f"only a manager may {action}; {actor.user_id} is {actor.role or 'not known here'}")
