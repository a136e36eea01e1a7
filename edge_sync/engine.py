"""The sync engine: push pending ops in seq order, settle each with the service's answer, then pull.

    report = engine.run_once()

`run_once` never raises for a network or service problem: it returns a `SyncReport` whose
`error` says what went wrong in words, and the scheduler backs off. One run at a time: a second
caller while a run is under way gets a report marked `skipped`.

Settling (in one local transaction per batch):
    applied, duplicate   → the op is done; its stored result is kept
    rejected             → parked with the service's reason, never resent as is; later ops go on
    out_of_order         → the service is missing earlier ops (for instance it was restored from
                           a backup): ops from its expected seq that were settled are sent again

A batch the service refuses as too large (413) is halved and sent again, down to one op; the batch
grows back by doubling after each push that gets through. An op too large on its own is parked
with the reason, and its seq is still given to the service, so that the ops after it are not held
up forever waiting for it: a stand-in with the op's envelope and no usable payload goes in its
place, which the service records as rejected. The op itself is never sent; a person corrects it
(smaller) and resends it as a new op, or dismisses it (edge_sync.parked).

Pushes overlap the device's work with the service's. One push is in flight at a time, on a worker
thread (the service applies a device's ops in seq order); meanwhile the engine reads the next
batch, hands it to the worker, and settles the one answered before. An answer of only applied
and duplicate, in order, lets the worker send the next batch at once, without waiting for the
engine's thread; any other answer (an error, 413, out of order, rejected, an op unanswered) keeps
it back and is handled as above, one push at a time. Each batch is settled in its own
transaction: a crash between a push and its settling leaves the ops pending, sent again and
answered duplicate. When the last batch is answered clean, the pull's pages are asked for while
it is settled; the pull fetches pages ahead while it applies them (edge_sync.pull).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select, update

from edge_sync import contract, outbox
from edge_sync.client import SyncClient, TooLarge
from edge_sync.db import driver
from edge_sync.errors import SyncError
from edge_sync.pull import PAGE_LIMIT, PageFeed, current_cursor, pull
from edge_sync.tables import SyncState
from edge_sync.uow import UnitOfWork

_state = SyncState.__table__  # type: ignore[attr-defined]

BATCH = contract.MAX_BATCH
"""Ops per push: as many as the service takes in one. Each push costs the service a fixed part
(signature, nonce, its transaction and commit, the device row) besides its ops: draining a long
queue in batches of 500 rather than 250 took ~15 % less time (bench/drain.py). A body the
service finds too large is sent again in halves (see `_push`)."""
BACKLOG_BATCHES = 8
"""Past this many batches pending, the status sent with each is looked up in the pending ops read
once (`_Backlog`) rather than counted in SQL again: the read costs about four counts of them (a
count's rows stay in SQLite, a read makes each a Python object), and counting what remains
before each batch costs about half as many counts as there are batches."""
MAX_BATCHES_PER_RUN = 400
MAX_PAGES_PER_RUN = 200


@dataclass
class SyncReport:
    """What one run did; the UI and the scheduler read only this."""

    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    skipped: bool = False
    sent: int = 0
    applied: int = 0
    duplicate: int = 0
    parked: int = 0
    out_of_order: int = 0
    batches: int = 0
    pulled: int = 0
    pages: int = 0
    drained: bool = False
    """Nothing was left pending when the push phase ended."""
    pull_complete: bool = False
    split: int = 0
    """Batches the service refused as too large (413) and that were sent again in halves."""
    too_large: int = 0
    """Ops too large to send even alone: parked, their seq given to the service by a stand-in."""
    error: str | None = None
    retry_after: float | None = None
    push_wait_s: float = 0.0
    """Seconds the run waited for push answers with nothing else to do: while a push is in flight
    the device reads the next batch and settles the last, so this is less than the pushes took."""
    pull_wait_s: float = 0.0
    """Seconds the pull waited for pages with nothing else to do (see `PullReport.wait_s`)."""
    results: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run reached the service and finished."""
        return self.error is None and not self.skipped


class SyncEngine:
    """Pushes and pulls for one device database."""

    def __init__(self, engine: Engine, client: SyncClient, *, clock: Callable[[], dt.datetime] | None = None,
                 batch: int = BATCH, app_version: str = "") -> None:
        self.db = engine
        self.client = client
        self.now = clock or (lambda: dt.datetime.now(dt.UTC))
        self.batch = batch
        self.app_version = app_version
        self._lock = threading.Lock()
        self._backlog: _Backlog | None = None
        self._pending_after = 0

    def run_once(self) -> SyncReport:
        """Push everything pending, then pull what changed; record how it went."""
        report = SyncReport(started_at=self.now())
        if not self._lock.acquire(blocking=False):
            report.skipped = True
            return report
        try:
            try:
                feed = self._push(report)
                pulled = pull(self.client, self.db, max_pages=MAX_PAGES_PER_RUN, now=self.now, feed=feed)
                report.pulled, report.pages, report.pull_complete = pulled.changes, pulled.pages, pulled.complete
                report.pull_wait_s = pulled.wait_s
            except SyncError as exc:
                report.error, report.retry_after = exc.message, exc.retry_after
            report.finished_at = self.now()
            self._record(report)
            return report
        finally:
            self._lock.release()

    # --- push ---------------------------------------------------------------------------------

    def _push(self, report: SyncReport) -> PageFeed | None:
        """Push every pending op; the change feed's first pages, when they could be fetched ahead.

        When nothing was pending after the last batch read, the worker thread starts fetching the
        pull's pages (`_feed_after`) as soon as that batch is answered clean, while this thread
        settles it: the cursor is known, only the pull moves it.
        """
        limit = self.batch
        feed: PageFeed | None = None
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push") as worker:
                while report.batches < MAX_BATCHES_PER_RUN:
                    batch, status = self._prepare(limit)
                    if not batch.ops:
                        report.drained = True
                        return feed
                    if feed is not None:  # ops queued since the last batch was read: that feed is stale
                        feed.close()
                        feed = None
                    flight = self._send(worker, batch, status)
                    if limit == self.batch:
                        flight, feeding = self._pipeline(worker, flight, report)
                    else:
                        feeding = self._feed_after(worker, flight) if len(batch.ops) < limit else None
                    batch = flight.batch
                    try:
                        answer = self._answer(flight, report)
                    except TooLarge as exc:
                        report.batches += 1
                        if len(batch.ops) > 1:
                            report.split += 1
                            limit = max(1, len(batch.ops) // 2)
                            continue
                        if not self._withhold(batch.ops[0], len(batch.ops_json[0].encode()), exc, flight.status, report):
                            return feed
                        continue
                    finally:
                        # None unless the answer was clean: an error or a refusal started nothing.
                        feed = None if feeding is None else feeding.result()
                    report.batches += 1
                    report.sent += len(batch.ops)
                    limit = min(self.batch, limit * 2)
                    if not self._settle(_sort(batch.ops, answer), report):
                        return feed  # only out-of-order answers: try again next run, not in a tight loop
            report.drained = not self._has_pending()
            return feed
        except BaseException:
            if feed is not None:
                feed.close()
            raise

    def _pipeline(self, worker: ThreadPoolExecutor, flight: _Flight,
                  report: SyncReport) -> tuple[_Flight, Future[PageFeed | None] | None]:
        """Keep one push in flight while the device prepares the next batch and settles the last.

        While `flight` is on its way, the next full batch (the pending ops after its last seq) is
        read and handed to the worker thread, which sends it as soon as `flight` is answered with
        every op applied or duplicate, in order: the next push leaves without waiting for this
        thread. Meanwhile the batch answered before is settled. Any other answer (an error, 413,
        out of order, rejected, unanswered) keeps the next batch back, and `flight` comes back to
        `_push` unsettled, which handles it as one push at a time. Never two pushes in flight: the
        service applies a device's ops in seq order. A crash between a push and its settling
        leaves its ops pending, sent again next run and answered duplicate.

        Returns the last flight, unsettled, and when nothing was pending after it, the pull's
        pages to come once it is answered clean (`_feed_after`).
        """
        behind: tuple[_Flight, _Answer] | None = None
        while True:
            ahead: _Flight | None = None
            feeding: Future[PageFeed | None] | None = None
            if len(flight.batch.ops) < self.batch:  # a short batch took every op pending
                feeding = self._feed_after(worker, flight)
            elif report.batches + 1 < MAX_BATCHES_PER_RUN:
                batch, status = self._prepare(self.batch, after_seq=flight.batch.ops[-1][0])
                if batch.ops:
                    ahead = self._send(worker, batch, status, after=flight)
                else:
                    feeding = self._feed_after(worker, flight)
            if behind is not None:
                try:
                    self._settle(_sort(behind[0].batch.ops, behind[1]), report)
                except BaseException:
                    _drop(feeding)
                    raise
                behind = None
            if ahead is None:
                return flight, feeding
            try:
                answer = self._answer(flight, report)
            except SyncError:
                return flight, None  # `_push` takes the same error from the same answer; `ahead` stayed
            if not answer.clean:
                return flight, None  # `ahead` stayed: the worker saw this answer first
            report.batches += 1
            report.sent += len(flight.batch.ops)
            behind = (flight, answer)
            flight = ahead

    def _feed_after(self, worker: ThreadPoolExecutor, flight: _Flight) -> Future[PageFeed | None]:
        """The pull's pages, fetched from the device's cursor once `flight` is answered clean (else None).

        The worker thread starts the fetching right after the push's answer, without waiting for
        this thread, which goes on to settle it; the pages are applied after that, in order.
        """
        cursor = current_cursor(self.db)

        def start() -> PageFeed | None:
            if not _went_clean(flight):
                return None
            return PageFeed(self.client, cursor, limit=PAGE_LIMIT, max_pages=MAX_PAGES_PER_RUN)

        return worker.submit(start)

    def _prepare(self, limit: int, *, after_seq: int = 0) -> tuple[outbox.WireBatch, contract.DeviceStatusReport]:
        """The next pending ops after `after_seq`, and the queue's status once the ops up to it are settled."""
        with self.db.connect() as conn:
            return outbox.pending_batch(conn, limit=limit, after_seq=after_seq), self._status_report(conn, after_seq)

    def _send(self, worker: ThreadPoolExecutor, batch: outbox.WireBatch, status: contract.DeviceStatusReport,
              *, after: _Flight | None = None) -> _Flight:
        """Push `batch` on the worker thread; with `after`, only once that push was answered clean.

        The worker runs one push after the other in the order given, so `after` has its answer
        by the time this one's turn comes: the worker looks at it and sends, or sends nothing
        (the answer is None), without waiting for the thread that prepared the batch.
        """
        ids = [_uuid_int(op_id) for _, op_id in batch.ops]

        def push() -> _Answer | None:
            if after is not None and not _went_clean(after):
                return None
            sent_at = self.now()
            response = self.client.push_body(batch.ops_json, status)
            return _Answer(response, sent_at, self.now(), _all_done(ids, response))

        return _Flight(batch, status, worker.submit(push))

    @staticmethod
    def _answer(flight: _Flight, report: SyncReport) -> _Answer:
        """Wait for the push's answer (or its error), counting the time waited."""
        start = time.perf_counter()
        try:
            answer = flight.answer.result()
        finally:
            report.push_wait_s += time.perf_counter() - start
        if answer is None:
            raise RuntimeError("a push held back (the one before it was not answered clean) was waited for")
        return answer

    def _withhold(self, op: tuple[int, str], size: int, refusal: TooLarge, status: contract.DeviceStatusReport,
                  report: SyncReport) -> bool:
        """Park an op too large to send alone, and give its seq to the service with a stand-in.

        True when the op left the pending state (the stand-in was answered `rejected`, as it must
        be: its payload fits no op type). Any other answer leaves it pending for the next run.
        """
        seq, op_id = op
        with self.db.connect() as conn:
            [wire] = outbox.pending_ops(conn, limit=1, after_seq=seq - 1)
        stand_in = wire.model_dump(mode="json") | {"payload": {"withheld": f"op too large to send ({size} bytes)"}}
        start = time.perf_counter()
        try:
            response = self.client.push_body([json.dumps(stand_in)], status)
        finally:
            report.push_wait_s += time.perf_counter() - start
        report.sent += 1
        answer = next((r for r in response.results if str(r.op_id) == op_id), None)
        if answer is None or answer.status is not contract.OpStatus.REJECTED:
            return False
        reason = (f"This {wire.type.value} is too large for the service to take ({size:,} bytes in one request; "
                  f"{refusal.message.split(': ', 1)[-1]}). It was not sent: correct it to hold less "
                  "(fewer lines) and send it again, or dismiss it")[:500]
        with UnitOfWork(self.db) as uow:
            driver(uow.conn).execute(
                "UPDATE outbox SET state = 'parked', result = ?, attempts = attempts + 1, last_error = ?, settled_at = ?"
                " WHERE seq = ? AND state = 'pending'",
                (json.dumps({"too_large": True, "bytes": size}), reason, self.now().isoformat(timespec="microseconds"), seq))
            uow.commit()
        report.parked += 1
        report.too_large += 1
        return True

    def _has_pending(self) -> bool:
        with self.db.connect() as conn:
            return driver(conn).execute("SELECT 1 FROM outbox WHERE state = 'pending' LIMIT 1").fetchone() is not None

    def _status_report(self, conn: Connection, after_seq: int = 0) -> contract.DeviceStatusReport:
        """The queue once the ops up to `after_seq` are settled: pending, parked, the oldest pending.

        Counted in SQL when a batch is read from the queue's start. A long queue's pending ops
        are then read once (`_Backlog`), while the first push is in flight, and the batches after
        look up their place in that and count only the ops queued since, rather than counting
        the rest of the queue again for each batch. Within the push phase only the engine settles
        ops, and the pipeline reads ahead only past ops answered applied or duplicate, so the
        backlog stays the truth.
        """
        raw = driver(conn)
        if after_seq == 0:
            self._backlog = None
        elif self._backlog is None and self._pending_after > BACKLOG_BATCHES * self.batch:
            self._backlog = _Backlog.read(raw)
        if self._backlog is None:
            pending, oldest = raw.execute(
                "SELECT count(*), min(occurred_at) FROM outbox WHERE state = 'pending' AND seq > ?", (after_seq,)).fetchone()
        else:
            pending, oldest = self._backlog.after(raw, after_seq)
        self._pending_after = pending
        parked = raw.execute("SELECT count(*) FROM outbox WHERE state = 'parked'").fetchone()[0]
        return contract.DeviceStatusReport(
            pending=pending, parked=parked, app_version=self.app_version[:32],
            oldest_pending_at=None if oldest is None else dt.datetime.fromisoformat(oldest),
        )

    def _settle(self, answer: _Sorted, report: SyncReport) -> bool:
        """Record each op's answer in one local transaction; True when at least one op left the pending state."""
        for status, n in answer.counts.items():
            report.results[status] = report.results.get(status, 0) + n
        report.applied += answer.counts.get(contract.OpStatus.APPLIED.value, 0)
        report.duplicate += answer.counts.get(contract.OpStatus.DUPLICATE.value, 0)
        report.parked += len(answer.refused)
        report.out_of_order += len(answer.waiting)
        with UnitOfWork(self.db) as uow:
            raw = driver(uow.conn)
            raw.executemany(
                "UPDATE outbox SET state = ?, result = ?, attempts = attempts + 1, last_error = NULL, settled_at = ?"
                " WHERE seq = ? AND state = 'pending'", answer.done)
            raw.executemany(
                "UPDATE outbox SET state = 'parked', result = ?, attempts = attempts + 1, last_error = ?,"
                " settled_at = ? WHERE seq = ? AND state = 'pending'", answer.refused)
            raw.executemany("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?", answer.waiting)
            reset = 0
            for expected, seq in answer.resend_from:
                # The service lacks ops we thought it had: send them again from there.
                reset += raw.execute(
                    "UPDATE outbox SET state = 'pending' WHERE seq >= ? AND seq < ? AND state IN ('applied', 'duplicate')",
                    (expected, seq)).rowcount
            uow.conn.execute(update(_state).where(_state.c.id == 1).values(clock_offset_ms=answer.offset_ms))
            uow.commit()
        return bool(answer.done or answer.refused or reset)

    # --- bookkeeping --------------------------------------------------------------------------

    def _record(self, report: SyncReport) -> None:
        with UnitOfWork(self.db) as uow:
            values: dict[str, object] = {"last_attempt_at": report.started_at}
            if report.error is None:
                values |= {"last_success_at": report.finished_at, "last_error": None, "consecutive_failures": 0,
                           "last_push_at": report.finished_at}
            else:
                failures = uow.conn.execute(select(_state.c.consecutive_failures)).scalar_one()
                values |= {"last_error": report.error, "consecutive_failures": int(failures) + 1}
            uow.conn.execute(update(_state).where(_state.c.id == 1).values(**values))
            uow.commit()


# --- answers ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Flight:
    """A push on its way: the batch, the status sent with it, and its answer to come (None: not sent)."""

    batch: outbox.WireBatch
    status: contract.DeviceStatusReport
    answer: Future[_Answer | None]


@dataclass(frozen=True, slots=True)
class _Answer:
    """A push's answer, when the push left and when the answer came, and whether it is clean
    (every op applied or duplicate, in the order sent)."""

    response: contract.PushResponse
    sent_at: dt.datetime
    answered_at: dt.datetime
    clean: bool


@dataclass(slots=True)
class _Backlog:
    """The pending ops' seqs in order, and for each the oldest occurred_at from it to the end.

    occurred_at is stored as UTC ISO text of one width (microseconds), so text order is time
    order, as SQLite's min() over it already relied on.
    """

    seqs: list[int]
    oldest: list[str]
    end: int
    """The last seq read (0 when none was pending): ops after it were queued since."""

    @classmethod
    def read(cls, raw: sqlite3.Connection) -> _Backlog:
        rows = raw.execute("SELECT seq, occurred_at FROM outbox WHERE state = 'pending' ORDER BY seq").fetchall()
        oldest: list[str] = []
        running = ""
        for _, at in reversed(rows):
            running = at if not running or at < running else running
            oldest.append(running)
        oldest.reverse()
        seqs = [int(seq) for seq, _ in rows]
        return cls(seqs, oldest, seqs[-1] if seqs else 0)

    def after(self, raw: sqlite3.Connection, after_seq: int) -> tuple[int, str | None]:
        """How many ops are pending after `after_seq`, and the oldest one's occurred_at."""
        i = bisect.bisect_right(self.seqs, after_seq)
        pending = len(self.seqs) - i
        oldest = self.oldest[i] if i < len(self.oldest) else None
        newer, newest_oldest = raw.execute(
            "SELECT count(*), min(occurred_at) FROM outbox WHERE state = 'pending' AND seq > ?",
            (max(self.end, after_seq),)).fetchone()
        if newer:
            pending += newer
            oldest = newest_oldest if oldest is None or newest_oldest < oldest else oldest
        return pending, oldest


@dataclass(slots=True)
class _Sorted:
    """A push's answer sorted into the rows that settle it (see `SyncEngine._settle`)."""

    done: list[tuple[str, str, str, int]] = field(default_factory=list)
    refused: list[tuple[str, str, str, int]] = field(default_factory=list)
    waiting: list[tuple[str, int]] = field(default_factory=list)
    resend_from: list[tuple[int, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    offset_ms: int = 0


_DONE = (contract.OpStatus.APPLIED, contract.OpStatus.DUPLICATE)


def _uuid_int(op_id: str) -> int:
    """An op_id's 128 bits, as `UUID.int` gives them: cheaper to compare than the UUID's text."""
    return int(op_id.replace("-", ""), 16)


def _all_done(ids: list[int], response: contract.PushResponse) -> bool:
    """Every op of the batch answered applied or duplicate, in the order sent (as the service answers)."""
    results = response.results
    return len(results) == len(ids) and all(
        r.status in _DONE and r.op_id.int == i for i, r in zip(ids, results, strict=True))


def _went_clean(flight: _Flight) -> bool:
    """The push was answered (no error) with every op applied or duplicate, in order."""
    answer = flight.answer
    if not answer.done() or answer.cancelled() or answer.exception() is not None:
        return False
    result = answer.result()
    return result is not None and result.clean


def _drop(feeding: Future[PageFeed | None] | None) -> None:
    """Stop the pages a push phase that failed had started fetching."""
    feed = None if feeding is None else feeding.result()
    if feed is not None:
        feed.close()


def _sort(ops: list[tuple[int, str]], answer: _Answer) -> _Sorted:
    """Sort each op of the batch by its answer; an op not answered stays pending, sent again next time."""
    response, sent_at, answered_at = answer.response, answer.sent_at, answer.answered_at
    midpoint = sent_at + (answered_at - sent_at) / 2
    now = answered_at.isoformat(timespec="microseconds")
    out = _Sorted(offset_ms=int((response.server_time - midpoint).total_seconds() * 1000))
    counts = out.counts
    if answer.clean:  # every op answered in order: no need to match them by op_id
        for (seq, _), result in zip(ops, response.results, strict=True):
            status = result.status.value
            counts[status] = counts.get(status, 0) + 1
            out.done.append((status, outbox.result_json(result.result), now, seq))
        return out
    by_id = {str(r.op_id): r for r in response.results}
    for seq, op_id in ops:
        found = by_id.get(op_id)
        if found is None:
            continue
        status_ = found.status
        counts[status_.value] = counts.get(status_.value, 0) + 1
        if status_ in _DONE:
            out.done.append((status_.value, outbox.result_json(found.result), now, seq))
        elif status_ is contract.OpStatus.REJECTED:
            out.refused.append((outbox.result_json(found.result), found.reason or "refused by the service", now, seq))
        else:
            out.waiting.append((found.reason or "waiting for an earlier op", seq))
            if found.expected_seq is not None and found.expected_seq < seq:
                out.resend_from.append((found.expected_seq, seq))
    return out
