"""Prometheus metrics, on a registry of the app's own (tests build many apps in one process).

Counters and the latency histogram are kept per process; with several worker processes
(`backroom server --workers N`) each writes them to files in `PROMETHEUS_MULTIPROC_DIR`, which the
server sets for its workers, and a scrape, whichever worker answers it, sums every worker's
(prometheus_client's multiprocess mode). The device gauges (lag, pending, pending age) are read from
the `devices` table at scrape time, so every worker reports the same figures.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from edge_sync.contract import OpStatus
from server_stub import tables as t
from server_stub.ingest import IngestReport

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Where the workers of one server write their counters (read by prometheus_client at import)."""


class DeviceCollector(Collector):
    """Per-device gauges from the devices table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterator[Metric]:
        """The metric families, without values (no database read at registration)."""
        yield from self._families()

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        labels = ["store_id", "device_id"]
        return (
            GaugeMetricFamily("backroom_device_lag_seconds", "Age of the device's newest op when it arrived", labels=labels),
            GaugeMetricFamily("backroom_device_pending_ops", "Ops the device reported still queued", labels=labels),
            GaugeMetricFamily("backroom_device_parked_ops", "Rejected ops the device reported parked", labels=labels),
            GaugeMetricFamily("backroom_device_pending_age_seconds", "Age of the device's oldest queued op", labels=labels),
            GaugeMetricFamily("backroom_device_last_seen_age_seconds", "Time since the device last pushed", labels=labels),
        )

    def collect(self) -> Iterator[Metric]:
        """Read every device's figures now."""
        lag, pending, parked, age, seen = self._families()
        d = t.devices
        now = dt.datetime.now(dt.UTC)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(d.c.store_id, d.c.device_id, d.c.lag_ms, d.c.pending, d.c.parked, d.c.oldest_pending_at, d.c.last_seen_at)
            ).all()
        for store_id, device_id, lag_ms, n_pending, n_parked, oldest, last_seen in rows:
            labels = [store_id, device_id]
            lag.add_metric(labels, (lag_ms or 0) / 1000.0)
            pending.add_metric(labels, n_pending)
            parked.add_metric(labels, n_parked)
            age.add_metric(labels, max(0.0, (now - oldest).total_seconds()) if oldest and n_pending else 0.0)
            seen.add_metric(labels, max(0.0, (now - last_seen).total_seconds()))
        yield from (lag, pending, parked, age, seen)


class Metrics:
    """The app's metrics and their registry."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        shared = os.environ.get(MULTIPROCESS_DIR_ENV)
        # In multiprocess mode the counters write to files, and the scrape reads every worker's files.
        own = None if shared else self.registry
        self.ops = Counter("backroom_ops", "Ops answered by ingest, by outcome", ["status"], registry=own)
        for status in OpStatus:
            self.ops.labels(status.value)
        self.batch_seconds = Histogram(
            "backroom_ingest_batch_seconds",
            "Time to ingest one push",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=own,
        )
        self.connections_shed = Counter(
            "backroom_connections_shed",
            "Keep-alive connections a busy worker closed so that a less loaded one takes them (server_stub.balance)",
            registry=own,
        )
        if shared:
            MultiProcessCollector(self.registry, shared)  # type: ignore[no-untyped-call]
        self.registry.register(DeviceCollector(engine))

    def observe_push(self, report: IngestReport, seconds: float) -> None:
        """Count a push's answers and its latency."""
        counts: dict[str, int] = {}
        for result in report.results:
            counts[result.status.value] = counts.get(result.status.value, 0) + 1
        for status, n in counts.items():
            self.ops.labels(status).inc(n)
        self.batch_seconds.observe(seconds)

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
