"""Double-scan suppression: the same code from the same reader within a window counts once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from device.events import ScanEvent

__all__ = ["DoubleScanFilter", "EpcWindow"]


class DoubleScanFilter:
    """Drops a scan equal to one the same source gave within `window_s` seconds (per source).

    A scanner that fires twice on one trigger pull, or a camera that keeps seeing the code it just
    read, must not receive two units. Another source (a second handheld, the camera beside the
    wedge) is never suppressed by this one: each source has its own memory. The window restarts
    with every repeat, so a code held under a camera counts once however long it stays there.
    """

    def __init__(self, window_s: float = 1.5, *, per_source: dict[str, float] | None = None) -> None:
        self.window_s = window_s
        self.per_source = dict(per_source or {})
        self._last: dict[str, tuple[str, float]] = {}

    def accept(self, event: ScanEvent) -> bool:
        """True if the event is a new scan; False if it repeats the source's last one in the window."""
        window = self.per_source.get(event.source, self.window_s)
        now = event.at.timestamp()
        key = f"{event.symbology}\x00{event.text}"
        last = self._last.get(event.source)
        self._last[event.source] = (key, now)
        return not (last is not None and last[0] == key and 0 <= now - last[1] <= window)

    def filter(self, events: Iterable[ScanEvent]) -> Iterator[ScanEvent]:
        """The events that `accept` lets through, in order."""
        return (e for e in events if self.accept(e))


class EpcWindow:
    """Deduplicates RFID reads by EPC within a window: a shelf read in bulk yields each tag once.

    An RFID reader reports a tag many times a second while it is in the field; a bulk read of a
    shelf must count each tag once. A tag seen again after the window closes is reported again.
    """

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._seen: dict[str, float] = {}

    def accept(self, epc: str, at_s: float) -> bool:
        """True the first time an EPC is seen in the window; later sightings refresh the window."""
        key = epc.upper()
        last = self._seen.get(key)
        self._seen[key] = at_s
        if len(self._seen) > 50_000:  # a long-running portal: forget tags not seen for a window
            self._seen = {k: t for k, t in self._seen.items() if at_s - t <= self.window_s}
        return last is None or at_s - last > self.window_s
