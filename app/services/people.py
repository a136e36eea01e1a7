"""Who is who on this device: sign-in by badge or PIN, and the session that follows.

Sign-in creates a short-lived session (id, user, role, device, started_at, expires_at,
started_online), kept in the device's `sessions` table; every op the person makes carries its
user and session id. The offline policy (both ends apply it, see `edge_sync.contract`):

- A session started online (the service recorded the sign-in, and the role the user had then) may
  record ops, with or without a network, for 12 hours from sign-in (`SESSION_TTL`, one shift).
  Ops made in that window are accepted whenever they reach the service, days later included,
  and authorised against the role and store the session started with.
- A session started offline (the service could not be reached; the badge or PIN was checked
  against the master data last pulled) may record ops for 4 hours (`OFFLINE_START_TTL`); the
  service authorises them against the role the user has in the store when the first arrives.
- After that the device asks the person to sign in again, and the service refuses ops made by
  an expired session; the device parks them with the service's reason.

PINs: the service sends only a slow salted hash (scrypt) in the user's master data; the device
keeps it encrypted and compares with it. After `MAX_PIN_FAILURES` wrong PINs in a row, PIN
sign-in for that user is locked for `LOCKOUT` (a badge still works). Nothing here logs a PIN.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, select

from app.domain.context import Actor, Clock, SystemClock
from app.domain.errors import NotAllowed, NotFound, WrongScan
from edge_sync import contract, crypto
from edge_sync.repositories.master import MasterRepository, UserInfo, users_t
from edge_sync.tables import Session, SignInFailure
from edge_sync.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_BADGE = 64
MAX_PIN_LENGTH = 12
MAX_PIN_FAILURES: Final = 5
LOCKOUT: Final = dt.timedelta(minutes=15)

sessions_t = Session.__table__  # type: ignore[attr-defined]
failures_t = SignInFailure.__table__  # type: ignore[attr-defined]

SessionRegistrar = Callable[[contract.SessionStart], contract.SessionRecord]
"""Tells the service a session started (online sign-in); raises OSError-like errors when offline."""


class SessionExpired(NotAllowed):
    """The session may no longer record ops: sign in again."""

    code = "session_expired"


SESSION_ENDED: Final = "Your session has ended: scan your badge to sign in again"
"""What the screen says when a command comes from a session that has ended."""


def sign_in_by_badge(
    uow_factory: UnitOfWorkFactory,
    badge: str,
    *,
    device_id: str,
    clock: Clock | None = None,
    online: SessionRegistrar | None = None,
) -> tuple[Actor, str]:
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
    return _start_session(uow_factory, user, device_id, clock or SystemClock(), online, "badge"), user.name


def sign_in_by_pin(
    uow_factory: UnitOfWorkFactory,
    user: str,
    pin: str,
    *,
    device_id: str,
    clock: Clock | None = None,
    online: SessionRegistrar | None = None,
) -> tuple[Actor, str]:
    """The actor for a user (badge or user id) and PIN, and the name to greet.

    Refuses an unknown user, a user without a PIN, a wrong PIN (saying how many tries are left),
    and any PIN while the user is locked out after `MAX_PIN_FAILURES` wrong ones.
    """
    who = user.strip()
    if not who or len(who) > MAX_BADGE or not who.isprintable():
        raise WrongScan("Scan your badge or type your user id, then your PIN")
    if not pin or len(pin) > MAX_PIN_LENGTH or not pin.isdigit():
        raise WrongScan(f"A PIN is 4 to {MAX_PIN_LENGTH} digits: type it again")
    clock = clock or SystemClock()
    now = clock.now()
    with uow_factory() as uow:
        repo = MasterRepository(uow.conn)
        found = repo.user(who) or repo.user_by_badge(who.upper())
        if found is None:
            raise NotFound(f"{who[:20]} is not known on this device: ask a manager")
        locked_until = _locked_until(uow.conn, found.user_id)
        if locked_until is not None and now < locked_until:
            minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
            raise NotAllowed(f"Too many wrong PINs: PIN sign-in is locked for {minutes} more minutes. Scan your badge or ask a manager")
        stored = uow.conn.execute(select(users_t.c.pin_hash).where(users_t.c.user_id == found.user_id)).scalar_one()
        pin_hash = crypto.cipher_for(uow.conn).decrypt(stored, table="users", column="pin_hash", row=found.user_id)
        if not pin_hash:
            raise NotAllowed(f"{found.name} has no PIN yet: scan your badge, or ask a manager to set a PIN")
        if not contract.verify_pin(pin, pin_hash):
            left = _record_failure(uow.conn, found.user_id, now)
            uow.commit()
            log.info("wrong PIN for %s on %s", found.user_id, device_id)
            if left <= 0:
                raise NotAllowed(f"Wrong PIN. PIN sign-in is locked for {int(LOCKOUT.total_seconds() // 60)} minutes: scan your badge or ask a manager")
            raise NotAllowed(f"Wrong PIN: {left} {'try' if left == 1 else 'tries'} left before PIN sign-in is locked")
        uow.conn.execute(failures_t.delete().where(failures_t.c.user_id == found.user_id))
        uow.commit()
    return _start_session(uow_factory, found, device_id, clock, online, "PIN"), found.name


def _locked_until(conn: Connection, user_id: str) -> dt.datetime | None:
    row = conn.execute(select(failures_t.c.locked_until).where(failures_t.c.user_id == user_id)).first()
    return None if row is None else row.locked_until


def _record_failure(conn: Connection, user_id: str, now: dt.datetime) -> int:
    """Count a wrong PIN; return the tries left (0 when this one locked PIN sign-in)."""
    row = conn.execute(select(failures_t.c.failures, failures_t.c.locked_until).where(failures_t.c.user_id == user_id)).first()
    failures = 1 if row is None or (row.locked_until is not None and now >= row.locked_until) else int(row.failures) + 1
    locked = now + LOCKOUT if failures >= MAX_PIN_FAILURES else None
    conn.execute(failures_t.delete().where(failures_t.c.user_id == user_id))
    conn.execute(failures_t.insert().values(user_id=user_id, failures=0 if locked else failures, locked_until=locked))
    return max(0, MAX_PIN_FAILURES - failures)


def _start_session(
    uow_factory: UnitOfWorkFactory, user: UserInfo, device_id: str, clock: Clock, online: SessionRegistrar | None, how: str
) -> Actor:
    started = clock.now().astimezone(dt.UTC).replace(microsecond=0)
    token = secrets.token_hex(8)
    record: contract.SessionRecord | None = None
    if online is not None:
        start = contract.SessionStart(
            session_id=contract.session_id_for(started, online=True, token=token),
            user_id=user.user_id, device_id=device_id, started_at=started,
        )
        try:
            record = online(start)
        except Exception as exc:  # any failure to reach the service: the session starts offline
            log.info("session registration failed (%s): starting offline", type(exc).__name__)
    if record is not None:
        actor = Actor(user_id=user.user_id, session_id=record.session_id, role=record.role.value, device_id=device_id,
                      started_at=started, expires_at=record.expires_at, started_online=True)
    else:
        actor = Actor(user_id=user.user_id, session_id=contract.session_id_for(started, online=False, token=token),
                      role=user.role, device_id=device_id, started_at=started,
                      expires_at=started + contract.OFFLINE_START_TTL, started_online=False)
    with uow_factory() as uow:
        uow.conn.execute(sessions_t.insert().values(
            session_id=actor.session_id, user_id=actor.user_id, role=actor.role, device_id=device_id,
            started_at=started, expires_at=actor.expires_at, started_online=actor.started_online,
        ))
        uow.commit()
    log.info("%s signed in by %s on %s (%s session until %s)", user.user_id, how, device_id,
             "online" if actor.started_online else "offline", actor.expires_at)
    return actor


def session_of(uow_factory: UnitOfWorkFactory, session_id: str) -> Actor | None:
    """The actor of a session recorded on this device (ended or not), or None."""
    with uow_factory() as uow:
        row = uow.conn.execute(select(sessions_t).where(sessions_t.c.session_id == session_id)).first()
    if row is None:
        return None
    return Actor(user_id=row.user_id, session_id=row.session_id, role=row.role, device_id=row.device_id,
                 started_at=row.started_at, expires_at=row.expires_at if row.ended_at is None else row.ended_at,
                 started_online=bool(row.started_online))


def require_active(uow_factory: UnitOfWorkFactory, actor: Actor, now: dt.datetime) -> None:
    """SessionExpired unless the actor's session may still record ops at `now` (the offline policy)."""
    with uow_factory() as uow:
        require_active_in(uow.conn, actor, now)


def require_active_in(conn: Connection, actor: Actor, now: dt.datetime) -> None:
    """`require_active` inside the caller's transaction (the bus checks every command with it).

    A session of this policy's form (`contract.session_id_for`) must be recorded on this device, not
    signed out, and inside its window: one made up, or started on another device, is refused. An id
    of the older form (before this policy, or an actor built by hand in a test) is held only to the
    actor's own `expires_at`, as the service holds the ops of such sessions to no window.

    The session's row is read once and then answered from `SESSION_WINDOWS` (see there).
    """
    if not actor.is_active(now):
        raise SessionExpired(SESSION_ENDED)
    database = conn.engine.url.database
    window = SESSION_WINDOWS.get(database, actor.session_id)
    if window is None:
        if not _policy_form(actor.session_id):
            return
        row = conn.execute(select(sessions_t.c.user_id, sessions_t.c.device_id, sessions_t.c.expires_at,
                                  sessions_t.c.ended_at)
                           .where(sessions_t.c.session_id == actor.session_id)).first()
        if row is None:
            raise SessionExpired(SESSION_ENDED)
        ends = row.expires_at if row.ended_at is None else min(row.expires_at, row.ended_at)
        window = SessionWindow(row.user_id, row.device_id, ends)
        SESSION_WINDOWS.put(database, actor.session_id, window)
    if window.user_id != actor.user_id or (actor.device_id and window.device_id != actor.device_id):
        raise SessionExpired(SESSION_ENDED)
    if now >= window.ends_at:
        raise SessionExpired(SESSION_ENDED)


@functools.lru_cache(maxsize=64)
def _policy_form(session_id: str) -> bool:
    return contract.parse_session_id(session_id) is not None


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """What a session's row says decides whether it may record ops: whose it is, where, until when."""

    user_id: str
    device_id: str
    ends_at: dt.datetime
    """The expiry, or the sign-out when that came first."""


class SessionWindows:
    """The session rows the bus has read, kept in memory: a scan need not read its session again.

    Checking the session in every command's transaction cost a query and a row of datetimes, about
    as much as the rest of a scan's work in Python (bench/scan_to_durable.py). A session's row only
    changes when it is signed out (`sign_out`, which forgets it here before and after its commit),
    so the copy answers exactly as the table would; the table stays the source of truth, read again
    whenever this copy has nothing for a session. Keyed by database file as well as session id:
    several devices can run in one process (the demo). The copy is per process: that holds because
    a device's sessions are written only here, by the process that runs the device; another process
    ending a session in the same file would not be seen until this one restarts. Bounded: the oldest
    entries go first.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self._max = max_entries
        self._by_key: dict[tuple[str, str], SessionWindow] = {}
        self._lock = threading.Lock()

    def get(self, database: str | None, session_id: str) -> SessionWindow | None:
        """The window kept for `session_id` on `database`, or None (read the table)."""
        if not database or database == ":memory:":
            return None
        return self._by_key.get((database, session_id))

    def put(self, database: str | None, session_id: str, window: SessionWindow) -> None:
        """Keep what the table said of `session_id` on `database` (in-memory databases are not kept)."""
        if not database or database == ":memory:":
            return
        with self._lock:
            self._by_key[(database, session_id)] = window
            while len(self._by_key) > self._max:
                del self._by_key[next(iter(self._by_key))]

    def forget(self, session_id: str) -> None:
        """Drop `session_id` on every database: the next check reads the table."""
        with self._lock:
            for key in [k for k in self._by_key if k[1] == session_id]:
                del self._by_key[key]

    def clear(self) -> None:
        """Drop everything kept."""
        with self._lock:
            self._by_key.clear()


SESSION_WINDOWS: Final = SessionWindows()
"""The process's copy of the session rows the bus has checked (see `SessionWindows`)."""


def sign_out(uow_factory: UnitOfWorkFactory, actor: Actor, now: dt.datetime) -> None:
    """End the actor's session on this device now."""
    with uow_factory() as uow:
        uow.conn.execute(sessions_t.update().where(sessions_t.c.session_id == actor.session_id,
                                                   sessions_t.c.ended_at.is_(None)).values(ended_at=now))
        # Forgotten while this transaction holds the write lock: a command's transaction (BEGIN
        # IMMEDIATE, like this one) either ran wholly before, or reads the signed-out row. Once more
        # after the commit, for a check made outside a write transaction.
        SESSION_WINDOWS.forget(actor.session_id)
        uow.commit()
    SESSION_WINDOWS.forget(actor.session_id)
