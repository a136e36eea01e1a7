"""The unit of work: one SQLite write transaction for a command's state change and its ops.

    with uow_factory() as uow:
        ... read and write through repositories built on uow.conn ...
        uow.append_op(...)
        uow.commit()

Leaving the block without `commit()` rolls everything back, the op included: the associate is told
"saved" only after `commit()` returned, and then the op is durable (WAL, synchronous=FULL).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from edge_sync import contract, outbox, overlay
from edge_sync.db import driver


class UnitOfWork:
    """A write transaction (BEGIN IMMEDIATE) on the device database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._committed = False
        self._last_seq: int | None = None

    @property
    def conn(self) -> Connection:
        """The connection of this unit of work, for repositories."""
        if self._conn is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        self._conn = self._engine.connect()
        # BEGIN IMMEDIATE straight on sqlite3: SQLAlchemy's begin and commit cost ~20 µs a scan
        # for nothing the hot path uses (its statements are sqlite3's, see edge_sync.db.driver).
        # A Core statement later in this transaction autobegins SQLAlchemy's side, which then
        # finds sqlite3's transaction open and joins it (edge_sync.db); commit and rollback below
        # end whichever side holds the transaction.
        try:
            driver(self._conn).execute("BEGIN IMMEDIATE")
        except BaseException:
            self._conn.close()
            self._conn = None
            raise
        self._committed = False
        self._last_seq = None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if not self._committed:
                self.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        """Commit the transaction; after this returns the work is durable.

        Stock moved in this unit of work is tied to the last op it queued; moving stock without
        queueing an op is a bug (the service would never hear of it) and raises MoveWithoutOp.
        """
        overlay.link_moves(self.conn, self._last_seq)
        if self.conn.in_transaction():
            self.conn.commit()  # SQLAlchemy joined the transaction: its commit is sqlite3's COMMIT
        else:
            driver(self.conn).commit()
        self._committed = True

    def rollback(self) -> None:
        """Drop everything this unit of work wrote."""
        if self.conn.in_transaction():
            self.conn.rollback()
        else:
            driver(self.conn).rollback()

    def append_op(
        self,
        op_type: contract.OpType,
        payload: BaseModel,
        *,
        user_id: str,
        session_id: str,
        occurred_at: dt.datetime,
        command_id: str | None = None,
    ) -> outbox.AppendedOp:
        """Queue an op in this transaction."""
        appended = outbox.append(
            self.conn,
            op_type=op_type,
            payload=payload,
            user_id=user_id,
            session_id=session_id,
            occurred_at=occurred_at,
            command_id=command_id,
        )
        self._last_seq = appended.seq
        return appended

    def handled_command(self, command_id: str) -> dict[str, Any] | None:
        """The stored result of a command id already handled, or None."""
        row = driver(self.conn).execute(_HANDLED_SQL, (command_id,)).fetchone()
        if row is None:
            return None
        stored = row[0] if row[0] is not None else row[1]
        return dict(json.loads(stored) if stored else {})

    def record_command(self, command_id: str, name: str, result: dict[str, Any], at: dt.datetime) -> None:
        """Remember that a command id was handled, with its result, in this transaction.

        The result goes on the row of the last op this unit of work queued (already written in
        this transaction: no page more), and the command's own row only points at it.
        """
        raw = driver(self.conn)
        outcome = json.dumps(result, default=str, separators=(",", ":"))
        if self._last_seq is None:
            when = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
            raw.execute(_RECORD_SQL, (command_id, name, outcome, when))
            return
        # The op's row already holds the command's name (type) and time (occurred_at).
        raw.execute("UPDATE outbox SET outcome = ? WHERE seq = ?", (outcome, self._last_seq))
        raw.execute("INSERT INTO processed_commands (command_id, seq) VALUES (?, ?)", (command_id, self._last_seq))


_HANDLED_SQL = (
    "SELECT c.result, o.outcome FROM processed_commands c LEFT JOIN outbox o ON o.seq = c.seq"
    " WHERE c.command_id = ?"
)
_RECORD_SQL = "INSERT INTO processed_commands (command_id, name, result, at) VALUES (?, ?, ?, ?)"


UnitOfWorkFactory = Callable[[], UnitOfWork]


def uow_factory(engine: Engine) -> UnitOfWorkFactory:
    """A factory of units of work on `engine`, as the bootstrap wires it."""
    return lambda: UnitOfWork(engine)
