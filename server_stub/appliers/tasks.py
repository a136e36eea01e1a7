"""task.* ops: the same service functions as the REST task endpoints, refusals become rejections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from edge_sync.contract import (
    TaskAssignPayload,
    TaskCancelPayload,
    TaskClaimPayload,
    TaskCompletePayload,
    TaskCreatePayload,
    TaskRecord,
    TaskReleasePayload,
    TaskReprioritisePayload,
)
from server_stub import tasks
from server_stub.appliers.base import OpContext
from server_stub.errors import ServiceError


def _refusing(fn: Callable[[OpContext], TaskRecord]) -> Callable[[OpContext], dict[str, Any]]:
    def apply(ctx: OpContext) -> dict[str, Any]:
        try:
            record = fn(ctx)
        except ServiceError as exc:
            ctx.reject(exc.message)
        return ctx.result(task=record.model_dump(mode="json"))

    apply.__name__ = fn.__name__
    apply.__doc__ = fn.__doc__
    return apply


@_refusing
def create(ctx: OpContext) -> TaskRecord:
    """task.create"""
    p: TaskCreatePayload = ctx.payload
    return tasks.create_task(ctx.tx, p, ctx.actor)


@_refusing
def assign(ctx: OpContext) -> TaskRecord:
    """task.assign"""
    p: TaskAssignPayload = ctx.payload
    return tasks.assign_task(ctx.tx, p.task_id, p.assignee_id, ctx.actor)


@_refusing
def reprioritise(ctx: OpContext) -> TaskRecord:
    """task.reprioritise"""
    p: TaskReprioritisePayload = ctx.payload
    return tasks.reprioritise_task(ctx.tx, p.task_id, p.priority, ctx.actor)


@_refusing
def cancel(ctx: OpContext) -> TaskRecord:
    """task.cancel"""
    p: TaskCancelPayload = ctx.payload
    return tasks.cancel_task(ctx.tx, p.task_id, p.reason, ctx.actor)


@_refusing
def claim(ctx: OpContext) -> TaskRecord:
    """task.claim: the lease the device asked for, as of the server's clock."""
    p: TaskClaimPayload = ctx.payload
    return tasks.claim_task(ctx.tx, p.task_id, ctx.actor, ctx.corrected(p.lease_until).astimezone(dt.UTC))


@_refusing
def release(ctx: OpContext) -> TaskRecord:
    """task.release"""
    p: TaskReleasePayload = ctx.payload
    return tasks.release_task(ctx.tx, p.task_id, ctx.actor)


def complete(ctx: OpContext) -> dict[str, Any]:
    """task.complete: work done is a fact; a clash with another device becomes an exception."""
    p: TaskCompletePayload = ctx.payload
    try:
        record, ex = tasks.complete_task(ctx.tx, p.task_id, ctx.actor, op_id=ctx.op.op_id)
    except ServiceError as exc:
        ctx.reject(exc.message)
    if ex is not None:
        ctx.exception_ids.append(ex)
    return ctx.result(task=record.model_dump(mode="json"))
