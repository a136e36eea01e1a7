"""Readers: every kind of scanner is a `Scanner` that yields `ScanEvent`s.

    Scanner        the protocol: read(timeout) -> list[ScanEvent], close()
    FakeScanner    replays given events (tests, development)
    WedgeScanner   keyboard-wedge keystrokes -> scans by inter-key timing  (scanners.wedge)
    SerialScanner  a serial/USB-CDC scanner through pyserial               (scanners.serial)
    CameraScanner  camera frames -> confirmed reads                        (scanners.camera)
    RfidScanner    an RFID reader (simulated, replayed, LLRP)              (scanners.rfid)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from device.events import ScanEvent

__all__ = ["FakeScanner", "Scanner"]


@runtime_checkable
class Scanner(Protocol):
    """A reader of scans: `read` returns what arrived (waiting up to `timeout` seconds)."""

    def read(self, timeout: float = 0.0) -> list[ScanEvent]:
        """The scans that arrived since the last call, waiting up to `timeout` for the first."""
        ...

    def close(self) -> None:
        """Release the reader (port, camera, connection)."""
        ...


class FakeScanner:
    """A scanner that hands out the events it was given, `batch` at a time, then nothing."""

    def __init__(self, events: Iterable[ScanEvent] = (), *, batch: int = 1) -> None:
        self._queue: deque[ScanEvent] = deque(events)
        self.batch = batch
        self.closed = False

    def push(self, *events: ScanEvent) -> None:
        """Queue more events, as if scanned now."""
        self._queue.extend(events)

    def read(self, timeout: float = 0.0) -> list[ScanEvent]:
        """The next `batch` queued events (empty when none are left)."""
        out: list[ScanEvent] = []
        while self._queue and len(out) < self.batch:
            out.append(self._queue.popleft())
        return out

    def close(self) -> None:
        """Mark the scanner closed."""
        self.closed = True
