"""Backlogs of easily counted ops, and the check that the service's ledger is exactly what they imply.

    queue_putaways(device_engine, 2000)             # pending ops, appended in a few transactions
    ... sync through faults, kills, restarts ...
    check = ledger_equality(server_engine, device_engine, store_id=STORE_ID, device_id="dev-1")
    assert check.problems == []

Every op is a `putaway.confirm` of a known quantity from the dock (received) to a staging lane
(available, capacity 0 so no location_full exception): two ledger entries per op, −q and +q.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from edge_sync import contract, outbox
from edge_sync.uow import UnitOfWork
from server_stub import tables as t
from server_stub.ledger import verify_balances

ITEM = "item-mug"
DOCK = "loc-dock-1"
LANE = "loc-stg-1"


def qty_of(n: int) -> int:
    """The quantity of the n-th op of a backlog: varied, so an op applied twice shows in the sums."""
    return 1 + n % 3


def queue_putaways(engine: Engine, n: int, *, start: int = 0, per_txn: int = 5000, user_id: str = "u-assoc",
                   to_location_id: str = LANE, at: dt.datetime | None = None) -> None:
    """Append `n` pending putaway ops straight to the outbox, `per_txn` to a transaction."""
    at = at or dt.datetime.now(dt.UTC)
    done = 0
    while done < n:
        with UnitOfWork(engine) as uow:
            for i in range(start + done, start + min(n, done + per_txn)):
                uow.append_op(contract.OpType.PUTAWAY_CONFIRM, contract.PutawayConfirmPayload(
                    item_id=ITEM, qty=qty_of(i), from_location_id=DOCK, to_location_id=to_location_id),
                    user_id=user_id, session_id="s-chaos", occurred_at=at)
            uow.commit()
        done = min(n, done + per_txn)


@dataclass
class LedgerCheck:
    """What the comparison found; `problems` is empty when the two ends agree exactly."""

    device_ops: int = 0
    server_ops: int = 0
    applied: int = 0
    rejected: int = 0
    ledger_rows: int = 0
    moved: int = 0
    device_states: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def _device_ops(device_engine: Engine) -> list[dict[str, Any]]:
    with device_engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT seq, op_id, type, payload, state FROM outbox ORDER BY seq").all()
    return [{"seq": r[0], "op_id": uuid.UUID(r[1]), "type": r[2], "payload": json.loads(r[3]), "state": r[4]} for r in rows]


def ledger_equality(server_engine: Engine, device_engine: Engine, *, store_id: str, device_id: str) -> LedgerCheck:
    """Compare the service's ops, ledger and balances with what one device's outbox implies."""
    check = LedgerCheck()
    mine = _device_ops(device_engine)
    check.device_ops = len(mine)
    check.device_states = Counter(op["state"] for op in mine)
    o, lg = t.ops, t.ledger
    with server_engine.connect() as conn:
        served = conn.execute(sa.select(o.c.op_id, o.c.seq, o.c.status).where(
            o.c.store_id == store_id, o.c.device_id == device_id)).all()
        entries = conn.execute(sa.select(lg.c.entry_seq, lg.c.op_id, lg.c.item_id, lg.c.location_id, lg.c.status,
                                         lg.c.delta).where(lg.c.store_id == store_id, lg.c.op_id.is_not(None))
                               .order_by(lg.c.entry_seq)).all()
        check.problems += verify_balances(conn, store_id)
        last_seq = conn.execute(sa.select(t.devices.c.last_seq).where(
            t.devices.c.store_id == store_id, t.devices.c.device_id == device_id)).scalar_one_or_none()
    check.server_ops = len(served)
    by_id = {r.op_id: r for r in served}
    ids = Counter(r.op_id for r in served)
    twice = [str(i) for i, n in ids.items() if n > 1]
    if twice:
        check.problems.append(f"ops stored more than once: {twice[:5]}")
    device_ids = {op["op_id"] for op in mine}
    extra = [str(r.op_id) for r in served if r.op_id not in device_ids]
    if extra:
        check.problems.append(f"{len(extra)} ops on the service that the device never made: {extra[:5]}")
    expected: Counter[tuple[uuid.UUID, str, str, str, int]] = Counter()
    for op in mine:
        got = by_id.get(op["op_id"])
        if got is None:
            check.problems.append(f"op seq {op['seq']} ({op['state']} on the device) never reached the service")
            continue
        if got.seq != op["seq"]:
            check.problems.append(f"op {op['op_id']} has seq {got.seq} on the service, {op['seq']} on the device")
        landed = got.status == contract.OpStatus.APPLIED.value
        check.applied += landed
        check.rejected += got.status == contract.OpStatus.REJECTED.value
        want_state = {"applied", "duplicate"} if landed else {"parked", "dismissed", "resent"}
        if op["state"] not in want_state:
            check.problems.append(f"op seq {op['seq']} is {got.status} on the service but {op['state']} on the device")
        if landed and op["type"] == contract.OpType.PUTAWAY_CONFIRM.value:
            p = op["payload"]
            expected[(op["op_id"], p["item_id"], p["from_location_id"], "received", -p["qty"])] += 1
            expected[(op["op_id"], p["item_id"], p["to_location_id"], "available", p["qty"])] += 1
            check.moved += p["qty"]
    actual = Counter((e.op_id, e.item_id, e.location_id, e.status, e.delta) for e in entries if e.op_id in device_ids)
    check.ledger_rows = sum(actual.values())
    if actual != expected:
        missing, surplus = expected - actual, actual - expected
        check.problems.append(f"ledger differs: {sum(missing.values())} entries missing, {sum(surplus.values())} extra;"
                              f" e.g. missing {list(missing)[:2]}, extra {list(surplus)[:2]}")
    # Applied in seq order: the ledger's entry order follows the device's seq order.
    seq_of = {op["op_id"]: op["seq"] for op in mine}
    order = [seq_of[e.op_id] for e in entries if e.op_id in seq_of]
    if order != sorted(order):
        check.problems.append("ledger entries are not in the device's seq order")
    if mine and last_seq != max(op["seq"] for op in mine):
        check.problems.append(f"the service's last seq for {device_id} is {last_seq}, the device's {mine[-1]['seq']}")
    return check


def balance(server_engine: Engine, store_id: str, item_id: str, location_id: str, status: str) -> int:
    """The service's current balance of one key, read from its database."""
    b = t.balances
    with server_engine.connect() as conn:
        qty = conn.execute(sa.select(b.c.qty).where(
            b.c.store_id == store_id, b.c.item_id == item_id, b.c.location_id == location_id, b.c.status == status,
        )).scalar_one_or_none()
    return int(qty or 0)
