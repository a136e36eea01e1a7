"""What an applier gets to work with, and what it declares about itself.

An applier turns one validated op into effects inside the batch's `StoreTx` and returns the
op's result. It refuses an op only by raising `OpRejected` before its first write; physical
facts it cannot reconcile are recorded and raised as exceptions for a manager instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from edge_sync.contract import Op
from server_stub import lookups
from server_stub.auth import Actor
from server_stub.errors import OpRejected
from server_stub.exceptions import raise_exception
from server_stub.settings import Settings
from server_stub.txn import StoreTx


@dataclass(slots=True)
class OpContext:
    """One op being applied: the transaction, the op, its parsed payload, who and when."""

    tx: StoreTx
    op: Op
    payload: Any
    effective_at: dt.datetime
    """occurred_at corrected by the device's clock offset: the time the ledger uses."""
    settings: Settings
    actor: Actor
    exception_ids: list[str]

    def corrected(self, device_time: dt.datetime) -> dt.datetime:
        """A device-clock time corrected by the op's clock offset, in UTC."""
        return (device_time + dt.timedelta(milliseconds=self.op.clock_offset_ms)).astimezone(dt.UTC)

    def reject(self, reason: str) -> NoReturn:
        """Refuse the op for good with a reason a person can act on."""
        raise OpRejected(reason)

    def raise_exception(self, kind: str, summary: str, details: dict[str, Any]) -> str:
        """Open an exception for a manager, naming this op, device and user."""
        ex = raise_exception(
            self.tx, kind, summary, details, op_id=self.op.op_id, device_id=self.op.device_id, user_id=self.op.user_id
        )
        self.exception_ids.append(ex)
        return ex

    def post(self, item_id: str, location_id: str, status: str, delta: int, reason: str, at: dt.datetime | None = None) -> None:
        """Post a ledger delta for this op, effective at the op's corrected time unless told."""
        self.tx.post(
            item_id, location_id, status, delta, effective_at=at or self.effective_at, reason=reason, op_id=self.op.op_id
        )

    def erp(self, event_type: str, data: dict[str, Any], occurred_at: dt.datetime | None = None) -> None:
        """Emit a canonical ERP event for this op."""
        self.tx.erp(event_type, data, occurred_at=occurred_at or self.effective_at, op_id=self.op.op_id)

    def need_item(self, item_id: str) -> str:
        """The item id if the store knows it; otherwise refuse the op."""
        if not lookups.item_exists(self.tx, item_id):
            self.reject(f"item {item_id} is not in the item master of store {self.tx.store_id}; add it, then resend")
        return item_id

    def need_location(self, location_id: str) -> lookups.LocationInfo:
        """The location if the store knows it; otherwise refuse the op."""
        # Asked two or three times per op: the answer is kept for the transaction (locations do not
        # change inside one).
        known: dict[str, lookups.LocationInfo] = self.tx.caches.setdefault("location_info", {})
        found = known.get(location_id)
        if found is None:
            found = lookups.location(self.tx, location_id)
            if found is None:
                self.reject(f"location {location_id} is not known in store {self.tx.store_id}; scan a known location")
            known[location_id] = found
        return found

    def result(self, **values: Any) -> dict[str, Any]:
        """The op's result, with the exceptions it raised (ids, and kind and summary for the device's
        screens: "recorded, but another device picked this order too")."""
        if self.exception_ids:
            values["exception_ids"] = list(self.exception_ids)
            values["exceptions"] = [
                {"id": ex, "kind": self.tx.raised.get(ex, ("", ""))[0], "summary": self.tx.raised.get(ex, ("", ""))[1]}
                for ex in self.exception_ids
            ]
        return values


Apply = Callable[[OpContext], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ApplierSpec:
    """One op type's applier and what the ingest must do around it."""

    apply: Apply
    savepoint: bool = True
    """The applier writes outside the buffers (updates), so it runs inside a SAVEPOINT."""
    reads_ledger: bool = False
    """The applier reads the ledger, so earlier buffered postings are flushed before it runs."""
