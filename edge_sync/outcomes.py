"""What became of this device's own work, for the screens that tell the associate afterwards.

The service answers every op with a result that the engine stores in `outbox.result`. Most need no
word to anyone. Two kinds do:

- an op the service refused (parked, with its reason): "your claim was refused: the task is held
  by Ana on handheld 2";
- a physical fact recorded all the same but raised as an exception for a manager (a pick of an
  order another device had already picked, a receipt over the PO, a putaway into a full location):
  "your pick was recorded, but it clashed with other work; a manager will look at it (EX-12)".

`needs_attention` lists both, oldest first. The exception records are the manager's and stay on the
service; an op's result names each one with its kind and summary.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from edge_sync.db import driver

_SQL = (
    "SELECT seq, op_id, type, state, result, last_error, occurred_at, payload FROM outbox"
    " WHERE state = 'parked'"
    " OR (state IN ('applied', 'duplicate') AND json_array_length(result, '$.exception_ids') > 0)"
    " ORDER BY seq"
)


@dataclass(frozen=True, slots=True)
class OpOutcome:
    """One of this device's ops whose outcome someone should hear about."""

    seq: int
    op_id: str
    type: str
    recorded: bool
    """True when the service recorded the op (with exceptions); False when it refused it (parked)."""
    exception_ids: tuple[str, ...]
    """The manager's exceptions the op raised, as the service named them."""
    exception_kinds: tuple[str, ...]
    """Their kinds (double_pick, over_receipt, location_full, ...), in the same order."""
    summaries: tuple[str, ...]
    """What the service wrote about each, for the associate's screen."""
    reason: str | None
    """Why the service refused the op, in words; None when it was recorded."""
    occurred_at: dt.datetime
    payload: dict[str, Any]


def needs_attention(conn: Connection) -> list[OpOutcome]:
    """Ops refused by the service, and ops recorded with an exception for a manager, oldest first."""
    out: list[OpOutcome] = []
    for seq, op_id, op_type, state, result, reason, occurred_at, payload in driver(conn).execute(_SQL):
        stored = json.loads(result) if result else {}
        out.append(OpOutcome(
            seq=int(seq), op_id=str(op_id), type=str(op_type), recorded=state != "parked",
            exception_ids=tuple(str(e) for e in stored.get("exception_ids") or ()),
            exception_kinds=tuple(str(e.get("kind", "")) for e in stored.get("exceptions") or ()),
            summaries=tuple(str(e.get("summary", "")) for e in stored.get("exceptions") or ()),
            reason=None if state != "parked" else (reason or "refused by the service"),
            occurred_at=dt.datetime.fromisoformat(occurred_at), payload=json.loads(payload),
        ))
    return out
