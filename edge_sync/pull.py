"""Pulling the store's changes from the central service into the local tables, page by page.

Each page is applied in one local transaction together with the cursor that follows it, so an
interrupted first sync resumes at the page it stopped in and never skips or loses a change: a
page is either wholly applied with its cursor, or not at all.

Within a page, in this order:
1. op results of this device's own ops: they settle ops whose push answer was lost, and mark
   them acknowledged (edge_sync.overlay): the pulled state now includes what they did;
2. records (items, locations, users, documents, tasks, orders); a task or order that one of this
   device's unacknowledged ops changes is held back until that op is acknowledged;
3. balances, into `server_stock`, and `stock` recomputed with this device's remaining moves.

A failed fetch raises a SyncError (edge_sync.errors); nothing of that page is applied.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select, update

from edge_sync import contract, overlay
from edge_sync.client import SyncClient
from edge_sync.outbox import result_json
from edge_sync.db import driver
from edge_sync.repositories import master
from edge_sync.tables import SyncState
from edge_sync.uow import UnitOfWork

_state = SyncState.__table__  # type: ignore[attr-defined]

Applier = Callable[[Connection, Iterable[Any]], None]

APPLIERS: dict[contract.ChangeKind, Applier] = {
    contract.ChangeKind.LOCATION: master.apply_locations,
    contract.ChangeKind.ITEM: master.apply_items,
    contract.ChangeKind.USER: master.apply_users,
    contract.ChangeKind.PURCHASE_ORDER: master.apply_purchase_orders,
    contract.ChangeKind.ASN: master.apply_asns,
    contract.ChangeKind.ORDER: master.apply_orders,
    contract.ChangeKind.TASK: master.apply_tasks,
    contract.ChangeKind.BALANCE: master.apply_balances,
}
"""Kinds the device keeps, in the order a page applies them. Exceptions are for the manager's
screens, which read them from the service."""

_SETTLE_FROM_FEED = {
    contract.OpStatus.APPLIED: "applied",
    contract.OpStatus.DUPLICATE: "duplicate",
    contract.OpStatus.REJECTED: "parked",
}


@dataclass
class PullReport:
    """What one pull did."""

    pages: int = 0
    changes: int = 0
    applied: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acknowledged: int = 0
    deferred: int = 0
    cursor: str = ""
    complete: bool = False
    """True when the last page said there was nothing more."""
    server_time: dt.datetime | None = None
    wait_s: float = 0.0
    """Seconds spent waiting for pages with nothing else to do: the next page is fetched while
    this one is applied, so this is less than the fetches took."""


def current_cursor(engine: Engine) -> str:
    """The cursor the next pull starts from ('' before the first sync)."""
    with engine.connect() as conn:
        row = conn.execute(select(_state.c.cursor)).first()
    return "" if row is None else str(row.cursor)


def _own_results(conn: Connection, results: list[dict[str, Any]], now: dt.datetime, report: PullReport) -> set[overlay.Key]:
    """Settle and acknowledge this device's ops among a page's op results (every device's ops are in the feed)."""
    raw = driver(conn)
    op_ids = [_op_id(d) for d in results]
    # An op still pending here whose push answer was lost: the feed settles it. Most results are
    # of ops settled already, or of other devices: only the pending ones are read in full.
    pending = {row[0] for row in raw.execute("SELECT op_id FROM outbox WHERE state = 'pending'")}
    settled = [contract.OpResult.model_validate(d) for op_id, d in zip(op_ids, results, strict=True) if op_id in pending]
    at = now.isoformat(timespec="microseconds")
    raw.executemany(
        "UPDATE outbox SET state = ?, result = ?, last_error = ?, settled_at = ? WHERE op_id = ? AND state = 'pending'",
        [(state, result_json(r.result), r.reason if state == "parked" else None, at, str(r.op_id))
         for r in settled if (state := _SETTLE_FROM_FEED.get(r.status)) is not None],
    )
    seqs, keys = overlay.acknowledge(conn, op_ids)
    report.acknowledged += len(seqs)
    return keys


def _op_id(data: dict[str, Any]) -> str:
    """A result's op_id as the outbox holds it: the service sends it so, else it is read as a UUID."""
    text = data.get("op_id")
    if isinstance(text, str) and len(text) == 36 and text.islower():
        return text
    return str(contract.OpResult.model_validate(data).op_id)


def apply_page(conn: Connection, page: contract.ChangesPage, report: PullReport, now: dt.datetime) -> None:
    """Apply one page's changes (latest version of each key wins) in the caller's transaction."""
    latest: dict[tuple[contract.ChangeKind, str], dict[str, Any] | None] = {}
    for change in page.changes:
        latest[(change.kind, change.key)] = change.data
    results = [d for (k, _), d in latest.items() if k is contract.ChangeKind.OP_RESULT and d is not None]
    stale_keys = _own_results(conn, results, now, report)
    # Held-back records first: anything newer in this page is applied (or held back) after them.
    released: dict[contract.ChangeKind, list[BaseModel]] = defaultdict(list)
    for kind_name, _key, held in overlay.releasable(conn):
        ck = contract.ChangeKind(kind_name)
        released[ck].append(contract.RECORDS[ck].model_validate(held))
    for kind in APPLIERS:
        if released.get(kind):
            APPLIERS[kind](conn, released[kind])
            report.applied[kind.value] += len(released[kind])
    busy = overlay.touched(conn)
    grouped: dict[contract.ChangeKind, list[BaseModel]] = defaultdict(list)
    for (kind, key), data in latest.items():
        if kind not in APPLIERS or data is None:
            continue
        if (kind.value, key) in busy:
            overlay.defer(conn, kind.value, key, data)
            report.deferred += 1
            continue
        grouped[kind].append(contract.RECORDS[kind].model_validate(data))
    for kind, applier in APPLIERS.items():
        if grouped.get(kind):
            applier(conn, grouped[kind])
            report.applied[kind.value] += len(grouped[kind])
    overlay.recompute(conn, stale_keys)


PAGE_LIMIT = 2000
"""Changes asked for in one page (the service gives at most 5,000). Each page costs the service a
query and the device a transaction and its commit besides its changes: after draining 10,000 ops,
the pull took ~40 ms less in pages of 2,000 than of 1,000 (6 pages, not 11; bench/drain.py), and
the first sync of the seeded store as long (~0.78 s). Up to three pages are held at once (one
applied, two fetched ahead)."""


class PageFeed:
    """The change feed's pages from one cursor, fetched in order on a thread of their own.

    Each page's fetch starts as soon as the page before it has come, without waiting for the
    thread applying pages; at most two pages wait to be applied (`next`), so a slow device holds
    back the fetching rather than filling its memory. The fetching ends after the last page (one
    without more), after `max_pages`, at the first failed fetch (its error is raised by `next` in
    the failed page's turn), or at `close`.
    """

    def __init__(self, client: SyncClient, cursor: str, *, limit: int = PAGE_LIMIT,
                 max_pages: int | None = None) -> None:
        self.cursor = cursor
        self.limit = limit
        self.max_pages = max_pages
        self._client = client
        self._ready: deque[contract.ChangesPage | BaseException] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._fetch, name="sync-pull", daemon=True)
        self._thread.start()

    def _fetch(self) -> None:
        cursor, fetched = self.cursor, 0
        while self.max_pages is None or fetched < self.max_pages:
            try:
                item: contract.ChangesPage | BaseException = self._client.changes(cursor, self.limit)
            except BaseException as exc:  # handed to the applying thread, raised in this page's turn
                item = exc
            fetched += 1
            with self._cond:
                while len(self._ready) >= 1 and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                self._ready.append(item)
                self._cond.notify_all()
            if isinstance(item, BaseException) or not item.has_more:
                return
            cursor = item.next_cursor

    def next(self) -> contract.ChangesPage:
        """The next page in order, once fetched; a failed fetch's error in that page's turn."""
        with self._cond:
            while not self._ready:
                self._cond.wait()
            item = self._ready.popleft()
            self._cond.notify_all()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        """Stop fetching; wait for a fetch under way to end (its page is dropped)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()


def pull(client: SyncClient, engine: Engine, *, limit: int = PAGE_LIMIT, max_pages: int | None = None,
         now: Callable[[], dt.datetime] | None = None, feed: PageFeed | None = None) -> PullReport:
    """Pull pages until the service has nothing more (or `max_pages`), applying each atomically.

    The pages are fetched ahead on their own thread while they are applied (`PageFeed`), and
    applied one after the other, in order. A fetch that failed raises when its page's turn
    comes, after the pages before it were applied and committed. `feed`: one started earlier
    (the sync engine starts it while it settles its last push); it is used when it starts from
    the device's cursor with `limit` and `max_pages`, else a new one is started. Either way
    it is closed on return.
    """
    report = PullReport(cursor=current_cursor(engine))
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    if feed is not None and (feed.cursor, feed.limit, feed.max_pages) != (report.cursor, limit, max_pages):
        feed.close()
        feed = None
    if feed is None:
        feed = PageFeed(client, report.cursor, limit=limit, max_pages=max_pages)
    try:
        while max_pages is None or report.pages < max_pages:
            start = time.perf_counter()
            try:
                page = feed.next()
            finally:
                report.wait_s += time.perf_counter() - start
            with UnitOfWork(engine) as uow:
                apply_page(uow.conn, page, report, clock())
                uow.conn.execute(update(_state).where(_state.c.id == 1).values(
                    cursor=page.next_cursor, last_pull_at=clock()))
                uow.commit()
            report.pages += 1
            report.changes += len(page.changes)
            report.cursor = page.next_cursor
            report.server_time = page.server_time
            if not page.has_more:
                report.complete = True
                break
    finally:
        feed.close()
    return report
