"""Who may read what: every store GET is judged by `authz.READS` before its endpoint runs.

A read of the device sync (changes, op results, balances, tasks) needs only the verified device
(server_stub.signatures, checked first). A read of store-wide supervision data (exceptions,
approvals, devices, figures, ERP events) needs a manager's session on that device as well:

    X-User-Id: U-MGR
    X-Session-Id: s-20250303T090000Z-n-0123456789abcdef    (the session of the sign-in)

No session, or one that is not open, not that user's, or not on this device: 401
`session_required`. A session whose role may not read it: 403 `forbidden`.

A write that acts for a named person (approve or reject a count, resolve an exception, the task
and device endpoints) is judged the same way by its endpoint, inside its own transaction:
`session_actor` gives the actor, with the role of the session presented; X-User-Id alone is
never enough. Both headers are covered by the request's signature (server_stub.signatures).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request
from starlette.concurrency import run_in_threadpool

from edge_sync.contract import Id
from server_stub import authz, sessions
from server_stub.api.deps import Services, acting_device_id
from server_stub.auth import Actor
from server_stub.db import read_transaction
from server_stub.errors import Forbidden, ServiceError
from server_stub.txn import StoreTx


SessionHeader = Annotated[Id | None, Header(alias="X-Session-Id")]
"""The session the person named in X-User-Id signed in with on this device."""


class SessionRequired(ServiceError):
    """401: this request needs a person's session, and it presents none that is open."""

    status_code = 401
    code = "session_required"


def session_actor(tx: StoreTx, action: authz.Action, user_id: str | None, session_id: str | None,
                  device_id: str | None, *, named: str | None = None) -> Actor:
    """The person a request acts for, judged by the session it presents (in `tx`, nothing written).

    `user_id`/`session_id` are the X-User-Id / X-Session-Id headers, `device_id` the device that
    signed the request; `named` is a user a body names as well, which must be that same person.
    401 session_required without an open session of that user on this device; 403 when the
    session's role may not take `action` (authz.TABLE).
    """
    if named is not None and user_id is not None and named != user_id:
        raise Forbidden(f"the body names user {named} but the request acts for {user_id} (X-User-Id): "
                        "a request acts for the one person whose session it presents; leave user_id out")
    user_id = user_id or named
    if not user_id or not session_id:
        raise SessionRequired(
            f"{action.value} needs the session of the person it acts for, signed in on this device: send X-User-Id "
            "and X-Session-Id (sign in on the device first)")
    session = sessions.session_for_read(tx, user_id, session_id, device_id)
    if session.refusal is not None:
        raise SessionRequired(session.refusal)
    if not authz.allowed(session.role, action):
        raise Forbidden(authz.refusal(user_id, session.role, action))
    return Actor(user_id=user_id, device_id=device_id, role=session.role, session_id=session_id)


def _judge(services: Services, store_id: str, action: authz.Action, user_id: str | None, session_id: str | None,
           device_id: str | None) -> None:
    if not user_id or not session_id:
        raise SessionRequired(
            f"this read needs the session of a manager signed in on this device: send X-User-Id and X-Session-Id "
            f"({action.value})")
    with read_transaction(services.engine) as conn:
        session_actor(StoreTx(conn, store_id), action, user_id, session_id, device_id)


async def read_gate(
    request: Request,
    x_user_id: Annotated[Id | None, Header(alias="X-User-Id")] = None,
    x_session_id: Annotated[Id | None, Header(alias="X-Session-Id")] = None,
) -> Actor | None:
    """For a GET: refuse it unless the reader may read this route (authz.READS); the reader, or None
    for a read that needs only the device. Other methods pass (their endpoints authorise the actor)."""
    if request.method != "GET":
        return None
    route = request.scope.get("route")
    path = getattr(route, "path", "")
    if path not in authz.READS:
        raise Forbidden(f"{path or request.url.path} is not in the service's table of reads: nobody may read it")
    action = authz.action_for_read(path)
    if action is None:
        return None
    services: Services = request.app.state.services
    store_id = str(request.path_params.get("store_id", ""))
    device_id = acting_device_id(request, None)
    await run_in_threadpool(_judge, services, store_id, action, x_user_id, x_session_id, device_id)
    return Actor(user_id=x_user_id or "", device_id=device_id, session_id=x_session_id)
