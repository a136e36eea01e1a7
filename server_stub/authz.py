"""The one authorisation table: which role may do what, for every API endpoint and every op type.

Endpoints call `require(actor, Action.X)`; the ingest asks `allowed(role, action_for_op(type))`
for each op, with the role of the session that made it (server_stub.sessions). Nothing else in
the service decides who may do what. tests/server/test_authz_table.py walks the whole table
against the API.

    action                      associate  manager  admin
    op:<receiving, putaway,        yes       yes     yes     physical facts: anyone signed in
        counts, picks, staging,
        claim/release/complete>
    op:task.create/assign/...      -         yes     yes     supervising work
    task.take_over                 -         yes     yes     act on a task another device holds
    exception.resolve              -         yes     yes
    count.approve                  -         yes     yes     approve or reject a count variance, also
                                                             as the approver an op names
    receipt.approve_over           -         yes     yes     approve receiving past the PO/ASN
    device.approve / revoke        -         yes     yes     enrol a device, or cut it off
    session.start                 yes        yes     yes
    supervision.read               -         yes     yes     read store-wide supervision data (READS)

Reads (`READS`, by route): the device sync's reads need only a verified device; reads of
store-wide supervision data need a manager's session too, presented as X-User-Id and X-Session-Id
(server_stub.api.readers). Setting a route's entry to None relaxes it to the device alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Protocol

from edge_sync.contract import OpType, Role
from server_stub.errors import Forbidden


class Action(StrEnum):
    """Everything a person may be allowed to do through the service."""

    # Ops, one per type (the same action whether sent as an op or through an endpoint).
    RECEIPT_RECEIVE = "op:receipt.receive"
    RECEIPT_CLOSE = "op:receipt.close"
    PUTAWAY_CONFIRM = "op:putaway.confirm"
    COUNT_RECORD = "op:count.record"
    PICK_CONFIRM = "op:pick.confirm"
    PICK_SHORT = "op:pick.short"
    ORDER_STAGE = "op:order.stage"
    TASK_CREATE = "op:task.create"
    TASK_ASSIGN = "op:task.assign"
    TASK_REPRIORITISE = "op:task.reprioritise"
    TASK_CANCEL = "op:task.cancel"
    TASK_CLAIM = "op:task.claim"
    TASK_RELEASE = "op:task.release"
    TASK_COMPLETE = "op:task.complete"
    # Endpoints that are not ops.
    TASK_TAKE_OVER = "task.take_over"
    EXCEPTION_RESOLVE = "exception.resolve"
    COUNT_APPROVE = "count.approve"
    RECEIPT_APPROVE_OVER = "receipt.approve_over"
    DEVICE_APPROVE = "device.approve"
    DEVICE_REVOKE = "device.revoke"
    SESSION_START = "session.start"
    SUPERVISION_READ = "supervision.read"


_OP_ACTIONS: Final[dict[OpType, Action]] = {op_type: Action(f"op:{op_type.value}") for op_type in OpType}

_EVERYONE: Final = frozenset({
    Action.RECEIPT_RECEIVE, Action.RECEIPT_CLOSE, Action.PUTAWAY_CONFIRM, Action.COUNT_RECORD,
    Action.PICK_CONFIRM, Action.PICK_SHORT, Action.ORDER_STAGE,
    Action.TASK_CLAIM, Action.TASK_RELEASE, Action.TASK_COMPLETE, Action.SESSION_START,
})
_SUPERVISING: Final = frozenset({
    Action.TASK_CREATE, Action.TASK_ASSIGN, Action.TASK_REPRIORITISE, Action.TASK_CANCEL, Action.TASK_TAKE_OVER,
    Action.EXCEPTION_RESOLVE, Action.COUNT_APPROVE, Action.RECEIPT_APPROVE_OVER, Action.DEVICE_APPROVE,
    Action.DEVICE_REVOKE, Action.SUPERVISION_READ,
})

TABLE: Final[dict[Role, frozenset[Action]]] = {
    Role.ASSOCIATE: _EVERYONE,
    Role.MANAGER: _EVERYONE | _SUPERVISING,
    Role.ADMIN: _EVERYONE | _SUPERVISING,
}
"""Role → the actions it may take. Anything not listed is refused."""


APPROVER_FIELDS: Final[dict[OpType, dict[str, Action]]] = {
    OpType.COUNT_RECORD: {"approved_by": Action.COUNT_APPROVE},
    OpType.RECEIPT_RECEIVE: {"approved_by": Action.RECEIPT_APPROVE_OVER},
}
"""Every op payload field that names the person approving the op, and the action that person takes.

The op's maker needs only the op's own action; the person named must be allowed this one, with the
role they had in the store when the op was made (server_stub.appliers checks it before applying)."""


APPROVAL_ACTIONS: Final = frozenset(a for fields in APPROVER_FIELDS.values() for a in fields.values())
"""Actions taken by the person an op names as approving it (some have an endpoint too: count.approve)."""


_STORE = "/v1/stores/{store_id}"

READS: Final[dict[str, Action | None]] = {
    # The device sync: a verified device of the store is enough.
    f"{_STORE}/changes": None,
    f"{_STORE}/ops/{{op_id}}": None,
    f"{_STORE}/balances": None,
    f"{_STORE}/tasks": None,
    f"{_STORE}/tasks/{{task_id}}": None,
    # Store-wide supervision data: a manager's (or admin's) session on a verified device.
    f"{_STORE}/exceptions": Action.SUPERVISION_READ,
    f"{_STORE}/exceptions/{{exception_id}}": Action.SUPERVISION_READ,
    f"{_STORE}/approvals": Action.SUPERVISION_READ,
    f"{_STORE}/devices": Action.SUPERVISION_READ,
    f"{_STORE}/enrolments": Action.SUPERVISION_READ,
    f"{_STORE}/figures": Action.SUPERVISION_READ,
    f"{_STORE}/putaway-waiting": Action.SUPERVISION_READ,
    f"{_STORE}/erp/events": Action.SUPERVISION_READ,
}
"""Every GET route of a store, by its path template → the action its reader's session must allow
(None: the verified device alone). The one place to tighten or relax a read; a route missing here
is refused (tests/server/test_read_sessions.py checks that every store GET route is listed)."""


def action_for_read(route_path: str) -> Action | None:
    """The action a read of this route needs of the reader's session; KeyError for an unlisted route."""
    return READS[route_path]


def action_for_op(op_type: OpType) -> Action:
    """The action an op of this type is."""
    return _OP_ACTIONS[op_type]


_BY_ROLE_NAME: Final[dict[str, frozenset[Action]]] = {role.value: actions for role, actions in TABLE.items()}


def allowed(role: str | None, action: Action) -> bool:
    """True when `role` may take `action`; an unknown role may take none."""
    # By the role's name (asked for every op): no Role() lookup per call.
    actions = _BY_ROLE_NAME.get(role) if role is not None else None
    return actions is not None and action in actions


def refusal(user_id: str, role: str | None, action: Action) -> str:
    """Why `user_id` may not take `action`, in words a person can act on."""
    who = f"{user_id} is {role}" if role else f"{user_id} has no role in this store"
    roles = [r.value for r, actions in TABLE.items() if action in actions]
    return f"{action.value} needs a {' or '.join(roles)}; {who}: ask a manager"


def approver_refusal(op_type: OpType, field: str, approver_id: str, role: str | None, maker_id: str,
                     store_id: str) -> str:
    """Why the person an op names in `field` may not approve it, in words a person can act on."""
    action = APPROVER_FIELDS[op_type][field]
    roles = " or ".join(r.value for r, actions in TABLE.items() if action in actions)
    if role is None:
        who = f"{approver_id}, who is not known in store {store_id}"
    elif approver_id == maker_id:
        who = f"{approver_id} themself, who is {role} in store {store_id}"
    else:
        who = f"{approver_id}, who is {role} in store {store_id}"
    return (f"{field} names {who}; {action.value} needs a {roles}. Nothing was posted: "
            f"resend it without {field} for a manager to decide, or with a manager's approval")


class HasRole(Protocol):
    """What `require` needs of an actor (server_stub.auth.Actor fits)."""

    @property
    def user_id(self) -> str:
        """Who acts."""
        ...

    @property
    def role(self) -> str | None:
        """Their role in the store, None when unknown."""
        ...


def require(actor: HasRole, action: Action) -> None:
    """Forbidden (403) unless the actor's role may take `action`."""
    if not allowed(actor.role, action):
        raise Forbidden(refusal(actor.user_id, actor.role, action))


SUPERVISOR_ROLES: Final = frozenset(role.value for role, actions in TABLE.items() if _SUPERVISING <= actions)
"""Roles that may take every supervising action (managers and admins)."""
