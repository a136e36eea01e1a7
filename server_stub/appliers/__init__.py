"""One applier per op type, in a table: OpType → ApplierSpec."""

from __future__ import annotations

from typing import Final

from edge_sync.contract import OpType
from server_stub.appliers import counting, picking, putaway, receiving, tasks
from server_stub.appliers.base import ApplierSpec, OpContext

APPLIERS: Final[dict[OpType, ApplierSpec]] = {
    OpType.RECEIPT_RECEIVE: ApplierSpec(receiving.receive_units),
    OpType.RECEIPT_CLOSE: ApplierSpec(receiving.close_receipt),
    # Buffered postings only (task progress last): no savepoint needed.
    OpType.PUTAWAY_CONFIRM: ApplierSpec(putaway.confirm_putaway, savepoint=False),
    OpType.COUNT_RECORD: ApplierSpec(counting.record_count, reads_ledger=True),
    OpType.PICK_CONFIRM: ApplierSpec(picking.confirm_pick),
    OpType.PICK_SHORT: ApplierSpec(picking.short_pick),
    OpType.ORDER_STAGE: ApplierSpec(picking.stage_order),
    OpType.TASK_CREATE: ApplierSpec(tasks.create),
    OpType.TASK_ASSIGN: ApplierSpec(tasks.assign),
    OpType.TASK_REPRIORITISE: ApplierSpec(tasks.reprioritise),
    OpType.TASK_CANCEL: ApplierSpec(tasks.cancel),
    OpType.TASK_CLAIM: ApplierSpec(tasks.claim),
    OpType.TASK_RELEASE: ApplierSpec(tasks.release),
    OpType.TASK_COMPLETE: ApplierSpec(tasks.complete),
}

__all__ = ["APPLIERS", "ApplierSpec", "OpContext"]
