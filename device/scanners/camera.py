"""Camera scanning: frames in (OpenCV capture on desktop, JPEG bytes from a mobile stream), reads out.

A camera read is accepted only when (1) its check digit is valid (EAN/UPC, and the GTIN or SSCC
inside a GS1 element string) and (2) the same value was decoded in two consecutive frames. Both
rules are there because decoders misread: a downscaled pass can yield a wrong UPC whose check digit
happens to be valid, and zbar can corrupt a GS1-128. A code held in view is reported once, and again
only after it has left the view for a frame.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from device.decode import FrameDecoder
from device.decoders import Decoded
from device.errors import CheckDigitError, MalformedGs1Error, MissingSeparatorError, ReaderError, ScanError
from device.events import ScanEvent, SourceKind, Symbology, utcnow
from device.gs1 import normalise_gtin, parse_element_string

__all__ = ["CameraScanner", "FrameSource", "JpegStream", "OpenCvCapture", "ReadConfirmer", "check_digit_ok"]

Frame = npt.NDArray[np.generic] | bytes


def check_digit_ok(d: Decoded) -> bool:
    """True when the read's GS1 check digits hold (or its symbology carries none of them)."""
    try:
        if d.symbology.is_ean_upc:
            normalise_gtin(d.text, d.symbology)
        elif d.symbology.is_gs1 or (d.symbology is Symbology.UNKNOWN and d.text[:2].isdigit()):
            parse_element_string(d.text, d.symbology)
    except (CheckDigitError, MalformedGs1Error, MissingSeparatorError):
        return False
    except ScanError:
        return d.symbology is Symbology.UNKNOWN  # not GS1 after all: judged later by `interpret`
    return True


class ReadConfirmer:
    """Accepts a value seen, check digit valid, in two consecutive frames; reports it once per sighting."""

    def __init__(self, frames_required: int = 2) -> None:
        self.frames_required = frames_required
        self._streak: dict[tuple[Symbology, str], int] = {}
        self._reported: set[tuple[Symbology, str]] = set()

    def feed(self, found: Iterable[Decoded]) -> list[Decoded]:
        """The reads of one frame in; the reads confirmed by this frame out."""
        now: dict[tuple[Symbology, str], Decoded] = {}
        for d in found:
            if check_digit_ok(d):
                now.setdefault((d.symbology, d.text), d)
        self._streak = {k: self._streak.get(k, 0) + 1 for k in now}
        self._reported &= set(now)  # a code that left the view may be reported again
        confirmed: list[Decoded] = []
        for key, d in now.items():
            if self._streak[key] >= self.frames_required and key not in self._reported:
                self._reported.add(key)
                confirmed.append(d)
        return confirmed


class FrameSource(Protocol):
    """Where frames come from: `next_frame` waits up to `timeout` s and returns None if none came."""

    def next_frame(self, timeout: float) -> Frame | None:
        """The next frame, or None."""
        ...

    def close(self) -> None:
        """Release the camera."""
        ...


class OpenCvCapture:
    """A desktop camera through OpenCV's VideoCapture (index or URL)."""

    def __init__(self, device: int | str = 0, *, width: int = 1280, height: int = 720) -> None:
        import cv2

        self._cv2: Any = cv2
        self._cap = cv2.VideoCapture(device)
        if not self._cap.isOpened():
            raise ReaderError("No camera found. Check that it is connected and not used by another app.",
                              detail=f"VideoCapture({device!r})")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def next_frame(self, timeout: float) -> Frame | None:
        """Grab one frame (VideoCapture blocks for at most one frame interval)."""
        ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        """Release the capture."""
        self._cap.release()


class JpegStream:
    """Frames pushed as JPEG bytes (the mobile camera's image stream); only the newest few are kept."""

    def __init__(self, keep: int = 2) -> None:
        self._frames: deque[bytes] = deque(maxlen=keep)  # a slow decoder drops old frames, not new ones
        self._ready = threading.Condition()

    def push(self, jpeg: bytes) -> None:
        """Add a frame from the camera callback."""
        with self._ready:
            self._frames.append(jpeg)
            self._ready.notify()

    def next_frame(self, timeout: float) -> Frame | None:
        """The oldest kept frame, waiting up to `timeout` s for one."""
        with self._ready:
            if not self._frames and timeout > 0:
                self._ready.wait(timeout)
            return self._frames.popleft() if self._frames else None

    def close(self) -> None:
        """Drop any waiting frames."""
        with self._ready:
            self._frames.clear()


class CameraScanner:
    """A `Scanner` over a frame source: budgeted decoding, check digits, two-frame confirmation."""

    def __init__(self, source: FrameSource, *, name: str = "camera", decoder: FrameDecoder | None = None,
                 clock: Callable[[], Any] = utcnow) -> None:
        self.source = source
        self.name = name
        self.decoder = decoder or FrameDecoder()
        self.confirmer = ReadConfirmer()
        self._clock = clock

    def process(self, frame: Frame) -> list[ScanEvent]:
        """Decode one frame and return the reads it confirms, as events."""
        confirmed = self.confirmer.feed(self.decoder.process(frame))
        at = self._clock()
        return [ScanEvent(source=self.name, source_kind=SourceKind.CAMERA, symbology=d.symbology, raw=d.raw,
                          text=d.text, at=at, aim=d.aim) for d in confirmed]

    def read(self, timeout: float = 0.0) -> list[ScanEvent]:
        """Take the next frame from the source (waiting up to `timeout`) and process it."""
        frame = self.source.next_frame(timeout)
        return [] if frame is None else self.process(frame)

    def close(self) -> None:
        """Close the frame source."""
        self.source.close()
