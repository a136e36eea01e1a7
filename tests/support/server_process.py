"""The central service as its own process (`backroom server`), to stop, kill and start again.

    with ServiceProcess(db_path, port=free_port()) as svc:   # started, healthy
        svc.kill()                                           # SIGKILL, mid-request if need be
        svc.start()                                          # same file, same port

`prepare_database` migrates the SQLite file and loads a store into it first, as an operator would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from edge_sync.contract import MasterData
from server_stub.db import create_engine_for, migrate
from server_stub.masterdata import load_master_data

ROOT = Path(__file__).resolve().parents[2]


def prepare_database(path: Path, store: MasterData) -> str:
    """Migrate a fresh SQLite file and load `store` into it; returns its URL."""
    url = f"sqlite:///{path}"
    engine = create_engine_for(url)
    try:
        migrate(engine)
        load_master_data(engine, store)
    finally:
        engine.dispose()
    return url


class ServiceProcess:
    """`python -m app.cli server` on 127.0.0.1:`port` over the SQLite file at `db_path`."""

    def __init__(self, db_path: Path, *, port: int, log_path: Path | None = None, workers: int = 1) -> None:
        self.db_path = db_path
        self.workers = workers
        self.port = port
        self.log_path = log_path or db_path.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        """The service's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Start the service and wait until /healthz answers."""
        if self.proc is not None:
            raise RuntimeError("the service is already running")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "server", "--host", "127.0.0.1", "--port", str(self.port),
                 "--database-url", f"sqlite:///{self.db_path}", "--log-level", "warning", "--no-access-log",
                 "--workers", str(self.workers)],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the service did not become healthy in {timeout} s")

    def stop(self) -> None:
        """Stop the service gracefully (SIGTERM: requests under way finish first)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the service (SIGKILL): whatever it was doing stops there."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
