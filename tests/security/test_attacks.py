"""The attack table: hostile requests against the real service, in-process on SQLite.

Each row sends one hostile request and asserts the status, the error code and words of the message,
and that nothing changed: every table of the service database is read before and after and must be
equal (only `request_nonces`, the replay guard's own bookkeeping, may grow: a well-signed request
records its nonce before its body is judged).

Hostile values inside an op's *payload* are judged per op, as the sync contract says: the push
answers 200 and the op `rejected`, with a reason naming the field. For those rows the op journal
(`ops`, `devices`, and the `changes` feed with the `stores` counter) records the refusal, and everything else (stock ledger, tasks, counts,
exceptions, approvals, ...) must be unchanged. Those rows are generated from the contract itself:
every Id and Text field of every op payload, nested lines included.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from edge_sync.contract import PAYLOADS, SCHEMA_VERSION, OpType
from edge_sync.signing import RequestSigner
from server_stub import devices
from server_stub.app import create_app
from server_stub.db import write_transaction
from server_stub.masterdata import load_master_data
from server_stub.settings import Settings
from server_stub.txn import utcnow
from tests.server.helpers import STORE, AsgiClient, demo_master_data
from tests.support.devices import approved_device, enrol_key

OPS = f"/v1/stores/{STORE}/ops"
JOURNAL = frozenset({"ops", "devices", "changes", "stores", "request_nonces"})
"""Where a rejected op is recorded: its result, the device's queue, the change feed that brings the
result down to the device, the store's feed counter."""
REPLAY_GUARD = frozenset({"request_nonces"})

SQL = "x'); DROP TABLE ledger; --"
MARKUP = "<script>alert(1)</script>"
LOOKALIKE_ID = "I-\u0406"  # Cyrillic capital I: reads as I-I
FULLWIDTH_GTIN = "\uff10" * 13 + "\uff11"


# ---------------------------------------------------------------------------------------------
# The world: the service, its devices, a snapshot of its database
# ---------------------------------------------------------------------------------------------


@dataclass
class World:
    app: FastAPI
    http: AsgiClient
    handheld: RequestSigner
    tablet: RequestSigner
    seq: int = 0
    _tables: dict[str, sa.Table] | None = None

    @property
    def engine(self) -> sa.Engine:
        engine: sa.Engine = self.app.state.services.engine
        return engine

    def op(self, op_type: str, payload: dict[str, Any], **envelope: Any) -> dict[str, Any]:
        """The next op of the handheld HH-1, as JSON."""
        self.seq += 1
        return {
            "op_id": str(uuid.uuid4()), "store_id": STORE, "device_id": "HH-1", "seq": self.seq, "type": op_type,
            "schema_version": SCHEMA_VERSION, "user_id": "U-ASSOC", "session_id": "sess-1",
            "occurred_at": dt.datetime.now(dt.UTC).isoformat(), "payload": payload, **envelope,
        }

    def push(self, *ops: dict[str, Any], auth: httpx.Auth | None = None) -> httpx.Response:
        """Push ops signed by the handheld (or by `auth`)."""
        return self.http.post(OPS, json={"ops": list(ops)}, auth=auth or self.handheld)

    def snapshot(self, leave_out: frozenset[str]) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table but `leave_out`, sorted."""
        if self._tables is None:  # the schema does not change under a test: reflect it once
            meta = sa.MetaData()
            meta.reflect(self.engine)
            self._tables = dict(meta.tables)
        with self.engine.connect() as conn:
            return {
                name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
                for name, table in self._tables.items() if name not in leave_out
            }


def _world(db: Path) -> Iterator[World]:
    app = create_app(f"sqlite:///{db}", settings=Settings())
    engine = app.state.services.engine
    load_master_data(engine, demo_master_data())
    with AsgiClient(app) as http:
        world = World(app, http, approved_device(engine, STORE, "HH-1"), approved_device(engine, STORE, "TAB-1"))
        # The people the table's writes name, signed in before any row runs (a write presents their session).
        http.sign_in(STORE, "U-MGR", world.tablet)
        http.sign_in(STORE, "U-ASSOC", world.handheld)
        yield world
    engine.dispose()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The service with the demo store, its handheld HH-1 and tablet TAB-1 enrolled and approved."""
    yield from _world(tmp_path / "attacks.db")


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the many payload rows: each is judged against a snapshot taken just before it."""
    yield from _world(tmp_path_factory.mktemp("attacks") / "attacks.db")


def _detail(response: httpx.Response) -> Any:
    return response.json()["detail"]


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    send: Callable[[World], httpx.Response]
    status: int
    code: str
    """detail.code of the service's error shape; for FastAPI's 422 the error `type`."""
    says: str
    """Words the message must hold."""
    may_change: frozenset[str] = REPLAY_GUARD
    prepare: Callable[[World], None] | None = None
    """What the attacker had before the attack (another store's device, a revoked one); before the snapshot."""


def _signed_with(signer: RequestSigner, method: str, path: str, body: bytes) -> httpx.Request:
    request = httpx.Request(method, f"http://testserver{path}", content=body, headers={"content-type": "application/json"})
    signer.sign(request)
    return request


def _headers(request: httpx.Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}


def unsigned(w: World) -> httpx.Response:
    return w.http.post(OPS, json={"ops": [w.op("task.release", {"task_id": "T-1"})]})


def bad_signature(w: World) -> httpx.Response:
    forger = RequestSigner(STORE, "HH-1", Ed25519PrivateKey.generate())  # HH-1's key id, another key
    return w.push(w.op("task.release", {"task_id": "T-1"}), auth=forger)


def tampered_body(w: World) -> httpx.Response:
    body = json.dumps({"ops": [w.op("task.release", {"task_id": "T-1"})]}).encode()
    signed = _signed_with(w.handheld, "POST", OPS, body)
    tampered = body.replace(b"T-1", b"T-2")
    return w.http.post(OPS, content=tampered, headers=_headers(signed))


STALE_KEY = Ed25519PrivateKey.generate()


def enrol_stale_clock_device(w: World) -> None:
    enrol_key(w.engine, STORE, "HH-5", STALE_KEY)


def stale_created(w: World) -> httpx.Response:
    an_hour_ago = RequestSigner(STORE, "HH-5", STALE_KEY, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    return w.push(w.op("task.release", {"task_id": "T-1"}, device_id="HH-5"), auth=an_hour_ago)


def enrol_in_other_store(w: World) -> None:
    approved_device(w.engine, "S-200", "HH-9")


def other_store(w: World) -> httpx.Response:
    stranger = approved_device(w.engine, "S-200", "HH-9")  # enrolled already: the same signer, no write
    return w.push(w.op("task.release", {"task_id": "T-1"}, store_id="S-200", device_id="HH-9"), auth=stranger)


def enrol_and_revoke(w: World) -> None:
    approved_device(w.engine, STORE, "HH-7")
    with write_transaction(w.engine) as conn:
        devices.revoke(conn, STORE, "HH-7", by="U-MGR", now=utcnow())


def revoked(w: World) -> httpx.Response:
    signer = approved_device(w.engine, STORE, "HH-7")
    return w.push(w.op("task.release", {"task_id": "T-1"}, device_id="HH-7"), auth=signer)


def _post(path: str, body: Any, *, user: str = "U-MGR", tablet: bool = True) -> Callable[[World], httpx.Response]:
    def send(w: World) -> httpx.Response:
        return w.http.post(f"/v1/stores/{STORE}{path}", json=body, headers={"X-User-Id": user},
                           auth=w.tablet if tablet else w.handheld)
    return send


def _get(path: str, **params: str) -> Callable[[World], httpx.Response]:
    def send(w: World) -> httpx.Response:
        return w.http.get(f"/v1/stores/{STORE}{path}", params=params, auth=w.tablet)
    return send


def _envelope(**fields: Any) -> Callable[[World], httpx.Response]:
    def send(w: World) -> httpx.Response:
        return w.push(w.op("task.release", {"task_id": "T-1"}, **fields))
    return send


def oversized_push(w: World) -> httpx.Response:
    padding = " " * (9 * 1024 * 1024)
    body = ('{"ops": [' + json.dumps(w.op("task.release", {"task_id": "T-1"})) + "]" + padding + "}").encode()
    return w.http.post(OPS, content=body, headers={"content-type": "application/json"}, auth=w.handheld)


def task(title: str = "Count aisle 3", **extra: Any) -> dict[str, Any]:
    return {"task_id": "T-NEW", "type": "count", "title": title, **extra}


ATTACKS = [
    Attack("unsigned", unsigned, 401, "signature_missing", "not signed"),
    Attack("bad signature", bad_signature, 401, "signature_invalid", "signature"),
    Attack("tampered body", tampered_body, 401, "digest_mismatch", "body"),
    Attack("stale created time", stale_created, 401, "signature_expired", "created", prepare=enrol_stale_clock_device),
    Attack("another store's device", other_store, 403, "device_other_store", "enrolled for store S-200",
           prepare=enrol_in_other_store),
    Attack("revoked device", revoked, 403, "device_revoked", "revoked", prepare=enrol_and_revoke),
    Attack("markup in a task title", _post("/tasks", task(MARKUP)), 422, "value_error", "markup"),
    Attack("direction override in a task title", _post("/tasks", task("Count \u202eaisle")), 422, "value_error",
           "text-direction"),
    Attack("control character in a cancel reason", _post("/tasks/T-1/cancel", {"reason": "gone\x00"}), 422,
           "value_error", "control characters"),
    Attack("markup in an exception note", _post("/exceptions/E-1/resolve", {"note": "<img src=x onerror=alert(1)>"}),
           422, "value_error", "markup"),
    Attack("SQL in a task id", _post("/tasks", task(task_id=SQL)), 422, "string_pattern_mismatch", "pattern"),
    Attack("markup in a task id path", _get("/tasks/<svg onload=alert(1)>"), 422, "string_pattern_mismatch", "pattern"),
    Attack("SQL in a balance query", _get("/balances", item_id=SQL), 422, "string_pattern_mismatch", "pattern"),
    Attack("look-alike item id in a query", _get("/balances", item_id=LOOKALIKE_ID), 422, "value_error",
           "CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I"),
    Attack("look-alike device id in an op", _envelope(device_id="HH-\uff11"), 422, "value_error",
           "it looks like 'HH-1'"),
    Attack("SQL in an op's user id", _envelope(user_id=SQL), 422, "string_pattern_mismatch", "pattern"),
    Attack("markup in an op's session id", _envelope(session_id=MARKUP), 422, "string_pattern_mismatch", "pattern"),
    Attack("oversized push", oversized_push, 413, "payload_too_large", "8,388,608 bytes"),
    Attack("oversized task", _post("/tasks", task("x" * (2 * 1024 * 1024))), 413, "payload_too_large", "1,048,576 bytes"),
    Attack("task title past 500 characters", _post("/tasks", task("x" * 501)), 422, "string_too_long", "500"),
    Attack("501 ops in one push", lambda w: w.push(*[w.op("task.release", {"task_id": "T-1"}) for _ in range(501)]),
           422, "too_long", "500"),
    Attack("overlong cursor", _get("/changes", cursor="9" * 41), 422, "string_too_long", "40"),
]


def _assert_refused(response: httpx.Response, attack: Attack) -> None:
    assert response.status_code == attack.status, response.text
    detail = _detail(response)
    if isinstance(detail, list):  # FastAPI's validation errors
        assert attack.code in {e["type"] for e in detail}, detail
        assert any(attack.says in e["msg"] for e in detail), detail
    else:
        assert detail["code"] == attack.code, detail
        assert attack.says in detail["message"], detail


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_each_attack_is_refused_with_its_status_and_message_and_changes_nothing(world: World, attack: Attack) -> None:
    if attack.prepare is not None:
        attack.prepare(world)
    before = world.snapshot(attack.may_change)
    response = attack.send(world)
    _assert_refused(response, attack)
    assert world.snapshot(attack.may_change) == before


def test_a_replayed_request_is_refused_and_changes_nothing(world: World) -> None:
    body = json.dumps({"ops": [world.op("task.release", {"task_id": "T-1"})]}).encode()
    signed = _signed_with(world.handheld, "POST", OPS, body)
    first = world.http.post(OPS, content=body, headers=_headers(signed))
    assert first.status_code == 200, first.text
    before = world.snapshot(frozenset())
    again = world.http.post(OPS, content=body, headers=_headers(signed))
    assert again.status_code == 401 and _detail(again)["code"] == "nonce_replayed", again.text
    assert world.snapshot(frozenset()) == before


def _pending_count_approval(world: World) -> str:
    now = dt.datetime.now(dt.UTC)
    payload = {"count_id": "C-9", "location_id": "A-01", "item_id": "I-5", "counted_qty": 2,
               "started_at": (now - dt.timedelta(minutes=2)).isoformat(), "counted_at": (now - dt.timedelta(minutes=1)).isoformat()}
    result = world.push(world.op("count.record", payload)).json()["results"][0]
    assert result["result"].get("outcome") == "pending_approval", result
    approval_id: str = result["result"]["approval_id"]
    return approval_id


def test_an_associate_approving_a_variance_is_refused_and_nothing_posts(world: World) -> None:
    approval_id = _pending_count_approval(world)
    before = world.snapshot(REPLAY_GUARD | {"sessions"})
    response = _post(f"/approvals/{approval_id}/approve", {"note": "fine"}, user="U-ASSOC", tablet=False)(world)
    assert response.status_code == 403, response.text
    assert _detail(response)["code"] == "forbidden"
    assert "U-ASSOC" in _detail(response)["message"]
    assert world.snapshot(REPLAY_GUARD | {"sessions"}) == before


# ---------------------------------------------------------------------------------------------
# Every Id and Text field of every op payload, from the contract
# ---------------------------------------------------------------------------------------------

BASE_PAYLOADS: dict[OpType, dict[str, Any]] = {
    OpType.RECEIPT_RECEIVE: {"receipt_id": "R-1", "gtin": "00000000000001", "qty": 1},
    OpType.RECEIPT_CLOSE: {"receipt_id": "R-1", "dock_location_id": "DOCK", "lines": [
        {"item_id": "I-1", "gtin": "00000000000001", "expected_qty": 1, "received_qty": 1, "damaged_qty": 0}]},
    OpType.PUTAWAY_CONFIRM: {"item_id": "I-1", "qty": 1, "from_location_id": "DOCK", "to_location_id": "A-01"},
    OpType.COUNT_RECORD: {"count_id": "C-1", "location_id": "A-01", "item_id": "I-1", "counted_qty": 1,
                          "started_at": "2025-03-03T09:00:00Z", "counted_at": "2025-03-03T09:01:00Z"},
    OpType.PICK_CONFIRM: {"task_id": "T-1", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3", "location_id": "A-01",
                          "qty": 1},
    OpType.PICK_SHORT: {"task_id": "T-1", "order_id": "ORD-1", "line_id": "1", "item_id": "I-3", "short_qty": 1,
                        "reason": "not there"},
    OpType.ORDER_STAGE: {"order_id": "ORD-1", "staging_location_id": "STAGE", "lines": [
        {"item_id": "I-3", "from_location_id": "A-01", "qty": 1}]},
    OpType.TASK_CREATE: {"task_id": "T-9", "type": "count", "lines": [{"line_id": "1"}]},
    OpType.TASK_ASSIGN: {"task_id": "T-1", "assignee_id": "U-ASSOC"},
    OpType.TASK_REPRIORITISE: {"task_id": "T-1", "priority": 1},
    OpType.TASK_CANCEL: {"task_id": "T-1", "reason": "duplicate"},
    OpType.TASK_CLAIM: {"task_id": "T-1", "lease_until": "2030-01-01T00:00:00Z"},
    OpType.TASK_RELEASE: {"task_id": "T-1"},
    OpType.TASK_COMPLETE: {"task_id": "T-1"},
}

ID_PATTERN = "^[A-Za-z0-9._:\\-]+$"


def _string_fields(schema: dict[str, Any], defs: dict[str, Any], prefix: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, "id" | "text" | "gtin") of every string field of a model's JSON schema, nested lines at index 0."""
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        for option in options:
            if "$ref" in option:
                yield from _string_fields(defs[option["$ref"].split("/")[-1]], defs, (*prefix, name))
            elif option.get("type") == "array" and "$ref" in option.get("items", {}):
                yield from _string_fields(defs[option["items"]["$ref"].split("/")[-1]], defs, (*prefix, name, 0))
            elif option.get("type") == "string" and "format" not in option and "enum" not in option:
                kind = "id" if option.get("pattern") == ID_PATTERN else "gtin" if "pattern" in option else "text"
                yield (*prefix, name), kind


def _payload_fields() -> list[tuple[OpType, tuple[str | int, ...], str]]:
    found = []
    for op_type, model in PAYLOADS.items():
        schema = model.model_json_schema()
        found += [(op_type, path, kind) for path, kind in _string_fields(schema, schema.get("$defs", {}), ())]
    return found


HOSTILE = {"id": [SQL, MARKUP, LOOKALIKE_ID], "text": [MARKUP, "a\u202eb", "a\x07b"], "gtin": [FULLWIDTH_GTIN, SQL]}
FIELD_ROWS = [(op_type, path, value) for op_type, path, kind in _payload_fields() for value in HOSTILE[kind]]


def _with(payload: dict[str, Any], path: tuple[str | int, ...], value: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(payload))
    node: Any = copy
    for step in path[:-1]:
        if isinstance(step, str) and step not in node:
            node[step] = [{}] if isinstance(path[path.index(step) + 1], int) else {}
        node = node[step]
    node[path[-1]] = value
    return copy


def test_the_generated_rows_cover_every_text_and_id_field() -> None:
    fields = {(t.value, ".".join(map(str, p))) for t, p, _ in _payload_fields()}
    assert ("pick.short", "reason") in fields and ("receipt.close", "lines.0.lot") in fields
    assert ("receipt.receive", "gtin") in fields and ("order.stage", "lines.0.from_location_id") in fields
    assert len(FIELD_ROWS) > 150


@pytest.mark.parametrize(("op_type", "path", "value"), FIELD_ROWS,
                         ids=[f"{t.value}:{'.'.join(map(str, p))}:{v[:12]!r}" for t, p, v in FIELD_ROWS])
def test_a_hostile_value_in_any_payload_field_rejects_the_op_and_changes_no_state(
    shared_world: World, op_type: OpType, path: tuple[str | int, ...], value: str
) -> None:
    world = shared_world
    before = world.snapshot(JOURNAL)
    response = world.push(world.op(op_type.value, _with(BASE_PAYLOADS[op_type], path, value)))
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "rejected", result
    assert result["reason"].startswith("invalid payload: " + ".".join(map(str, path))), result["reason"]
    assert world.snapshot(JOURNAL) == before


def test_sql_in_free_text_is_kept_as_text_and_touches_no_table(world: World) -> None:
    # Free text is any language and punctuation ("didn't fit; moved"): SQL in it is refused by
    # nothing and harmless everywhere, since every statement binds its values.
    response = _post("/tasks", task(SQL))(world)
    assert response.status_code == 201, response.text
    assert world.http.get(f"/v1/stores/{STORE}/tasks/T-NEW", auth=world.tablet).json()["title"] == SQL
    assert set(sa.inspect(world.engine).get_table_names()) >= {"ledger", "ops", "tasks"}


# ---------------------------------------------------------------------------------------------
# An op naming an approver who may not approve (authz.APPROVER_FIELDS)
# ---------------------------------------------------------------------------------------------


def _variance(approved_by: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"count_id": "C-F", "location_id": "A-01", "item_id": "I-5", "counted_qty": 0, "approved_by": approved_by,
            "started_at": (now - dt.timedelta(minutes=2)).isoformat(), "counted_at": (now - dt.timedelta(minutes=1)).isoformat()}


FORGED_APPROVALS = [
    ("an associate approving their own count variance", OpType.COUNT_RECORD, _variance("U-ASSOC"),
     "approved_by names U-ASSOC themself, who is associate"),
    ("an associate naming another associate as a count's approver", OpType.COUNT_RECORD, _variance("U-ASSOC2"),
     "approved_by names U-ASSOC2, who is associate"),
    ("a count approved by someone the store does not know", OpType.COUNT_RECORD, _variance("U-GHOST"),
     "approved_by names U-GHOST, who is not known in store S-100"),
    ("an associate approving their own over-receipt", OpType.RECEIPT_RECEIVE,
     {"receipt_id": "R-F", "po_id": "PO-1", "item_id": "I-2", "gtin": "00000000000002", "qty": 40, "approved_by": "U-ASSOC"},
     "receipt.approve_over needs a manager or admin"),
]


@pytest.mark.parametrize(("op_type", "payload", "says"), [row[1:] for row in FORGED_APPROVALS],
                         ids=[row[0] for row in FORGED_APPROVALS])
def test_an_op_naming_an_approver_who_may_not_approve_is_rejected_and_posts_nothing(
    world: World, op_type: OpType, payload: dict[str, Any], says: str
) -> None:
    before = world.snapshot(JOURNAL)
    response = world.push(world.op(op_type.value, payload))
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["status"] == "rejected", result
    assert says in result["reason"] and "Nothing was posted" in result["reason"], result["reason"]
    assert world.snapshot(JOURNAL) == before


# ---------------------------------------------------------------------------------------------
# Reads of store-wide supervision data without a manager's session (authz.READS)
# ---------------------------------------------------------------------------------------------


def _session(w: World, user: str, signer: RequestSigner, device_id: str) -> dict[str, str]:
    from edge_sync.contract import session_id_for

    now = dt.datetime.now(dt.UTC)
    sid = session_id_for(now, online=True, token=uuid.uuid4().hex[:16])
    body = {"session_id": sid, "user_id": user, "device_id": device_id, "started_at": now.isoformat()}
    assert w.http.post(f"/v1/stores/{STORE}/sessions", json=body, auth=signer).status_code == 201
    return {"X-User-Id": user, "X-Session-Id": sid}


def _read(path: str, headers: Callable[[World], dict[str, str]], *, handheld: bool = False) -> Callable[[World], httpx.Response]:
    def send(w: World) -> httpx.Response:
        return w.http.get(f"/v1/stores/{STORE}{path}", headers=headers(w), auth=w.handheld if handheld else w.tablet)
    return send


SUPERVISION_READS = ["/exceptions", "/approvals", "/devices", "/figures", "/putaway-waiting", "/erp/events", "/enrolments"]
READ_ATTACKS = [
    *[(f"a read of {p} naming no one", _read(p, lambda w: {}), 401, "session_required", "X-Session-Id")
      for p in SUPERVISION_READS],
    ("a read naming a manager without their session", _read("/exceptions", lambda w: {"X-User-Id": "U-MGR"}), 401,
     "session_required", "X-Session-Id"),
    ("a read with a session id made up", _read("/approvals", lambda w: {
        "X-User-Id": "U-MGR", "X-Session-Id": "s-20250303T090000Z-n-0123456789abcdef"}), 401, "session_required",
     "never recorded"),
    ("a read with an associate's session", _read("/erp/events", lambda w: _session(w, "U-ASSOC", w.handheld, "HH-1"),
                                                 handheld=True), 403, "forbidden", "supervision.read needs a manager"),
    ("a read with a manager's session from another device", _read(
        "/devices", lambda w: _session(w, "U-MGR", w.tablet, "TAB-1"), handheld=True), 401, "session_required",
     "on this device"),
]


@pytest.mark.parametrize(("send", "status", "code", "says"), [row[1:] for row in READ_ATTACKS],
                         ids=[row[0] for row in READ_ATTACKS])
def test_a_supervision_read_without_a_managers_session_on_the_device_is_refused(
    world: World, send: Callable[[World], httpx.Response], status: int, code: str, says: str
) -> None:
    before = world.snapshot(REPLAY_GUARD | {"sessions"})
    response = send(world)
    assert response.status_code == status, response.text
    assert _detail(response)["code"] == code and says in _detail(response)["message"], response.text
    assert world.snapshot(REPLAY_GUARD | {"sessions"}) == before


# ---------------------------------------------------------------------------------------------
# The person a signed request acts for: covered by the signature, proven by their session
# ---------------------------------------------------------------------------------------------


def _signed_then(w: World, path: str, body: dict[str, Any], signed: dict[str, str],
                 change: Callable[[httpx.Request], None]) -> httpx.Response:
    """A POST signed by the tablet with `signed` headers, then changed on the way by `change`."""
    request = httpx.Request("POST", f"http://testserver/v1/stores/{STORE}{path}", json=body, headers=signed)
    w.tablet.sign(request)
    change(request)
    return w.http.post(f"/v1/stores/{STORE}{path}", content=request.content, headers=dict(request.headers),
                       auth=None)


def _swap_user(request: httpx.Request) -> None:
    request.headers["X-User-Id"] = "U-MGR"


def _add_user(request: httpx.Request) -> None:
    request.headers["X-User-Id"] = "U-MGR"
    request.headers["X-Session-Id"] = "s-20250303T090000Z-n-0123456789abcdef"


IDENTITY_ATTACKS = [
    ("X-User-Id swapped after signing", lambda w, aid: _signed_then(
        w, f"/approvals/{aid}/approve", {"note": "ok"}, _session(w, "U-ASSOC", w.tablet, "TAB-1"), _swap_user),
     401, "signature_invalid", "does not verify"),
    ("X-User-Id and X-Session-Id added after signing", lambda w, aid: _signed_then(
        w, f"/approvals/{aid}/approve", {"note": "ok"}, {}, _add_user), 401, "identity_unsigned", "x-user-id"),
    ("a signed device naming a manager without their session", lambda w, aid: w.http.post(
        f"/v1/stores/{STORE}/approvals/{aid}/approve", json={"note": "ok"}, headers={"X-User-Id": "U-MGR"},
        auth=w.handheld), 401, "session_required", "X-Session-Id"),
    ("the manager named in the body alone", lambda w, aid: w.http.post(
        f"/v1/stores/{STORE}/approvals/{aid}/approve", json={"note": "ok", "user_id": "U-MGR"}, auth=w.tablet),
     401, "session_required", "X-Session-Id"),
    ("the manager's session from the tablet, signed by a handheld", lambda w, aid: w.http.post(
        f"/v1/stores/{STORE}/approvals/{aid}/approve", json={"note": "ok"},
        headers=_session(w, "U-MGR", w.tablet, "TAB-1"), auth=w.handheld), 401, "session_required", "on this device"),
    ("an associate's own session naming the manager in the body", lambda w, aid: w.http.post(
        f"/v1/stores/{STORE}/approvals/{aid}/approve", json={"note": "ok", "user_id": "U-MGR"},
        headers=_session(w, "U-ASSOC", w.handheld, "HH-1"), auth=w.handheld), 403, "forbidden", "U-MGR"),
]


@pytest.mark.parametrize(("send", "status", "code", "says"), [row[1:] for row in IDENTITY_ATTACKS],
                         ids=[row[0] for row in IDENTITY_ATTACKS])
def test_approving_a_count_as_a_manager_needs_the_managers_signed_session_and_changes_nothing_otherwise(
    world: World, send: Callable[[World, str], httpx.Response], status: int, code: str, says: str
) -> None:
    approval_id = _pending_count_approval(world)
    world.http.sessions_for_writes = False
    try:
        before = world.snapshot(REPLAY_GUARD | {"sessions"})
        response = send(world, approval_id)
    finally:
        world.http.sessions_for_writes = True
    assert response.status_code == status, response.text
    assert _detail(response)["code"] == code and says in _detail(response)["message"], response.text
    assert world.snapshot(REPLAY_GUARD | {"sessions"}) == before
    [approval] = [a for a in world.http.get(f"/v1/stores/{STORE}/approvals", headers=_session(
        world, "U-MGR", world.tablet, "TAB-1"), auth=world.tablet).json() if a["approval_id"] == approval_id]
    assert approval["status"] == "pending"
