"""RFID readers: a simulated reader, replay of recorded read bursts, and LLRP readers through sllurp.

Every reader here reports `TagRead`s (EPC hex, antenna, RSSI, time); `RfidScanner` turns them into
`ScanEvent`s (symbology EPC), each EPC once per window (`EpcWindow`): a reader sees a tag dozens of
times a second, and a bulk read of a shelf must count each tag once. What an EPC means (SGTIN,
SSCC, SGLN, GRAI, or not GS1 at all) is `device.epc.decode_epc`'s job, through `interpret`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from device.dedupe import EpcWindow
from device.epc import normalise_epc_hex
from device.errors import EpcError, ReaderError
from device.events import ScanEvent, SourceKind, Symbology

__all__ = ["LlrpReader", "ReplayReader", "RfidReader", "RfidScanner", "SimulatedReader", "TagRead",
           "load_burst", "tag_reads_from_llrp"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class TagRead:
    """One sighting of a tag: EPC as hex, antenna, RSSI (dBm), seconds since the epoch."""

    epc: str
    t: float
    antenna: int = 1
    rssi: float | None = None


class RfidReader(Protocol):
    """Something that yields tag sightings: `poll` returns what was seen since the last call."""

    def poll(self, timeout: float = 0.0) -> list[TagRead]:
        """Sightings since the last poll, waiting up to `timeout` s for the first."""
        ...

    def close(self) -> None:
        """Stop reading and release the reader."""
        ...


class SimulatedReader:
    """A reader whose field holds the tags you place in it; each poll sees each tag `repeats` times."""

    def __init__(self, tags: Iterable[str] = (), *, repeats: int = 3, start: float = 0.0, step: float = 0.01) -> None:
        self.tags = list(tags)
        self.repeats = repeats
        self.t = start
        self.step = step

    def poll(self, timeout: float = 0.0) -> list[TagRead]:
        """One inventory round over the tags in the field."""
        out: list[TagRead] = []
        for _ in range(self.repeats):
            for i, epc in enumerate(self.tags):
                out.append(TagRead(epc, self.t, antenna=1 + i % 2, rssi=-50.0 - i % 20))
                self.t += self.step
        return out

    def close(self) -> None:
        """Empty the field."""
        self.tags.clear()


def load_burst(path: Path | str) -> list[TagRead]:
    """A recorded read burst from JSON: {"reads": [{"epc", "t", "antenna"?, "rssi"?}, ...]}."""
    try:
        data = json.loads(Path(path).read_text())
        return [TagRead(str(r["epc"]), float(r["t"]), int(r.get("antenna", 1)),
                        None if r.get("rssi") is None else float(r["rssi"])) for r in data["reads"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReaderError("The recorded RFID reads could not be loaded.", detail=f"{path}: {exc}") from exc


class ReplayReader:
    """Replays recorded sightings, `per_poll` at a time, in their recorded order."""

    def __init__(self, reads: Iterable[TagRead], *, per_poll: int = 50) -> None:
        self._reads = deque(reads)
        self.per_poll = per_poll

    def poll(self, timeout: float = 0.0) -> list[TagRead]:
        """The next recorded sightings."""
        return [self._reads.popleft() for _ in range(min(self.per_poll, len(self._reads)))]

    def close(self) -> None:
        """Drop what is left."""
        self._reads.clear()


def tag_reads_from_llrp(tags: Iterable[Mapping[str, Any]]) -> list[TagRead]:
    """sllurp tag-report dicts (`EPC` or `EPC-96`, `AntennaID`, `PeakRSSI`, `LastSeenTimestampUTC` us) to reads."""
    out: list[TagRead] = []
    for tag in tags:
        epc = tag.get("EPC", tag.get("EPC-96"))
        if isinstance(epc, (bytes, bytearray)):
            epc = bytes(epc).decode("ascii", "replace") if bytes(epc).isascii() else bytes(epc).hex()
        if not isinstance(epc, str) or not epc:
            continue
        seen = tag.get("LastSeenTimestampUTC") or tag.get("FirstSeenTimestampUTC") or 0
        rssi = tag.get("PeakRSSI")
        out.append(TagRead(epc, float(seen) / 1e6, int(tag.get("AntennaID") or 1),
                           float(rssi) if isinstance(rssi, (int, float)) else None))
    return out


class LlrpReader:
    """A fixed reader speaking LLRP, through sllurp: tag reports are queued for `poll`."""

    def __init__(self, host: str, *, port: int | None = None, antennas: tuple[int, ...] = (1,),
                 tx_power_dbm: float | None = None) -> None:
        try:
            from sllurp.llrp import LLRPReaderClient, LLRPReaderConfig
        except ImportError as exc:
            raise ReaderError("LLRP support is not installed on this device.", detail=str(exc)) from exc
        self._queue: deque[TagRead] = deque(maxlen=100_000)
        self._arrived = threading.Event()
        config = LLRPReaderConfig({"antennas": list(antennas), "tx_power_dbm": tx_power_dbm, "report_every_n_tags": 1})
        config.tag_content_selector.update({"EnableAntennaID": True, "EnablePeakRSSI": True,
                                            "EnableLastSeenTimestamp": True})
        self._client = LLRPReaderClient(host, port, config)
        self._client.add_tag_report_callback(self._on_report)
        try:
            self._client.connect()
        except Exception as exc:  # sllurp raises socket errors and its own LLRPError alike
            raise ReaderError("The RFID reader did not answer.", detail=f"{host}: {exc}") from exc

    def _on_report(self, _reader: object, tags: list[Mapping[str, Any]]) -> None:
        self._queue.extend(tag_reads_from_llrp(tags))
        self._arrived.set()

    def poll(self, timeout: float = 0.0) -> list[TagRead]:
        """Sightings reported since the last poll."""
        if not self._queue and timeout > 0:
            self._arrived.wait(timeout)
        self._arrived.clear()
        return [self._queue.popleft() for _ in range(len(self._queue))]

    def close(self) -> None:
        """Disconnect from the reader."""
        self._client.disconnect()


class RfidScanner:
    """A `Scanner` over an RFID reader: each EPC once per window, as an EPC `ScanEvent`.

    Reads whose EPC is not even hex are dropped and counted in `rejected` (RF noise, a reader bug);
    tags that are valid EPCs but not GS1 are passed on, for `interpret` to report as not GS1.
    """

    def __init__(self, reader: RfidReader, *, name: str = "rfid", window_s: float = 5.0) -> None:
        self.reader = reader
        self.name = name
        self.window = EpcWindow(window_s)
        self.rejected = 0

    def read(self, timeout: float = 0.0) -> list[ScanEvent]:
        """New tags since the last call, deduplicated by EPC within the window."""
        out: list[ScanEvent] = []
        for r in self.reader.poll(timeout):
            try:
                epc = normalise_epc_hex(r.epc)
            except EpcError:
                self.rejected += 1
                continue
            if self.window.accept(epc, r.t):
                out.append(ScanEvent(source=self.name, source_kind=SourceKind.RFID, symbology=Symbology.EPC,
                                     raw=bytes.fromhex(epc), text=epc, at=_EPOCH + dt.timedelta(seconds=r.t)))
        return out

    def close(self) -> None:
        """Close the reader."""
        self.reader.close()
