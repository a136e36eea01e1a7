"""APScheduler wiring: the engine's `run_once` on an interval, at once after a local commit, backing off.

Scheduling is apart from work (the engine knows nothing of time between runs): this module decides
when to call `run_once` and reads only the reports it returns.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from edge_sync.backoff import Backoff
from edge_sync.engine import SyncEngine, SyncReport

JOB_ID = "backroom-sync"


class SyncScheduler:
    """Runs the sync engine in the background, one run at a time, never blocking the caller."""

    def __init__(self, engine: SyncEngine, *, interval_s: float = 15.0, backoff: Backoff | None = None,
                 on_report: Callable[[SyncReport], None] | None = None, kick_delay_s: float = 0.0) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.kick_delay_s = kick_delay_s
        """How long after a commit its sync starts: scans of one burst go in one push, and the push
        does not compete with the screen for the CPU while the scan's answer is being drawn."""
        self.backoff = backoff or Backoff()
        self.on_report = on_report
        self.failures = 0
        self.not_before: dt.datetime | None = None
        self.last_report: SyncReport | None = None
        self._scheduler = BackgroundScheduler(daemon=True)
        self._guard = threading.Lock()

    def start(self) -> None:
        """Start the interval job (the first run is at once)."""
        self._scheduler.add_job(self.tick, "interval", seconds=self.interval_s, id=JOB_ID, max_instances=1,
                                coalesce=True, next_run_time=dt.datetime.now(dt.UTC))
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop the job; a run under way finishes first."""
        self._scheduler.shutdown(wait=True)

    def kick(self) -> None:
        """Run soon because something was just committed, unless the service is being waited out.

        The run starts `kick_delay_s` after the first commit since the last run; later commits do
        not push it further out, so a steady stream of scans still syncs every `kick_delay_s`.
        """
        if self.failures != 0 or not self._scheduler.running:
            return
        at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.kick_delay_s)
        job = self._scheduler.get_job(JOB_ID)
        planned = job.next_run_time if job is not None else None
        if planned is None or planned > at:
            self._scheduler.modify_job(JOB_ID, next_run_time=at)

    def tick(self) -> SyncReport | None:
        """One scheduled run: skipped while backing off; otherwise run and update the backoff."""
        with self._guard:
            now = dt.datetime.now(dt.UTC)
            if self.not_before is not None and now < self.not_before:
                return None
            report = self.engine.run_once()
            if report.skipped:
                return report
            if report.ok:
                self.failures, self.not_before = 0, None
            else:
                self.failures += 1
                wait = self.backoff.delay(self.failures, report.retry_after)
                self.not_before = now + dt.timedelta(seconds=wait)
            self.last_report = report
        if self.on_report is not None:
            self.on_report(report)
        return report
