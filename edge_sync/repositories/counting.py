"""Counts on the device: attempts, their status, and the lines of a count task.

Count statuses: recount (asked to count again, not sent), pending_approval (waiting for a manager,
not sent), provisional (sent, local stock adjusted, not yet posted), posted (the server posted
the adjustment), superseded (an earlier attempt replaced by a later count that was sent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from edge_sync.tables import Count
from edge_sync.repositories.master import items_t, locations_t, stock_t, task_lines_t

counts_t = Count.__table__  # type: ignore[attr-defined]

OPEN_ATTEMPTS = ("recount", "pending_approval")
SENT = ("provisional", "posted")


@dataclass(frozen=True, slots=True)
class CountRow:
    """One recorded count."""

    count_id: str
    task_id: str | None
    location_id: str
    item_id: str
    attempt: int
    counted_qty: int
    expected_qty: int
    started_at: dt.datetime
    counted_at: dt.datetime
    status: str
    approved_by: str | None = None


@dataclass(frozen=True, slots=True)
class CountLineRow:
    """A line of a count task with the latest count recorded for it on this device."""

    line_id: str
    item_id: str
    item_description: str
    location_id: str
    location_code: str
    pick_sequence: int
    last_status: str | None
    last_counted_qty: int | None


def _count(row: Any) -> CountRow:
    m = row._mapping
    return CountRow(
        m["count_id"], m["task_id"], m["location_id"], m["item_id"], int(m["attempt"]), int(m["counted_qty"]),
        int(m["expected_qty"]), m["started_at"], m["counted_at"], m["status"], m["approved_by"],
    )


class CountRepository:
    """Reads and writes counts."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, count_id: str) -> CountRow | None:
        """A count by id."""
        row = self.conn.execute(select(counts_t).where(counts_t.c.count_id == count_id)).first()
        return None if row is None else _count(row)

    def open_attempts(self, location_id: str, item_id: str, *, since: dt.datetime) -> int:
        """How many attempts at this item and location, counted since `since`, wait for a recount or approval."""
        rows = self.conn.execute(
            select(counts_t.c.count_id).where(
                counts_t.c.location_id == location_id,
                counts_t.c.item_id == item_id,
                counts_t.c.status.in_(OPEN_ATTEMPTS),
                counts_t.c.counted_at >= since,
            )
        ).all()
        return len(rows)

    def add(self, count: CountRow) -> None:
        """Insert a count."""
        self.conn.execute(insert(counts_t).values(
            count_id=count.count_id, task_id=count.task_id, location_id=count.location_id, item_id=count.item_id,
            attempt=count.attempt, counted_qty=count.counted_qty, expected_qty=count.expected_qty,
            started_at=count.started_at, counted_at=count.counted_at, status=count.status,
            approved_by=count.approved_by,
        ))

    def set_status(self, count_id: str, status: str, *, approved_by: str | None = None) -> None:
        """Change a count's status (and record who approved it)."""
        self.conn.execute(
            update(counts_t).where(counts_t.c.count_id == count_id).values(status=status, approved_by=approved_by)
        )

    def supersede_open(self, location_id: str, item_id: str, *, keep: str) -> None:
        """Mark earlier recount and pending attempts at this item and location superseded."""
        self.conn.execute(
            update(counts_t)
            .where(
                counts_t.c.location_id == location_id,
                counts_t.c.item_id == item_id,
                counts_t.c.status.in_(OPEN_ATTEMPTS),
                counts_t.c.count_id != keep,
            )
            .values(status="superseded")
        )

    def items_at(self, location_id: str) -> list[str]:
        """Item ids with available stock at a location or whose home it is, sorted."""
        stocked = self.conn.execute(
            select(stock_t.c.item_id).where(
                stock_t.c.location_id == location_id, stock_t.c.status == "available", stock_t.c.qty != 0
            )
        )
        homed = self.conn.execute(select(items_t.c.item_id).where(items_t.c.home_location_id == location_id))
        return sorted({r.item_id for r in stocked} | {r.item_id for r in homed})

    def pending_approval(self) -> list[CountRow]:
        """Counts waiting for a manager, oldest first."""
        rows = self.conn.execute(
            select(counts_t).where(counts_t.c.status == "pending_approval").order_by(counts_t.c.counted_at)
        )
        return [_count(r) for r in rows]

    def task_lines(self, task_id: str) -> list[CountLineRow]:
        """A count task's lines in walk order, each with its latest count for this task."""
        rows = self.conn.execute(
            select(
                task_lines_t.c.line_id, task_lines_t.c.item_id, task_lines_t.c.location_id,
                items_t.c.description, locations_t.c.code, locations_t.c.pick_sequence,
            )
            .select_from(task_lines_t)
            .outerjoin(items_t, items_t.c.item_id == task_lines_t.c.item_id)
            .outerjoin(locations_t, locations_t.c.location_id == task_lines_t.c.location_id)
            .where(task_lines_t.c.task_id == task_id)
            .order_by(locations_t.c.pick_sequence, locations_t.c.code, task_lines_t.c.line_id)
        ).all()
        latest: dict[tuple[str, str], CountRow] = {}
        for c in self.conn.execute(
            select(counts_t).where(counts_t.c.task_id == task_id).order_by(counts_t.c.counted_at, counts_t.c.attempt)
        ):
            row = _count(c)
            latest[(row.location_id, row.item_id)] = row
        out = []
        for r in rows:
            last = latest.get((r.location_id or "", r.item_id or ""))
            out.append(CountLineRow(
                line_id=r.line_id, item_id=r.item_id or "", item_description=r.description or (r.item_id or ""),
                location_id=r.location_id or "", location_code=r.code or "?",
                pick_sequence=int(r.pick_sequence or 0),
                last_status=None if last is None else last.status,
                last_counted_qty=None if last is None else last.counted_qty,
            ))
        return out
