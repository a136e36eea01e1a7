"""Serial scanners (RS-232, USB-CDC) through pyserial: a byte stream framed by a suffix.

Serial scanners pass ASCII 29 through, so GS1 separators arrive intact (unlike keyboard wedges).
`SerialFramer` is the pure part (bytes in, frames out) and `SerialScanner` reads a port (any
pyserial URL: `/dev/ttyACM0`, `COM3`, `socket://…`, `loop://`) and turns frames into `ScanEvent`s.
"""

from __future__ import annotations

import datetime as dt

from device.errors import ReaderError
from device.events import AIM_IDS, ScanEvent, SourceKind, Symbology, split_aim, utcnow

__all__ = ["SerialFramer", "SerialScanner", "frame_to_event"]

MAX_FRAME = 4096  # no barcode holds more; a stream without a suffix this long is line noise


class SerialFramer:
    """Splits a byte stream into frames at `suffix`; drops runaway frames longer than `max_frame`."""

    def __init__(self, suffix: bytes = b"\r", *, prefix: bytes = b"", max_frame: int = MAX_FRAME) -> None:
        if not suffix:
            raise ValueError("a serial scanner needs a suffix to frame its data")
        self.suffix = suffix
        self.prefix = prefix
        self.max_frame = max_frame
        self._buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the port; return the complete frames (without prefix and suffix)."""
        self._buffer.extend(data)
        frames: list[bytes] = []
        while (end := self._buffer.find(self.suffix)) >= 0:
            frame = bytes(self._buffer[:end])
            del self._buffer[: end + len(self.suffix)]
            # Some scanners end with CR LF; a suffix of CR leaves the LF at the next frame's head.
            frame = frame.lstrip(b"\r\n")
            if self.prefix and frame.startswith(self.prefix):
                frame = frame[len(self.prefix):]
            if frame and len(frame) <= self.max_frame:
                frames.append(frame)
            elif frame:
                self.dropped += 1
        if len(self._buffer) > self.max_frame:
            self._buffer.clear()
            self.dropped += 1
        return frames


def frame_to_event(frame: bytes, *, source: str, aim_ids: bool = True, at: dt.datetime | None = None) -> ScanEvent:
    """One serial frame as a `ScanEvent` (AIM identifier split off when the scanner sends one)."""
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError:
        text = frame.decode("latin-1")  # never fails: every byte is kept for `interpret` to judge
    aim: str | None = None
    symbology = Symbology.UNKNOWN
    if aim_ids:
        aim, text = split_aim(text)
        if aim is not None:
            symbology = AIM_IDS[aim]
    return ScanEvent(source=source, source_kind=SourceKind.SERIAL, symbology=symbology, raw=frame, text=text,
                     at=at or utcnow(), aim=aim)


class SerialScanner:
    """A scanner on a serial port, read through pyserial."""

    def __init__(self, url: str, *, baudrate: int = 9600, suffix: bytes = b"\r", prefix: bytes = b"",
                 aim_ids: bool = True, source: str | None = None) -> None:
        import serial  # pyserial; imported here so that device/ loads on builds without it

        self.source = source or f"serial:{url}"
        self.aim_ids = aim_ids
        self._framer = SerialFramer(suffix, prefix=prefix)
        self._serial_error: type[Exception] = serial.SerialException
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderError(detail=f"{url}: {exc}") from exc

    def read(self, timeout: float = 0.0) -> list[ScanEvent]:
        """The scans whose frames completed, waiting up to `timeout` seconds for bytes."""
        try:
            self._port.timeout = timeout
            first = self._port.read(1)
            self._port.timeout = 0
            data = first + self._port.read(max(self._port.in_waiting, 0) or 0)
        except (self._serial_error, OSError) as exc:
            raise ReaderError(detail=f"{self.source}: {exc}") from exc
        frames = self._framer.feed(data) if data else []
        return [frame_to_event(f, source=self.source, aim_ids=self.aim_ids) for f in frames]

    def close(self) -> None:
        """Close the port."""
        self._port.close()
