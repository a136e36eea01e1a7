"""Conversions between table rows and the contract's *Record models (what the feeds send)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from edge_sync.contract import ExceptionRecord, TaskLineRecord, TaskRecord, TaskStatus, TaskType


def task_row_from_record(record: TaskRecord, now: dt.datetime) -> dict[str, Any]:
    """The `tasks` row for a task record (master data or a task.create)."""
    return {
        "task_id": record.task_id,
        "type": record.type.value,
        "status": record.status.value,
        "priority": record.priority,
        "assignee_id": record.assignee_id,
        "due_at": record.due_at,
        "ref_id": record.ref_id,
        "title": record.title,
        "lease_device_id": record.lease_holder_device_id,
        "lease_user_id": record.lease_holder_user_id,
        "lease_until": record.lease_until,
        "completed_by_device_id": None,
        "lines": [line.model_dump(mode="json") for line in record.lines],
        "created_at": record.created_at,
        "updated_at": now,
    }


def task_record_from_row(row: Any) -> TaskRecord:
    """The contract record of a `tasks` row (a RowMapping or a dict)."""
    return TaskRecord(
        task_id=row["task_id"],
        type=TaskType(row["type"]),
        status=TaskStatus(row["status"]),
        priority=row["priority"],
        assignee_id=row["assignee_id"],
        due_at=row["due_at"],
        ref_id=row["ref_id"],
        title=row["title"],
        lease_holder_device_id=row["lease_device_id"],
        lease_holder_user_id=row["lease_user_id"],
        lease_until=row["lease_until"],
        created_at=row["created_at"],
        lines=[TaskLineRecord.model_validate(line) for line in row["lines"]],
    )


def exception_record_from_row(row: Any) -> ExceptionRecord:
    """The contract record of an `exceptions` row."""
    return ExceptionRecord(
        exception_id=row["exception_id"],
        kind=row["kind"],
        status=row["status"],
        summary=row["summary"],
        details=row["details"],
        op_id=row["op_id"],
        device_id=row["device_id"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        resolved_by=row["resolved_by"],
        resolution_note=row["resolution_note"],
    )
