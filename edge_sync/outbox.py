"""The outbox: ops appended in the same transaction as the state they describe.

`append` takes the next `seq` inside the caller's write transaction (BEGIN IMMEDIATE), so seqs are
gap-free: a rolled-back transaction rolls its seq back too. The next seq is one past the outbox's
last (ops are never deleted), or `sync_state.next_seq` when that is higher: next_seq is a floor
(1 for a new device), not a counter written by every op, which spared a scan one WAL page of the
~10 it wrote. `op_id` is a UUIDv7, time-ordered, and doubles as the Idempotency-Key on the wire.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Connection, func, select
from uuid6 import uuid7

from edge_sync import contract
from edge_sync.db import driver
from edge_sync.tables import OutboxOp, SyncState

_outbox = OutboxOp.__table__  # type: ignore[attr-defined]
_state = SyncState.__table__  # type: ignore[attr-defined]

PENDING = "pending"


NEXT_SEQ_SQL = "SELECT max(next_seq, coalesce((SELECT max(seq) FROM outbox), 0) + 1) FROM sync_state WHERE id = 1"
"""The seq the next op appended will take (None before the device is registered)."""
_APPEND_SQL = (
    "INSERT INTO outbox (seq, op_id, type, schema_version, user_id, session_id, occurred_at, clock_offset_ms,"
    " payload, state, attempts, command_id)"
    " SELECT max(next_seq, coalesce((SELECT max(seq) FROM outbox), 0) + 1), ?, ?, ?, ?, ?, ?, clock_offset_ms,"
    " ?, ?, 0, ? FROM sync_state WHERE id = 1 RETURNING seq"
)
"""One statement: the seq (see the module docstring) and the clock offset are read from the rows as
they stand in this write transaction, and sync_state is only read."""


class DeviceNotRegistered(RuntimeError):
    """The local store has no sync_state row: the device was never set up for a store."""


@dataclass(frozen=True, slots=True)
class AppendedOp:
    """What `append` wrote: enough to tell the associate "saved" and to find the op later."""

    seq: int
    op_id: UUID


def register_device(conn: Connection, *, store_id: str, device_id: str) -> None:
    """Write the one sync_state row; a device belongs to one store for its lifetime."""
    existing = conn.execute(select(_state.c.store_id, _state.c.device_id)).first()
    if existing is None:
        # Only the columns of the first schema: a device is set up before or after any migration.
        conn.exec_driver_sql(
            "INSERT INTO sync_state (id, store_id, device_id, next_seq, cursor, clock_offset_ms)"
            " VALUES (1, ?, ?, 1, '', 0)", (store_id, device_id),
        )
    elif (existing.store_id, existing.device_id) != (store_id, device_id):
        raise ValueError(
            f"this database belongs to device {existing.device_id} of store {existing.store_id}"
        )


def append(
    conn: Connection,
    *,
    op_type: contract.OpType,
    payload: BaseModel,
    user_id: str,
    session_id: str,
    occurred_at: dt.datetime,
    command_id: str | None = None,
) -> AppendedOp:
    """Append one op in the caller's transaction and return its seq and op_id."""
    # sqlite3 directly: append runs in every scan's transaction (see edge_sync.db.driver).
    raw = driver(conn)
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    op_id = uuid7()
    row = raw.execute(
        _APPEND_SQL,
        (
            str(op_id), op_type.value, contract.SCHEMA_VERSION, user_id, session_id,
            occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            payload.model_dump_json(), PENDING, command_id,
        ),
    ).fetchone()
    if row is None:
        raise DeviceNotRegistered("register the device for a store before recording work")
    seq = int(row[0])
    fields = type(payload).model_fields  # a missing attribute costs a pydantic __getattr__ miss
    for kind, field in REFERENCES:
        key = getattr(payload, field) if field in fields else None
        if key is not None:
            raw.execute('INSERT OR IGNORE INTO op_refs (kind, "key", seq) VALUES (?, ?, ?)', (kind, str(key), seq))
    return AppendedOp(seq=seq, op_id=op_id)


REFERENCES: tuple[tuple[str, str], ...] = (("task", "task_id"), ("order", "order_id"))
"""Record kinds an op changes, and the payload fields that name them (see edge_sync.overlay)."""


@dataclass(frozen=True, slots=True)
class WireBatch:
    """A batch of pending ops as the request body carries them, and their (seq, op_id) in order."""

    ops: list[tuple[int, str]]
    ops_json: list[str]


def next_seq(conn: Connection) -> int:
    """The seq the next op appended will take."""
    row = driver(conn).execute(NEXT_SEQ_SQL).fetchone()
    if row is None:
        raise DeviceNotRegistered("register the device for a store before recording work")
    return int(row[0])


def pending_batch(conn: Connection, *, limit: int, after_seq: int = 0) -> WireBatch:
    """The next pending ops after `after_seq` as JSON text, each exactly as it was written (see `to_wire`).

    The draining loop sends these without building a pydantic model per op: the payload is
    already the JSON validated when the op was appended. The text is what `json.dumps` makes of
    the op's envelope, with the stored payload in its place: the service's fingerprint of
    the op is the same as ever.
    """
    raw = driver(conn)
    state = raw.execute("SELECT store_id, device_id FROM sync_state WHERE id = 1").fetchone()
    if state is None:
        raise DeviceNotRegistered("register the device for a store before syncing")
    store_id, device_id = state
    fixed = f'"store_id": {_json_str(store_id)}, "device_id": {_json_str(device_id)}, "seq": '
    strings: dict[str, str] = {}  # a batch has few users, sessions and types: each encoded once

    def text(value: str) -> str:
        encoded = strings.get(value)
        if encoded is None:
            encoded = strings[value] = _json_str(value)
        return encoded

    ops: list[tuple[int, str]] = []
    texts: list[str] = []
    for seq, op_id, typ, version, user_id, session_id, occurred, offset, payload in raw.execute(
            _PENDING_SQL, (after_seq, limit)):
        texts.append(f'{{"op_id": {_json_str(op_id)}, {fixed}{int(seq)}, "type": {text(typ)},'
                     f' "schema_version": {int(version)}, "user_id": {text(user_id)}, "session_id": {text(session_id)},'
                     f' "occurred_at": {_json_str(occurred)}, "clock_offset_ms": {int(offset)}, "payload": {payload}}}')
        ops.append((seq, op_id))
    return WireBatch(ops, texts)


def _json_str(value: object) -> str:
    """`json.dumps` of a string column (ASCII-escaped, as json.dumps does by default)."""
    return encode_basestring_ascii(value) if isinstance(value, str) else json.dumps(value)


def result_json(result: dict[str, Any]) -> str:
    """An op's result as stored in `outbox.result`; most results are empty."""
    return json.dumps(result) if result else "{}"


def pending_ops(conn: Connection, *, limit: int = contract.MAX_BATCH, after_seq: int = 0) -> list[contract.Op]:
    """The next pending ops in seq order, as they go on the wire (each as it was written)."""
    raw = driver(conn)
    state = raw.execute("SELECT store_id, device_id FROM sync_state WHERE id = 1").fetchone()
    if state is None:
        raise DeviceNotRegistered("register the device for a store before syncing")
    rows = raw.execute(_PENDING_SQL, (after_seq, limit)).fetchall()
    return [_wire(r, store_id=state[0], device_id=state[1]) for r in rows]


_PENDING_SQL = (
    "SELECT seq, op_id, type, schema_version, user_id, session_id, occurred_at, clock_offset_ms, payload"
    " FROM outbox WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?"
)


def _wire(r: tuple[Any, ...], *, store_id: str, device_id: str) -> contract.Op:
    return to_wire({"seq": r[0], "op_id": r[1], "type": r[2], "schema_version": r[3], "user_id": r[4],
                    "session_id": r[5], "occurred_at": dt.datetime.fromisoformat(r[6]),
                    "clock_offset_ms": r[7], "payload": json.loads(r[8])},
                   store_id=store_id, device_id=device_id)


def to_wire(row: Any, *, store_id: str, device_id: str) -> contract.Op:
    """Turn an outbox row into a contract.Op: the op exactly as it was first written.

    The payload was validated when it was appended and is sent as stored, without validating it
    again: draining a long queue is bound by this loop (bench/drain.py). An op queued under an
    older schema_version goes with that version and its payload unchanged; the service upgrades
    it (`contract.parse_payload`). Upgrading here instead would change the op's fingerprint after
    an app upgrade, and an op the service applied before it (its answer lost) would come back
    "op_id reused with a different payload" and be parked although it was applied.
    """
    op_type = contract.OpType(row["type"])
    return contract.Op.model_construct(
        op_id=UUID(row["op_id"]),
        store_id=store_id,
        device_id=device_id,
        seq=int(row["seq"]),
        type=op_type,
        schema_version=int(row["schema_version"]),
        user_id=row["user_id"],
        session_id=row["session_id"],
        occurred_at=row["occurred_at"],
        clock_offset_ms=int(row["clock_offset_ms"]),
        payload=dict(row["payload"]),
    )


def count_by_state(conn: Connection) -> dict[str, int]:
    """How many ops are in each state."""
    rows = conn.execute(select(_outbox.c.state, func.count()).group_by(_outbox.c.state))
    return {state: int(n) for state, n in rows}
