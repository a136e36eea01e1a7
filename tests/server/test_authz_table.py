"""The authorisation table walked against the API: every role × every action.

Allowed → not 403 (an op: not refused for its role); forbidden → 403 (an op: rejected, naming the
roles that may) and nothing changed. Every action is walked one way or more: as an endpoint, as an
op, as the approver an op names (`authz.APPROVER_FIELDS`), or as a read of store-wide supervision
data with each role's own session on the tablet (`authz.READS`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from edge_sync.contract import SCHEMA_VERSION, MasterData, Op, OpType, Role, UserRecord, session_id_for
from server_stub.authz import APPROVER_FIELDS, READS, TABLE, Action, action_for_op
from server_stub.masterdata import load_master_data
from tests.server.helpers import STORE, AsgiClient, Device, gtin, start_session
from tests.support.devices import approved_device

USERS = {Role.ASSOCIATE: "U-ASSOC", Role.MANAGER: "U-MGR", Role.ADMIN: "U-ADMIN"}
TASKS = f"/v1/stores/{STORE}/tasks"


def _task(client: AsgiClient, task_id: str, **extra: Any) -> None:
    r = client.post(TASKS, json={"task_id": task_id, "type": "count", **extra}, headers={"X-User-Id": "U-MGR"})
    assert r.status_code == 201, r.text


def _get_task(client: AsgiClient, task_id: str) -> dict[str, Any] | None:
    r = client.get(f"{TASKS}/{task_id}")
    return r.json() if r.status_code == 200 else None


Walk = Callable[[AsgiClient, str, str], tuple[int, bool]]
"""(client, user, unique tag) -> (HTTP status, whether the state the action changes is as before)."""


def _create(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
    r = c.post(TASKS, json={"task_id": f"T-{tag}", "type": "count"}, headers={"X-User-Id": user})
    return r.status_code, _get_task(c, f"T-{tag}") is None


def _patch(field: str, value: object) -> Walk:
    def walk(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
        _task(c, f"T-{tag}")
        before = _get_task(c, f"T-{tag}")
        r = c.patch(f"{TASKS}/T-{tag}", json={field: value}, headers={"X-User-Id": user})
        return r.status_code, _get_task(c, f"T-{tag}") == before
    return walk


def _cancel(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
    _task(c, f"T-{tag}")
    before = _get_task(c, f"T-{tag}")
    r = c.post(f"{TASKS}/T-{tag}/cancel", json={"reason": "test"}, headers={"X-User-Id": user})
    return r.status_code, _get_task(c, f"T-{tag}") == before


def _lease(verb: str, *, held_by_other: bool = False) -> Walk:
    def walk(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
        _task(c, f"T-{tag}")
        if verb != "claim":
            holder = ("HH-OTHER", "U-ASSOC2") if held_by_other else ("HH-1", user)
            r = c.post(f"{TASKS}/T-{tag}/claim", json={"device_id": holder[0]}, headers={"X-User-Id": holder[1]},
                       auth=_signed(c, holder[0]))
            assert r.status_code == 200, r.text
        before = _get_task(c, f"T-{tag}")
        r = c.post(f"{TASKS}/T-{tag}/{verb}", json={"device_id": "HH-1"}, headers={"X-User-Id": user},
                   auth=_signed(c, "HH-1"))
        return r.status_code, _get_task(c, f"T-{tag}") == before
    return walk


def _signed(c: AsgiClient, device_id: str) -> httpx.Auth:
    """Signed by `device_id`: a task command acts for the device that signed it."""
    return approved_device(c.app.state.services.engine, STORE, device_id)


def _post(path: str, body: dict[str, Any]) -> Walk:
    def walk(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
        r = c.post(f"/v1/stores/{STORE}{path}", json=body, headers={"X-User-Id": user})
        return r.status_code, True  # the target does not exist: a 403 must come before the 404
    return walk


def _session(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
    sid = session_id_for(dt.datetime.now(dt.UTC), online=True, token=uuid.uuid4().hex[:16])
    body = {"session_id": sid, "user_id": user, "device_id": "TAB-1", "started_at": dt.datetime.now(dt.UTC).isoformat()}
    r = c.post(f"/v1/stores/{STORE}/sessions", json=body, headers={"X-User-Id": user})
    return r.status_code, True


def _read(c: AsgiClient, user: str, tag: str) -> tuple[int, bool]:
    """A read of store-wide data with `user`'s own online session on the tablet that signs the request."""
    headers = start_session(c, user, "TAB-1")
    r = c.get(f"/v1/stores/{STORE}/exceptions", headers=headers)
    return r.status_code, True


ENDPOINTS: dict[Action, Walk] = {
    Action.TASK_TAKE_OVER: _lease("release", held_by_other=True),
    Action.EXCEPTION_RESOLVE: _post("/exceptions/EX-NONE/resolve", {"note": "checked"}),
    Action.COUNT_APPROVE: _post("/approvals/AP-NONE/approve", {"note": "checked"}),
    Action.DEVICE_APPROVE: _post("/enrolments/HH-NEW/approve", {}),
    Action.DEVICE_REVOKE: _post("/enrolments/HH-NEW/revoke", {}),
    Action.SESSION_START: _session,
    Action.SUPERVISION_READ: _read,
}
"""Actions that are endpoints only. Task actions are walked both as an endpoint and as an op."""

TASK_ENDPOINTS: dict[Action, Walk] = {
    Action.TASK_CREATE: _create,
    Action.TASK_ASSIGN: _patch("assignee_id", "U-ASSOC2"),
    Action.TASK_REPRIORITISE: _patch("priority", 1),
    Action.TASK_CANCEL: _cancel,
    Action.TASK_CLAIM: _lease("claim"),
    Action.TASK_RELEASE: _lease("release"),
    Action.TASK_COMPLETE: _lease("complete"),
}

FORBIDDEN_STATUS = {Action.TASK_TAKE_OVER: 409}
"""A release of a task another device holds is refused as a lease conflict naming the holder."""

ALLOWED_STATUS = {Action.SUPERVISION_READ: 200}
"""Where an allowed walk has one right answer (the others only must not be refused for the role)."""


def _op_payload(action: Action, tag: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        Action.RECEIPT_RECEIVE: {"receipt_id": f"R-{tag}", "item_id": "I-1", "gtin": gtin(1), "qty": 1},
        Action.RECEIPT_CLOSE: {"receipt_id": f"R-{tag}", "dock_location_id": "DOCK", "lines": []},
        Action.PUTAWAY_CONFIRM: {"item_id": "I-5", "qty": 1, "from_location_id": "A-01", "to_location_id": "A-02"},
        Action.COUNT_RECORD: {"count_id": f"C-{tag}", "location_id": "A-01", "item_id": "I-5", "counted_qty": 20,
                              "started_at": now.isoformat(), "counted_at": now.isoformat()},
        Action.PICK_CONFIRM: {"task_id": f"T-{tag}", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3",
                              "location_id": "A-01", "qty": 1},
        Action.PICK_SHORT: {"task_id": f"T-{tag}", "order_id": "ORD-1", "line_id": "2", "item_id": "I-4", "short_qty": 1,
                            "reason": "not found"},
        Action.ORDER_STAGE: {"order_id": "ORD-1", "staging_location_id": "STAGE", "lines": []},
        Action.TASK_CREATE: {"task_id": f"OT-{tag}", "type": "count"},
        Action.TASK_ASSIGN: {"task_id": f"OT-{tag}", "assignee_id": "U-ASSOC2"},
        Action.TASK_REPRIORITISE: {"task_id": f"OT-{tag}", "priority": 1},
        Action.TASK_CANCEL: {"task_id": f"OT-{tag}", "reason": "test"},
        Action.TASK_CLAIM: {"task_id": f"OT-{tag}", "lease_until": (now + dt.timedelta(minutes=10)).isoformat()},
        Action.TASK_RELEASE: {"task_id": f"OT-{tag}"},
        Action.TASK_COMPLETE: {"task_id": f"OT-{tag}"},
    }[action]


@pytest.fixture
def store(app: FastAPI) -> FastAPI:
    """The demo store with an admin too."""
    load_master_data(app.state.services.engine, MasterData(
        store_id=STORE, users=[UserRecord(user_id="U-ADMIN", name="Ada", role=Role.ADMIN)]))
    return app


def test_every_role_may_do_exactly_what_the_table_says_through_every_endpoint(store: FastAPI, client: AsgiClient) -> None:
    walked: set[Action] = set()
    for role, user in USERS.items():
        for action, walk in {**ENDPOINTS, **TASK_ENDPOINTS}.items():
            tag = f"{role.value}-{action.value.replace(':', '-')}"
            status, unchanged = walk(client, user, tag)
            if action in TABLE[role]:
                assert status != 403, f"{role.value} may {action.value} but got 403"
                assert status == ALLOWED_STATUS.get(action, status), f"{role.value} may {action.value} but got {status}"
            else:
                assert status == FORBIDDEN_STATUS.get(action, 403), f"{role.value} may not {action.value} but got {status}"
                assert unchanged, f"a refused {action.value} by {role.value} changed the task"
            walked.add(action)
    assert walked == set(ENDPOINTS) | set(TASK_ENDPOINTS)


def test_every_role_may_send_exactly_the_ops_the_table_says(store: FastAPI, client: AsgiClient) -> None:
    op_actions = {a for a in Action if a.value.startswith("op:")}
    for role, user in USERS.items():
        device = Device(client, STORE, f"HH-{role.value}", user)
        session_id = session_id_for(dt.datetime.now(dt.UTC), online=False, token=uuid.uuid4().hex[:16])
        for action in sorted(op_actions):
            tag = f"{role.value}-{action.value.replace(':', '-').replace('.', '-')}"
            if action.value.startswith("op:task.") and action is not Action.TASK_CREATE:
                _task(client, f"OT-{tag}")
            device.seq += 1
            op = Op(op_id=uuid.uuid4(), store_id=STORE, device_id=device.device_id, seq=device.seq,
                    type=action.value.removeprefix("op:"), schema_version=SCHEMA_VERSION, user_id=user,
                    session_id=session_id, occurred_at=dt.datetime.now(dt.UTC), payload=_op_payload(action, tag))
            assert action_for_op(op.type) is action
            before = _get_task(client, f"OT-{tag}")
            result = device.push(op)[0]
            refused_for_role = result["status"] == "rejected" and "needs a" in (result["reason"] or "")
            if action in TABLE[role]:
                assert not refused_for_role, f"{role.value} may send {action.value}: {result}"
            else:
                assert refused_for_role, f"{role.value} may not send {action.value}: {result}"
                assert "manager or admin" in result["reason"]
                assert _get_task(client, f"OT-{tag}") == before


APPROVED_TABLES = ("ledger", "balances", "count_reviews", "exceptions", "receipt_lines", "receipts")


def _rows(app: FastAPI) -> dict[str, int]:
    """Row counts of the tables an applied count or receipt writes to."""
    with app.state.services.engine.connect() as conn:
        return {name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one() for name in APPROVED_TABLES}


def _approved_payload(op_type: OpType, field: str, approver: str, tag: str, counted: int) -> dict[str, Any]:
    """An op that needs the approval `field` names: a count far off the record, or a receipt past its PO."""
    now = dt.datetime.now(dt.UTC)
    payload: dict[str, Any] = {
        OpType.COUNT_RECORD: {"count_id": f"C-{tag}", "location_id": "A-01", "item_id": "I-5", "counted_qty": counted,
                              "started_at": (now - dt.timedelta(minutes=2)).isoformat(),
                              "counted_at": (now - dt.timedelta(minutes=1)).isoformat()},
        OpType.RECEIPT_RECEIVE: {"receipt_id": f"R-{tag}", "po_id": "PO-1", "item_id": "I-2", "gtin": gtin(2), "qty": 12},
    }[op_type]
    return {**payload, field: approver}


APPROVERS = {Role.ASSOCIATE: "U-ASSOC"}
"""Who each role's approval names; the maker is U-ASSOC2, so an associate never approves their own op here."""

COUNTED = {Role.ASSOCIATE: 2, Role.MANAGER: 2, Role.ADMIN: 40}
"""Each role's count of I-5 at A-01 (20 on record, 2 after the manager's): each far off the balance then."""


def _approval_took(op_type: OpType, result: dict[str, Any], approver: str) -> bool:
    """The approval did what it is for: the count posted at once, the receipt is recorded as approved."""
    if op_type is OpType.COUNT_RECORD:
        return result["outcome"] == "posted" and abs(result["adjustment"]) >= 18
    return bool(result["approved_by"] == approver)


def test_every_role_may_approve_exactly_what_the_table_says_as_the_approver_an_op_names(
    store: FastAPI, client: AsgiClient,
) -> None:
    maker = Device(client, STORE, "HH-MAKER", "U-ASSOC2")
    session_id = session_id_for(dt.datetime.now(dt.UTC), online=False, token=uuid.uuid4().hex[:16])
    walked: set[Action] = set()
    for role, user in USERS.items():
        approver = APPROVERS.get(role, user)
        for op_type, fields in APPROVER_FIELDS.items():
            for field, action in fields.items():
                tag = f"{role.value}-{action.value.replace('.', '-')}"
                maker.seq += 1
                op = Op(op_id=uuid.uuid4(), store_id=STORE, device_id=maker.device_id, seq=maker.seq, type=op_type,
                        schema_version=SCHEMA_VERSION, user_id=maker.user_id, session_id=session_id,
                        occurred_at=dt.datetime.now(dt.UTC),
                        payload=_approved_payload(op_type, field, approver, tag, COUNTED[role]))
                before = _rows(store)
                result = maker.push(op)[0]
                if action in TABLE[role]:
                    assert result["status"] == "applied", f"{role.value} may {action.value}: {result}"
                    assert _approval_took(op_type, result["result"], approver), result
                else:
                    assert result["status"] == "rejected", f"{role.value} may not {action.value}: {result}"
                    assert f"{field} names {approver}, who is {role.value}" in result["reason"]
                    assert f"{action.value} needs a manager or admin" in result["reason"]
                    assert _rows(store) == before, f"a refused {action.value} by {role.value} posted something"
                walked.add(action)
    assert walked == {a for fields in APPROVER_FIELDS.values() for a in fields.values()}


def test_a_supervision_read_needs_an_open_session_of_a_manager_on_the_signing_device(
    store: FastAPI, client: AsgiClient,
) -> None:
    exceptions = f"/v1/stores/{STORE}/exceptions"
    assert READS["/v1/stores/{store_id}/exceptions"] is Action.SUPERVISION_READ
    none = client.request("GET", exceptions)  # signed by the tablet, no session (the client's get sends Mia's)
    assert none.status_code == 401 and none.json()["detail"]["code"] == "session_required"
    mia = start_session(client, "U-MGR", "TAB-1")
    assert client.get(exceptions, headers=mia).status_code == 200
    # Mia's session belongs to the tablet: a request signed by another device may not present it.
    other = client.get(exceptions, headers=mia, auth=approved_device(store.state.services.engine, STORE, "HH-OTHER"))
    assert other.status_code == 401 and other.json()["detail"]["code"] == "session_required"
    ana = start_session(client, "U-ASSOC", "TAB-1")
    refused = client.get(exceptions, headers=ana)
    assert refused.status_code == 403 and "supervision.read needs a manager or admin" in refused.json()["detail"]["message"]


def test_every_action_in_the_table_is_walked() -> None:
    op_actions = {a for a in Action if a.value.startswith("op:")}
    approvals = {a for fields in APPROVER_FIELDS.values() for a in fields.values()}
    assert op_actions | set(ENDPOINTS) | approvals == set(Action)
