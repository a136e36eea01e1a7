"""One applier per op type, in a table: OpType → ApplierSpec.

Before an op's applier runs, every payload field that names an approver (`authz.APPROVER_FIELDS`)
is checked: the person named must be allowed to approve, with the role they had in the store when
the op was made (`sessions.role_at`). Otherwise the op is rejected with the reason and nothing of
it is applied.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from edge_sync.contract import OpType
from server_stub import authz, sessions
from server_stub.appliers import counting, picking, putaway, receiving, tasks
from server_stub.appliers.base import Apply, ApplierSpec, OpContext


def check_approvers(ctx: OpContext) -> None:
    """Reject the op unless everyone its payload names as approving it may approve it."""
    for field, action in authz.APPROVER_FIELDS.get(ctx.op.type, {}).items():
        approver = getattr(ctx.payload, field, None)
        if approver is None:
            continue
        role = sessions.role_at(ctx.tx, approver, ctx.effective_at)
        if not authz.allowed(role, action):
            ctx.reject(authz.approver_refusal(ctx.op.type, field, approver, role, ctx.op.user_id, ctx.tx.store_id))


def _approved(apply: Apply) -> Apply:
    def checked(ctx: OpContext) -> dict[str, Any]:
        check_approvers(ctx)
        return apply(ctx)

    checked.__doc__ = apply.__doc__
    return checked


_APPLIERS: Final[dict[OpType, ApplierSpec]] = {
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

APPLIERS: Final[dict[OpType, ApplierSpec]] = {
    op_type: replace(spec, apply=_approved(spec.apply)) if op_type in authz.APPROVER_FIELDS else spec
    for op_type, spec in _APPLIERS.items()
}

__all__ = ["APPLIERS", "ApplierSpec", "OpContext", "check_approvers"]
