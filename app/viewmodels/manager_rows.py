"""The manager tablet's rows and figures in words: what each panel draws, already decided. No flet here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from edge_sync.contract import ExceptionRecord, StoreFiguresRecord, TaskRecord, WaitingPutawayRecord

TYPE_LABELS = {"receive": "Receive", "putaway": "Put away", "count": "Count", "pick": "Pick"}
STATUS_LABELS = {"open": "Open", "assigned": "Assigned", "in_progress": "In progress", "done": "Done",
                 "cancelled": "Cancelled"}
CLOSED = frozenset({"done", "cancelled"})

EXCEPTION_GROUPS: dict[str, str] = {
    "pick_short": "Short picks",
    "receipt_discrepancy": "ASN discrepancies",
    "task_worked_twice": "Tasks worked twice",
}
"""Exception kinds the exceptions panel groups under a heading; the rest go under "Other"."""

APPROVAL_KINDS: dict[str, str] = {"over_receipt": "Over-receipt", "location_full": "Override: put away into a full location"}
"""Open exceptions that ask a manager to approve or reject what happened (counts come from the approvals API)."""

NameOf = Callable[[str | None], str]


class ApprovalLike(Protocol):
    """The fields of a count approval the panel reads (edge_sync.supervision.ApprovalView)."""

    @property
    def approval_id(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def item_id(self) -> str: ...
    @property
    def location_id(self) -> str: ...
    @property
    def counted_qty(self) -> int: ...
    @property
    def balance_qty(self) -> int: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def device_id(self) -> str | None: ...
    @property
    def created_at(self) -> dt.datetime: ...


class DeviceLike(Protocol):
    """The fields of a device the device board reads (edge_sync.supervision.DeviceView)."""

    @property
    def device_id(self) -> str: ...
    @property
    def last_seen_at(self) -> dt.datetime: ...
    @property
    def last_user_id(self) -> str | None: ...
    @property
    def lag_seconds(self) -> float | None: ...
    @property
    def pending(self) -> int: ...
    @property
    def parked(self) -> int: ...
    @property
    def oldest_pending_at(self) -> dt.datetime | None: ...


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task on the board."""

    task_id: str
    type: str
    type_label: str
    title: str
    status: str
    status_label: str
    priority: int
    assignee_id: str | None
    assignee: str
    detail: str
    unsent: bool
    """Changed on this tablet, not yet taken by the service."""
    closed: bool


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    """Something waiting for a manager's yes or no."""

    key: str
    """`count:<approval_id>` or `exception:<exception_id>`."""
    kind: str
    headline: str
    detail: str


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    exception_id: str | None
    """None for stock waiting on the dock (nothing to resolve: put it away)."""
    group: str
    headline: str
    detail: str


@dataclass(frozen=True, slots=True)
class DeviceRow:
    device_id: str
    last_sync: str
    pending: int
    parked: int
    oldest_pending: str
    lag: str
    who: str
    attention: bool


@dataclass(frozen=True, slots=True)
class Tile:
    label: str
    value: str
    caption: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str


@dataclass(frozen=True, slots=True)
class FiguresView:
    tiles: list[Tile]
    putaway_bars: list[Bar]
    """Units put away by time from receipt to putaway."""
    lag_bars: list[Bar]
    """Per device: age of its oldest unsent op, in minutes."""
    window: str


def clock(at: dt.datetime, tz: dt.tzinfo) -> str:
    """A time as the tablet shows it, e.g. "10:42"."""
    return at.astimezone(tz).strftime("%H:%M")


def ago(seconds: float) -> str:
    """"just now", "4 min", "2 h 05 min"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} days"


def task_row(task: TaskRecord, *, unsent: bool, name_of: NameOf, now: dt.datetime, tz: dt.tzinfo) -> TaskRow:
    """A task on the board, in words."""
    status = task.status.value
    bits = [f"P{task.priority}"]
    if task.due_at is not None:
        late = task.due_at < now and status not in CLOSED
        bits.append(("overdue since " if late else "due ") + clock(task.due_at, tz))
    if task.lease_holder_user_id and task.lease_until and task.lease_until > now and status not in CLOSED:
        bits.append(f"held by {name_of(task.lease_holder_user_id)} until {clock(task.lease_until, tz)}")
    if task.lines:
        bits.append(f"{len(task.lines)} line{'s' if len(task.lines) != 1 else ''}")
    if unsent:
        bits.append("waiting to send")
    type_label = TYPE_LABELS.get(task.type.value, task.type.value.title())
    return TaskRow(
        task_id=task.task_id, type=task.type.value, type_label=type_label, title=task.title or task.task_id,
        status=status, status_label=STATUS_LABELS.get(status, status), priority=task.priority,
        assignee_id=task.assignee_id, assignee=name_of(task.assignee_id) if task.assignee_id else "Anyone",
        detail=" · ".join(bits), unsent=unsent, closed=status in CLOSED,
    )


def count_approval_row(a: ApprovalLike, name_of: NameOf, tz: dt.tzinfo) -> ApprovalRow:
    """A count past tolerance (or over moving stock) waiting for a decision."""
    variance = a.counted_qty - a.balance_qty
    why = "stock moved during the count" if a.reason == "count_moving_stock" else "variance past tolerance"
    return ApprovalRow(
        key=f"count:{a.approval_id}", kind="Count",
        headline=f"Count of {a.item_id} at {a.location_id}: {a.counted_qty} counted, {a.balance_qty} expected ({variance:+d})",
        detail=f"{why} · by {name_of(a.user_id)} on {a.device_id or '?'} at {clock(a.created_at, tz)}",
    )


def exception_approval_row(e: ExceptionRecord, name_of: NameOf, tz: dt.tzinfo) -> ApprovalRow:
    """An over-receipt or an override waiting for a decision."""
    return ApprovalRow(
        key=f"exception:{e.exception_id}", kind=APPROVAL_KINDS.get(e.kind, e.kind),
        headline=e.summary, detail=f"by {name_of(e.user_id)} on {e.device_id or '?'} at {clock(e.created_at, tz)}",
    )


def exception_rows(found: Iterable[ExceptionRecord], waiting: Iterable[WaitingPutawayRecord], *,
                   threshold_minutes: float, name_of: NameOf, tz: dt.tzinfo) -> list[ExceptionRow]:
    """Exceptions grouped: short picks, ASN discrepancies, tasks worked twice, stock not put away, other."""
    rows = [
        ExceptionRow(
            exception_id=e.exception_id, group=EXCEPTION_GROUPS.get(e.kind, "Other"), headline=e.summary,
            detail=f"{e.kind.replace('_', ' ')} · {name_of(e.user_id)} on {e.device_id or '?'} at {clock(e.created_at, tz)}",
        )
        for e in found if e.kind not in APPROVAL_KINDS
    ]
    group = f"Not put away after {ago(threshold_minutes * 60)}"
    rows += [
        ExceptionRow(None, group, f"{w.qty} of {w.item_id} waiting at {w.location_id}",
                     f"received {clock(w.received_at, tz)}, {ago(w.age_minutes * 60)} ago")
        for w in waiting
    ]
    order = [*EXCEPTION_GROUPS.values(), group, "Other"]
    return sorted(rows, key=lambda r: order.index(r.group))


def device_row(d: DeviceLike, now: dt.datetime, name_of: NameOf) -> DeviceRow:
    """A device on the board: when it last synced and what it still holds."""
    oldest = "—"
    if d.pending and d.oldest_pending_at is not None:
        oldest = ago((now - d.oldest_pending_at).total_seconds())
    seen = (now - d.last_seen_at).total_seconds()
    return DeviceRow(
        device_id=d.device_id, last_sync="just now" if seen < 60 else f"{ago(seen)} ago", pending=d.pending,
        parked=d.parked, oldest_pending=oldest, lag="—" if d.lag_seconds is None else ago(d.lag_seconds),
        who=name_of(d.last_user_id) if d.last_user_id else "—",
        attention=d.parked > 0 or seen > 15 * 60 or (d.pending > 0 and oldest != "just now"),
    )


def figures_view(f: StoreFiguresRecord, tz: dt.tzinfo) -> FiguresView:
    """The figures as tiles and bars."""

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f} %"

    def minutes(value: float | None) -> str:
        return "—" if value is None else ago(value * 60)

    def seconds(value: float | None) -> str:
        return "—" if value is None else ("under 1 min" if value < 60 else ago(value))

    tiles = [
        Tile("Receive to putaway", minutes(f.putaway_median_minutes),
             f"median of {f.putaway_units} units · 90 % within {minutes(f.putaway_p90_minutes)} · {f.waiting_units} waiting"),
        Tile("Count accuracy", pct(f.count_accuracy_pct), f"{f.counts_exact} of {f.counts} counts matched exactly"),
        Tile("Pick fill rate", pct(f.pick_fill_rate_pct), f"{f.picked_units} picked · {f.short_units} short"),
        Tile("Sync lag", seconds(f.sync_lag_p50_seconds),
             f"median of {f.synced_ops} ops · 95 % within {seconds(f.sync_lag_p95_seconds)}"),
    ]
    bars = [Bar(b.label, float(b.units), str(b.units)) for b in f.putaway_buckets]
    lag = [
        Bar(d.device_id, (d.oldest_pending_age_seconds or 0.0) / 60,
            f"{d.pending} waiting, oldest {ago(d.oldest_pending_age_seconds)}" if d.pending and d.oldest_pending_age_seconds
            else "nothing waiting")
        for d in f.devices
    ]
    window = f"{clock(f.window_start, tz)} to {clock(f.window_end, tz)}"
    hours = (f.window_end - f.window_start).total_seconds() / 3600
    return FiguresView(tiles, bars, lag, f"Last {hours:g} h ({window})")
