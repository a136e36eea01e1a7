"""Op ingest: apply a device's batch of ops exactly once in effect.

For each op, in the order sent:

- its `op_id` is already stored: the stored answer (`duplicate` with the original result; a
  stored rejection is answered as `rejected` again) and nothing changes; with a different
  fingerprint it is `rejected` ("op_id reused with a different payload") and nothing changes;
- `seq` is the device's last applied seq + 1: the applier runs, and the op's id, fingerprint and
  result are written in the same transaction as its effect; a refused op (invalid payload, unknown
  item, not allowed) is stored as `rejected` too, so it takes its seq and never blocks the queue;
- `seq` is further on: `out_of_order` with `expected_seq`, not stored; the device resends from
  the gap;
- `seq` is behind but the op_id is new: that seq belongs to another op; `rejected`, not stored.

A batch is one transaction holding the store's lock (see `txn.StoreTx`), so concurrent posts of
the same op serialize and exactly one of them applies it; the unique (store_id, op_id) key is the
backstop, and an IntegrityError retries the whole batch. A batch whose ops are all stored already
is answered from one read, without taking the write lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from edge_sync.contract import DeviceStatusReport, Op, OpResult, OpStatus, PushRequest, Role, parse_payload
from server_stub import lookups
from server_stub import tables as t
from server_stub.appliers import APPLIERS, OpContext
from server_stub import authz, sessions
from server_stub.auth import Actor
from server_stub.db import (
    Memo,
    binder,
    fast_writer,
    fast_insert_ignore,
    fast_update,
    loader,
    marker,
    read_transaction,
    select_in,
    write_transaction,
)
from server_stub.errors import InvalidRequest, OpRejected
from server_stub.settings import Settings
from server_stub.signatures import DeviceRefused
from server_stub.txn import StoreTx, WrittenWith, utcnow

log = logging.getLogger(__name__)

REUSED_OP_ID = "op_id reused with a different payload"
_ATTEMPTS = 5


def fingerprint(op: Op, occurred_iso: str | None = None) -> str:
    """sha256 of the op's canonical JSON (sorted keys, no spaces): same op, same fingerprint.

    Every field of the envelope is covered (none is volatile: a resend is the very same op), with
    the payload as the device wrote it, keys sorted. `occurred_iso`, when given, is
    `utc_iso(op.occurred_at)` made already.
    """
    # Keys in sorted order, as `canonical_json` sorts them; only the payload needs sorting.
    envelope = {
        "clock_offset_ms": op.clock_offset_ms, "device_id": op.device_id, "occurred_at": occurred_iso or utc_iso(op.occurred_at),
        "op_id": str(op.op_id), "payload": op.payload, "schema_version": op.schema_version, "seq": op.seq,
        "session_id": op.session_id, "store_id": op.store_id, "type": op.type.value, "user_id": op.user_id,
    }
    payload = _sorted_plain(op.payload)
    low, high = -_INT_LIMIT, _INT_LIMIT
    if (payload is not _NOT_PLAIN and low <= op.clock_offset_ms < high and low <= op.schema_version < high
            and low <= op.seq < high):
        envelope["payload"] = payload
        try:
            return hashlib.sha256(to_json(envelope)).hexdigest()
        except PydanticSerializationError:
            envelope["payload"] = op.payload
    return hashlib.sha256(canonical_json(envelope)).hexdigest()


_ZERO = dt.timedelta(0)


def _in_utc(at: dt.datetime) -> bool:
    """An aware time at offset zero: `dt.UTC`'s, or pydantic's own zone object of a parsed request."""
    tz = at.tzinfo
    return tz is dt.UTC or (tz is not None and at.utcoffset() == _ZERO)


def utc_iso(at: dt.datetime) -> str:
    """`at.astimezone(dt.UTC).isoformat()`; a time already in UTC (as devices send them) skips the
    conversion, which costs more than the formatting."""
    return at.isoformat() if _in_utc(at) else at.astimezone(dt.UTC).isoformat()


def canonical_json(value: dict[str, Any]) -> bytes:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)`, UTF-8.

    The fingerprint is stored, so these bytes must never change. pydantic-core writes the very same
    text for strings, integers, booleans, null, lists and objects (same escapes, no ASCII
    escaping) about five times faster; anything else (floats, whose repr differs, huge integers,
    other types) goes through json.dumps itself.
    """
    plain = _sorted_plain(value)
    if plain is not _NOT_PLAIN:
        try:
            return to_json(plain)
        except PydanticSerializationError:
            pass
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


_NOT_PLAIN = object()
_INT_LIMIT = 2**63


def _sorted_plain(value: Any) -> Any:
    """A copy of a JSON value with every object's keys sorted; _NOT_PLAIN if it holds any other type."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return value if -_INT_LIMIT <= value < _INT_LIMIT else _NOT_PLAIN
    if kind is list:
        items = [_sorted_plain(v) for v in value]
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items) else items
    if kind is not dict:
        return _NOT_PLAIN
    try:
        keys = sorted(value)
    except TypeError:
        return _NOT_PLAIN
    out = {}
    # Scalars inline: this runs for every op's payload.
    for key in keys:
        if type(key) is not str:
            return _NOT_PLAIN
        item = value[key]
        kind = type(item)
        if kind is int:
            if not -_INT_LIMIT <= item < _INT_LIMIT:
                return _NOT_PLAIN
        elif not (kind is str or kind is bool or item is None):
            item = _sorted_plain(item)
            if item is _NOT_PLAIN:
                return _NOT_PLAIN
        out[key] = item
    return out


@dataclass(slots=True)
class IngestReport:
    """What one push did: the answers, and figures for the metrics."""

    results: list[OpResult]
    server_time: dt.datetime
    applied_types: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[OpResult]:
        """Answers refusing an op_id reused with another payload."""
        return [r for r in self.results if r.status is OpStatus.REJECTED and r.reason == REUSED_OP_ID]


class _RetryWithSavepoints(Exception):
    """An applier without a savepoint failed unexpectedly: redo the batch with savepoints."""


@dataclass(slots=True)
class _Stored:
    fingerprint: str
    status: str
    reason: str | None
    result: dict[str, Any]
    seq: int


def _load_stored(conn: Connection, store_id: str, op_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, _Stored]:
    o = t.ops
    to_db, op_id_of, result_of = binder(conn, o.c.op_id), loader(conn, o.c.op_id), loader(conn, o.c.result)
    m = marker(conn)
    rows = select_in(
        conn,
        f"SELECT op_id, fingerprint, status, reason, result, seq FROM ops WHERE store_id = {m} AND op_id IN ({{in}})",
        [to_db(i) for i in dict.fromkeys(op_ids)],
        before=[store_id],
    )
    return {op_id_of(op_id): _Stored(fp, status, reason, result_of(result), seq) for op_id, fp, status, reason, result, seq in rows}


def _answer_stored(op: Op, fp: str, stored: _Stored, now: dt.datetime) -> OpResult:
    if stored.fingerprint != fp:
        return OpResult(op_id=op.op_id, seq=op.seq, status=OpStatus.REJECTED, reason=REUSED_OP_ID, server_time=now)
    if stored.status == OpStatus.REJECTED.value:
        return OpResult(
            op_id=op.op_id, seq=op.seq, status=OpStatus.REJECTED, reason=stored.reason, result=stored.result, server_time=now
        )
    # A duplicate's answer is the stored result (a dict the service wrote) and our own fields: built
    # without validation, as every op of a resent batch is.
    return answer_of_ours(op.op_id, op.seq, OpStatus.DUPLICATE, stored.result, now)


_ANSWER_FIELDS = frozenset(OpResult.model_fields)
_new = object.__new__
_set = object.__setattr__


def answer_of_ours(op_id: uuid.UUID, seq: int, status: OpStatus, result: dict[str, Any], now: dt.datetime) -> OpResult:
    """An answer without a reason, every field ours and of its type: the very object
    `OpResult.model_construct` makes with every field given (a test holds them equal), at a third of
    its cost, which is paid for every op of every push."""
    answer = _new(OpResult)
    _set(answer, "__dict__", {"op_id": op_id, "seq": seq, "status": status, "reason": None, "expected_seq": None,
                              "result": result, "server_time": now})
    _set(answer, "__pydantic_fields_set__", set(_ANSWER_FIELDS))
    _set(answer, "__pydantic_extra__", None)
    _set(answer, "__pydantic_private__", None)
    return answer


@dataclass(frozen=True, slots=True)
class _Refused:
    """A payload that did not validate: the reason the op is rejected."""

    reason: str


def _effective_at(op: Op) -> dt.datetime:
    """When the op took effect: its device time corrected by the device's clock offset, in UTC.

    With no offset to apply and a time already in UTC, that is the very `occurred_at` object: its
    stored text is then converted once for both columns (the batch's conversions go by identity).
    """
    at = op.occurred_at
    if op.clock_offset_ms == 0 and _in_utc(at):
        return at
    return (at + dt.timedelta(milliseconds=op.clock_offset_ms)).astimezone(dt.UTC)


def _parse(op: Op) -> Any:
    """The op's validated payload, or _Refused; pure, so it runs before the store's lock."""
    try:
        return parse_payload(op.type, op.schema_version, op.payload)
    except ValidationError as exc:
        return _Refused(_explain(exc))
    except ValueError as exc:
        return _Refused(str(exc)[:500])


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        # A field's name is the sender's: only plain characters of it go into the reason, which is
        # stored, sent back and shown, and must pass the contract's Text rules itself.
        where = re.sub(r"[^A-Za-z0-9._:\-]", "?", ".".join(str(x) for x in err["loc"]))[:80] or "payload"
        parts.append(f"{where}: {err['msg']}")
    return ("invalid payload: " + "; ".join(parts))[:500]


class Ingestor:
    """Applies pushes for any store of one database."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    def push(self, store_id: str, request: PushRequest, *, device_id: str | None = None,
             nonce: WrittenWith | None = None) -> IngestReport:
        """Apply a batch of ops for `store_id`; one answer per op, in order.

        `device_id` is the device whose signature was verified: every op must be its own (403
        `device_mismatch` otherwise, and nothing is applied). `nonce` is written in the batch's
        transaction (or in the device-touch one of a resend), never in one of its own.
        """
        for op in request.ops:
            if op.store_id != store_id:
                raise InvalidRequest(f"op {op.op_id} is for store {op.store_id}, not {store_id}; push it to its own store")
            if device_id is not None and op.device_id != device_id:
                raise DeviceRefused(
                    "device_mismatch",
                    f"op {op.op_id} says it was made by device {op.device_id[:64]}, but this push is signed by device "
                    f"{device_id}: a device pushes only its own ops, under its own device id. Nothing was applied",
                )
        isos = [utc_iso(op.occurred_at) for op in request.ops]
        fps = [fingerprint(op, iso) for op, iso in zip(request.ops, isos, strict=True)]
        with read_transaction(self.engine) as conn:
            # Ops come in seq order: when the last is new, the batch is not a resend, and the write
            # path reads what is stored (under the lock) anyway.
            stored = _load_stored(conn, store_id, [request.ops[-1].op_id])
            if stored:
                stored = _load_stored(conn, store_id, [op.op_id for op in request.ops])
        if len(stored) == len({op.op_id for op in request.ops}):
            now = utcnow()
            results = [_answer_stored(op, fp, stored[op.op_id], now) for op, fp in zip(request.ops, fps, strict=True)]
            self._touch_device(store_id, request, now, nonce)
            return IngestReport(results, now)
        # Validation does not depend on the store's state: done before taking its lock.
        payloads = [_parse(op) for op in request.ops]
        effective = [_effective_at(op) for op in request.ops]
        memo = self._seeded(request.ops, isos, effective)
        force_savepoints = look_up_all = False
        for attempt in range(_ATTEMPTS):
            try:
                with StoreTx.open(self.engine, store_id, nonce=nonce, memo=memo) as tx:
                    return self._apply_batch(tx, request, fps, payloads, effective, force_savepoints, look_up_all)
            except _RetryWithSavepoints:
                force_savepoints = True
            except IntegrityError:
                if attempt == _ATTEMPTS - 1:
                    raise
                look_up_all = True
                log.info("integrity error on a push to %s; retrying the batch", store_id)
        raise RuntimeError("unreachable")  # pragma: no cover

    def _seeded(self, ops: Sequence[Op], isos: list[str], effective: list[dt.datetime]) -> Memo:
        """The conversions an op's rows need (its id, times, payload), made before the store's lock is
        taken, so that the time under it is shorter (the ops of other pushes wait for it). `isos` are
        the ops' times in UTC as the fingerprints wrote them: on SQLite the stored text is cut from
        them; an effective time that is the op's own time object is converted with it."""
        memo: Memo = {}
        writer = fast_writer(self.engine.dialect, t.ops)
        writer.seed(memo, "op_id", [op.op_id for op in ops])
        writer.seed_times(memo, "occurred_at", [op.occurred_at for op in ops], isos)
        writer.seed(memo, "effective_at", effective)
        writer.seed(memo, "payload", [op.payload for op in ops])
        return memo

    def _touch_device(self, store_id: str, request: PushRequest, now: dt.datetime, nonce: WrittenWith | None) -> None:
        device_id = request.ops[0].device_id
        with write_transaction(self.engine) as conn:
            if nonce is not None:
                nonce.write(conn)
            _ensure_devices(conn, store_id, [device_id], now)
            values: dict[str, Any] = {"last_seen_at": now, **_status_values(request.device_status)}
            fast_update(conn, t.devices, {"store_id": store_id, "device_id": device_id}, values)
        if nonce is not None:
            nonce.committed()

    def _apply_batch(
        self,
        tx: StoreTx,
        request: PushRequest,
        fps: list[str],
        payloads: list[Any],
        effective: list[dt.datetime],
        force_savepoints: bool,
        look_up_all: bool,
    ) -> IngestReport:
        ops = request.ops
        device_ids = list(dict.fromkeys(op.device_id for op in ops))
        _ensure_devices(tx.conn, tx.store_id, device_ids, tx.now)
        last_seq = dict(select_in(
            tx.conn,
            f"SELECT device_id, last_seq FROM devices WHERE store_id = {marker(tx.conn)} AND device_id IN ({{in}})",
            device_ids,
            before=[tx.store_id],
        ))
        # Every stored op took its device's seq, so only ops at or below last_seq can be stored,
        # save an op_id reused under a new seq: its insert breaks the (store_id, op_id) key, and
        # the retry looks up every op.
        candidates = [op.op_id for op in ops if look_up_all or op.seq <= last_seq[op.device_id]]
        stored = _load_stored(tx.conn, tx.store_id, candidates) if candidates else {}
        self._prefetch(tx, ops)
        report = IngestReport([], tx.now)
        last_op: dict[str, tuple[dt.datetime, str]] = {}
        for op, fp, payload, effective_at in zip(ops, fps, payloads, effective, strict=True):
            known = stored.get(op.op_id)
            if known is not None:
                report.results.append(_answer_stored(op, fp, known, tx.now))
                continue
            expected = last_seq[op.device_id] + 1
            if op.seq > expected:
                report.results.append(OpResult(
                    op_id=op.op_id, seq=op.seq, status=OpStatus.OUT_OF_ORDER, expected_seq=expected, server_time=tx.now,
                    reason=f"ops {expected} to {op.seq - 1} of device {op.device_id} have not arrived; send from {expected}",
                ))
                continue
            if op.seq < expected:
                report.results.append(OpResult(
                    op_id=op.op_id, seq=op.seq, status=OpStatus.REJECTED, server_time=tx.now,
                    reason=f"seq {op.seq} of device {op.device_id} already belongs to another op; this op was not applied",
                ))
                continue
            status, reason, result = self._apply_one(tx, op, payload, effective_at, force_savepoints)
            op_type, status_value = op.type.value, status.value
            # The stored op is also its result's entry in the change feed, at its change seq.
            tx.append(t.ops, {
                "op_id": op.op_id, "device_id": op.device_id, "seq": op.seq, "type": op_type,
                "user_id": op.user_id, "occurred_at": op.occurred_at, "effective_at": effective_at,
                "fingerprint": fp, "status": status_value, "reason": reason, "result": result,
                "payload": op.payload, "recorded_at": tx.now, "change_seq": tx.next("change_seq"),
            })
            stored[op.op_id] = _Stored(fp, status_value, reason, result, op.seq)
            last_seq[op.device_id] = op.seq
            last_op[op.device_id] = (effective_at, op.user_id)
            if status is OpStatus.APPLIED:
                report.applied_types.append(op_type)
            if reason is None:
                # Every field is ours and of its declared type (an applier's result is a plain dict):
                # built without validation, as it is for each applied op.
                report.results.append(answer_of_ours(op.op_id, op.seq, status, result, tx.now))
            else:
                report.results.append(
                    OpResult(op_id=op.op_id, seq=op.seq, status=status, reason=reason, result=result, server_time=tx.now)
                )
        self._update_devices(tx, request, device_ids, last_seq, last_op)
        return report

    def _prefetch(self, tx: StoreTx, ops: Sequence[Op]) -> None:
        items: set[str] = set()
        locations: set[str] = set()
        for op in ops:
            for key, value in op.payload.items():
                if isinstance(value, str):
                    if key.endswith("item_id"):
                        items.add(value)
                    elif key.endswith("location_id"):
                        locations.add(value)
        lookups.prefetch(tx, items=items, locations=locations, users={op.user_id for op in ops})
        # Occupancy matters only where there is a capacity to check: a dock or staging area
        # (capacity 0) holds many items, and its rows need not be summed for every batch. A
        # location not read here is still read on first use (`StoreTx.location_occupancy`).
        tx.prefetch_occupancy(lookups.with_capacity(tx, locations))

    def _apply_one(
        self, tx: StoreTx, op: Op, payload: Any, effective_at: dt.datetime, force_savepoints: bool
    ) -> tuple[OpStatus, str | None, dict[str, Any]]:
        spec = APPLIERS[op.type]
        if isinstance(payload, _Refused):
            return OpStatus.REJECTED, payload.reason, {}
        # Authorised against the session that made the op (its role and store), however late it comes.
        session = sessions.session_for_op(tx, op, effective_at)
        if session.refusal is not None:
            return OpStatus.REJECTED, session.refusal, {}
        role = session.role
        if role is None and self.settings.require_known_users:
            return OpStatus.REJECTED, f"user {op.user_id} is not known in store {tx.store_id}; sign in as a known user", {}
        action = authz.action_for_op(op.type)
        # An unknown user (only when the settings accept them) acts as an associate at most.
        if not authz.allowed(role or _ASSOCIATE, action):
            return OpStatus.REJECTED, authz.refusal(op.user_id, role, action), {}
        ctx = OpContext(tx, op, payload, effective_at, self.settings, Actor(op.user_id, op.device_id, role, op.session_id), [])
        use_savepoint = spec.savepoint or force_savepoints
        if spec.reads_ledger or use_savepoint:
            tx.flush()
        savepoint = tx.conn.begin_nested() if use_savepoint else None
        mark = tx.mark()
        try:
            result = spec.apply(ctx)
        except OpRejected as exc:
            if savepoint is not None:
                savepoint.rollback()
            tx.rollback_to(mark)
            return OpStatus.REJECTED, exc.reason, exc.result
        except DBAPIError:
            raise
        except Exception as exc:
            if savepoint is None:
                raise _RetryWithSavepoints from exc
            savepoint.rollback()
            tx.rollback_to(mark)
            log.exception("applying op %s (%s) failed", op.op_id, op.type.value)
            return OpStatus.REJECTED, f"the server could not apply this op ({type(exc).__name__}); tell a manager", {}
        if savepoint is not None:
            savepoint.commit()
        return OpStatus.APPLIED, None, result

    def _update_devices(
        self,
        tx: StoreTx,
        request: PushRequest,
        device_ids: list[str],
        last_seq: dict[str, int],
        last_op: dict[str, tuple[dt.datetime, str]],
    ) -> None:
        pusher = request.ops[0].device_id
        for device_id in device_ids:
            values: dict[str, Any] = {"last_seq": last_seq[device_id], "last_seen_at": tx.now}
            if device_id in last_op:
                at, user_id = last_op[device_id]
                values.update(last_op_at=at, last_user_id=user_id, lag_ms=int((tx.now - at).total_seconds() * 1000))
            if device_id == pusher:
                values.update(_status_values(request.device_status))
            fast_update(tx.conn, t.devices, {"store_id": tx.store_id, "device_id": device_id}, values)


_ASSOCIATE = Role.ASSOCIATE.value


def _ensure_devices(conn: Connection, store_id: str, device_ids: list[str], now: dt.datetime) -> None:
    fast_insert_ignore(
        conn,
        t.devices,
        [{"store_id": store_id, "device_id": d, "last_seq": 0, "first_seen_at": now, "last_seen_at": now} for d in device_ids],
        ["store_id", "device_id"],
    )


def _status_values(report: DeviceStatusReport | None) -> dict[str, Any]:
    if report is None:
        return {}
    return {
        "pending": report.pending,
        "parked": report.parked,
        "oldest_pending_at": report.oldest_pending_at,
        "app_version": report.app_version,
    }
