"""Parked ops: refused by the service, shown to people, resolved by a person.

A parked op is never resent as it is. It is either dismissed with a reason (its local effect is
dropped from what screens show), or corrected and sent again as a new op (a new op_id and seq; the
parked one is marked `resent` and points at it).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from edge_sync import contract, overlay
from edge_sync.db import driver
from edge_sync.outbox import AppendedOp
from edge_sync.uow import UnitOfWork


class NotParked(LookupError):
    """No parked op with that seq."""


class InvalidCorrection(ValueError):
    """The corrected payload does not fit the op's type."""


@dataclass(frozen=True, slots=True)
class ParkedOp:
    """A refused op, as the list of things needing attention shows it."""

    seq: int
    op_id: str
    type: str
    payload: dict[str, Any]
    reason: str
    occurred_at: dt.datetime
    user_id: str


def list_parked(uow: UnitOfWork) -> list[ParkedOp]:
    """Every parked op, oldest first."""
    rows = driver(uow.conn).execute(
        "SELECT seq, op_id, type, payload, last_error, occurred_at, user_id FROM outbox"
        " WHERE state = 'parked' ORDER BY seq")
    return [ParkedOp(r[0], r[1], r[2], json.loads(r[3]), r[4] or "", dt.datetime.fromisoformat(r[5]), r[6])
            for r in rows]


def _parked(uow: UnitOfWork, seq: int) -> ParkedOp:
    for op in list_parked(uow):
        if op.seq == seq:
            return op
    raise NotParked(f"op {seq} is not waiting for a decision")


def dismiss(uow: UnitOfWork, seq: int, *, reason: str, user_id: str) -> None:
    """Give up on a parked op, with a reason; what it did locally is no longer shown."""
    _parked(uow, seq)
    if not reason.strip():
        raise InvalidCorrection("say why the op is dismissed")
    driver(uow.conn).execute(
        "UPDATE outbox SET state = 'dismissed', resolution = ? WHERE seq = ?",
        (f"dismissed by {user_id}: {reason.strip()[:400]}", seq))
    overlay.recompute(uow.conn, overlay.drop_moves(uow.conn, [seq]))


def resend(uow: UnitOfWork, seq: int, *, payload: dict[str, Any], user_id: str, session_id: str) -> AppendedOp:
    """Send a corrected copy of a parked op as a new op (same moment of action); the parked one points at it."""
    op = _parked(uow, seq)
    op_type = contract.OpType(op.type)
    try:
        model = contract.PAYLOADS[op_type].model_validate(payload)
    except ValidationError as exc:
        raise InvalidCorrection(f"the correction does not fit a {op_type.value} op: {exc.errors()[0]['msg']}") from exc
    appended = uow.append_op(op_type, model, user_id=user_id, session_id=session_id, occurred_at=op.occurred_at)
    driver(uow.conn).execute(
        "UPDATE outbox SET state = 'resent', resolution = ? WHERE seq = ?", (f"resent as {appended.op_id}", seq))
    # The parked op's moves now travel with the new op.
    driver(uow.conn).execute("UPDATE local_moves SET seq = ? WHERE seq = ?", (appended.seq, seq))
    driver(uow.conn).execute("DELETE FROM op_refs WHERE seq = ?", (seq,))
    return appended
