"""Sessions: the role and the window every op is authorised with, even when it arrives days later.

The offline policy (`edge_sync.contract.SESSION_TTL`, `OFFLINE_START_TTL`), as the service applies it:

- A session started online is recorded here at sign-in (`start_online`): the user's role in the
  store then, and its window, 12 hours from the service's clock. Its ops are authorised against
  that role, in that store, whenever they arrive, if they were made (occurred_at corrected by the
  device's clock offset) inside the window.
- A session this service never saw started offline: its id names its start (device clock). It is
  recorded when its first op arrives, with the user's role in the store then, and a 4-hour window.
- An op made outside its session's window, by another user or device than the session's, or for
  another store, is rejected with the reason; the device parks it.
- Session ids of the older form (no start in the id, written before this policy) are authorised
  against the user's current role, with no window, so ops queued by older app versions still drain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from edge_sync.contract import (
    CLOCK_SKEW,
    OFFLINE_START_TTL,
    SESSION_TTL,
    Op,
    Role,
    SessionRecord,
    SessionStart,
    parse_session_id,
)
from server_stub import lookups
from server_stub import tables as t
from server_stub.errors import Conflict, Forbidden, InvalidRequest
from server_stub.txn import StoreTx


@dataclass(frozen=True, slots=True)
class OpSession:
    """The session an op was made in: the role to authorise it with, or why it is refused."""

    role: str | None
    refusal: str | None = None


def _record(row: sa.Row[tuple[object, ...]]) -> SessionRecord:
    m = row._mapping
    return SessionRecord(session_id=m["session_id"], user_id=m["user_id"], device_id=m["device_id"], role=Role(m["role"]),
                         started_at=m["started_at"], expires_at=m["expires_at"], started_online=m["started_online"])


def _find(tx: StoreTx, session_id: str) -> SessionRecord | None:
    cache = tx.caches.setdefault("sessions", {})
    if session_id not in cache:
        s = t.sessions
        row = tx.conn.execute(sa.select(s).where(s.c.store_id == tx.store_id, s.c.session_id == session_id)).first()
        cache[session_id] = None if row is None else _record(row)
    found: SessionRecord | None = cache[session_id]
    return found


def _elsewhere(tx: StoreTx, session_id: str) -> str | None:
    s = t.sessions
    return tx.conn.execute(
        sa.select(s.c.store_id).where(s.c.session_id == session_id, s.c.store_id != tx.store_id).limit(1)
    ).scalar_one_or_none()


def _insert(tx: StoreTx, record: SessionRecord) -> None:
    tx.conn.execute(sa.insert(t.sessions).values(store_id=tx.store_id, recorded_at=tx.now, **record.model_dump()))
    tx.caches.setdefault("sessions", {})[record.session_id] = record


def start_online(tx: StoreTx, start: SessionStart, device_id: str | None) -> SessionRecord:
    """Record a session started online, with the user's role now and 12 hours from now."""
    if device_id is not None and device_id != start.device_id:
        raise Forbidden(f"device {device_id} may not start a session for device {start.device_id}")
    parsed = parse_session_id(start.session_id)
    if parsed is None or not parsed[1]:
        raise InvalidRequest("session_id must be of the form s-<YYYYMMDDTHHMMSSZ>-n-<16 hex> for an online sign-in")
    existing = _find(tx, start.session_id)
    if existing is not None:
        if (existing.user_id, existing.device_id) != (start.user_id, start.device_id):
            raise Conflict(f"session {start.session_id} belongs to another user or device")
        return existing
    if _elsewhere(tx, start.session_id) is not None:
        raise Conflict(f"session {start.session_id} was started in another store")
    role = lookups.user_role(tx, start.user_id)
    if role is None:
        raise Forbidden(f"user {start.user_id} is not known in store {tx.store_id}; ask a manager to add them")
    record = SessionRecord(session_id=start.session_id, user_id=start.user_id, device_id=start.device_id, role=Role(role),
                           started_at=tx.now, expires_at=tx.now + SESSION_TTL, started_online=True)
    _insert(tx, record)
    return record


def session_for_op(tx: StoreTx, op: Op, effective_at: dt.datetime) -> OpSession:
    """The role to authorise `op` with, or the reason it is refused (see the module docstring).

    A batch's ops mostly share one session: what the session is (its record, or a refusal that
    does not depend on when the op was made) is worked out once per (session, user, device) in the
    transaction; only the window is checked for each op.
    """
    memo = tx.caches.setdefault("op_sessions", {})
    key = f"{op.session_id}\x1f{op.user_id}\x1f{op.device_id}"
    found: OpSession | tuple[SessionRecord, OpSession] | None = memo.get(key)
    if found is None:
        found = memo[key] = _session_of(tx, op)
    if isinstance(found, OpSession):
        return found
    record, open_session = found
    if effective_at < record.started_at - CLOCK_SKEW:
        return OpSession(None, f"this op was made before its session started ({record.started_at:%Y-%m-%d %H:%M} UTC); "
                               "check the device clock, sign in again and resend it")
    if effective_at >= record.expires_at:
        how = "online" if record.started_online else "offline"
        return OpSession(None, f"session {op.session_id} (started {how} {record.started_at:%Y-%m-%d %H:%M} UTC) had ended at "
                               f"{record.expires_at:%Y-%m-%d %H:%M} UTC when this op was made; sign in again and resend it")
    return open_session


def _session_of(tx: StoreTx, op: Op) -> OpSession | tuple[SessionRecord, OpSession]:
    """The op's session: a final answer (an older-form id's role, or a refusal), or its record and
    the answer for an op made inside its window."""
    parsed = parse_session_id(op.session_id)
    if parsed is None:
        return OpSession(lookups.user_role(tx, op.user_id))
    record = _find(tx, op.session_id)
    if record is None:
        other = _elsewhere(tx, op.session_id)
        if other is not None:
            return OpSession(None, f"session {op.session_id} was started in store {other}: its ops belong there")
        role = lookups.user_role(tx, op.user_id)
        if role is None:
            return OpSession(None)
        started = parsed[0] + dt.timedelta(milliseconds=op.clock_offset_ms)
        record = SessionRecord(session_id=op.session_id, user_id=op.user_id, device_id=op.device_id, role=Role(role),
                               started_at=started, expires_at=started + OFFLINE_START_TTL, started_online=False)
        _insert(tx, record)
    if (record.user_id, record.device_id) != (op.user_id, op.device_id):
        return OpSession(None, f"session {op.session_id} is {record.user_id}'s on device {record.device_id}; "
                               f"this op names {op.user_id} on {op.device_id}: sign in again and resend it")
    return record, OpSession(record.role.value)


def role_at(tx: StoreTx, user_id: str, at: dt.datetime) -> str | None:
    """The role `user_id` had in this store at `at`: that of a session of theirs open then (the role
    recorded when it started), else their role in the store's user list now; None when unknown."""
    s = t.sessions
    row = tx.conn.execute(
        sa.select(s.c.role)
        .where(s.c.store_id == tx.store_id, s.c.user_id == user_id, s.c.started_at <= at + CLOCK_SKEW, s.c.expires_at > at)
        .order_by(s.c.started_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return str(row) if row is not None else lookups.user_role(tx, user_id)


def session_for_read(tx: StoreTx, user_id: str, session_id: str, device_id: str | None) -> OpSession:
    """The role a request presenting this session reads with, now; or why the session is refused.

    The session must be of this policy's form, the user's, on the device that signed the request
    (when signatures are on), and open now. One the service never saw must have started offline
    (an online sign-in is recorded at once): it is judged as its ops would be, with the user's
    role in the store now and 4 hours from the start its id names. Nothing is written.
    """
    parsed = parse_session_id(session_id)
    if parsed is None:
        return OpSession(None, f"{session_id[:64]} is not a session of this service: sign in again on the device")
    record = _find(tx, session_id)
    if record is None:
        if parsed[1]:
            return OpSession(None, f"session {session_id} was never recorded by this store: sign in again on the device")
        if _elsewhere(tx, session_id) is not None:
            return OpSession(None, f"session {session_id} was started in another store: sign in again on the device")
        role = lookups.user_role(tx, user_id)
        if role is None:
            return OpSession(None, f"user {user_id} is not known in store {tx.store_id}; ask a manager to add them")
        record = SessionRecord(session_id=session_id, user_id=user_id, device_id=device_id or "", role=Role(role),
                               started_at=parsed[0], expires_at=parsed[0] + OFFLINE_START_TTL, started_online=False)
    if record.user_id != user_id or (device_id is not None and record.device_id not in (device_id, "")):
        return OpSession(None, f"session {session_id} is not {user_id}'s on this device: sign in again on the device")
    if not record.started_at - CLOCK_SKEW <= tx.now < record.expires_at:
        return OpSession(None, f"session {session_id} is not open now (it runs {record.started_at:%Y-%m-%d %H:%M} to "
                               f"{record.expires_at:%Y-%m-%d %H:%M} UTC): sign in again on the device")
    return OpSession(record.role.value)
