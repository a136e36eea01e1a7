"""Decoding one camera frame: every code in it, from a numpy array or JPEG bytes, no camera needed.

    decode_frame(frame)  -> list[Decoded]    everything findable in one frame, no time limit
    FrameDecoder.process(frame)              the same steps under a per-frame time budget (33 ms
                                             at 30 fps); steps that do not fit carry over to the
                                             following frames of the stream

The steps, cheapest first:

1. zxing-cpp on the whole frame, restricted to the store's symbologies, no inverted-code pass and no
   90-degree pass (step 3 covers rotation far more cheaply on small crops).
2. Regions: where the gradient is strong and dense (bars, modules) a rotated rectangle is fitted
   (`device.regions`); each region not already read is queued.
3. Per region: the crop deskewed by the rectangle's angle, contrast-stretched, to zxing-cpp
   (with its rotate pass on, cheap on a crop); then pyzbar on the same crop; then the crop turned
   by +/-15 and 30 degrees (rotate-and-retry for tilted 1D codes whose rectangle angle was off).
   pyzbar on a crop costs a few ms where pyzbar on a 720p frame costs 30-130 ms.

Where zxing-cpp is not installed (mobile builds have no recipe for it), step 1 uses pyzbar on a
half-size frame and step 3 pyzbar alone.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from device import decoders
from device.decoders import Decoded
from device.errors import ReaderError
from device.regions import Region, crop_region, find_regions

__all__ = ["FRAME_BUDGET_MS", "Decoded", "FrameDecoder", "decode_frame", "to_gray"]

FRAME_BUDGET_MS = 1000.0 / 30  # a 30 fps camera leaves 33 ms per frame
Gray = npt.NDArray[np.uint8]
MAX_REGIONS = 4
RETRY_ANGLES = (15.0, -15.0, 30.0, -30.0)


def to_gray(frame: npt.NDArray[np.generic] | bytes | bytearray | memoryview) -> Gray:
    """A frame as an 8-bit grayscale array: JPEG/PNG bytes are decoded, colour is converted."""
    if isinstance(frame, (bytes, bytearray, memoryview)):
        buf = np.frombuffer(bytes(frame), dtype=np.uint8)
        if buf.size == 0:
            raise ReaderError("The camera sent an empty picture.", detail="0 bytes")
        try:
            img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        except cv2.error as exc:
            raise ReaderError("The camera sent a picture that could not be read.", detail=str(exc)[:120]) from exc
        if img is None:
            raise ReaderError("The camera sent a picture that could not be read.", detail="not an image")
        return np.ascontiguousarray(img, dtype=np.uint8)
    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = cv2.cvtColor(arr.astype(np.uint8, copy=False), cv2.COLOR_BGRA2GRAY if arr.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim != 2 or arr.shape[0] < 8 or arr.shape[1] < 8:
        raise ReaderError("The camera sent a picture that could not be read.", detail=f"shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


@dataclass(slots=True)
class _Step:
    """One queued piece of work on a region: which decoder, at what extra rotation."""

    region: Region
    op: str  # "zxing", "zbar"
    angle: float = 0.0


def _overlaps(region: Region, found: Sequence[Decoded]) -> bool:
    return any(d.position is not None and region.contains_any(d.position) for d in found)


def _region_steps(regions: Sequence[Region]) -> list[_Step]:
    steps: list[_Step] = []
    for region in regions:
        steps.append(_Step(region, "zxing"))
        if decoders.HAVE_ZBAR:
            steps.append(_Step(region, "zbar"))
    for region in regions:
        if region.linear:
            steps.extend(_Step(region, "zxing", a) for a in RETRY_ANGLES)
    return steps


def _run_step(gray: Gray, step: _Step) -> list[Decoded]:
    crop, back = crop_region(gray, step.region, extra_angle=step.angle)
    if crop.size == 0:
        return []
    if step.op == "zbar":
        found = decoders.read_zbar(crop)
    else:
        found = decoders.read_zxing(crop, try_rotate=True) if decoders.HAVE_ZXING else decoders.read_zbar(crop)
    return [d.moved(back) for d in found]


def _merge(into: list[Decoded], found: Sequence[Decoded]) -> None:
    for d in found:
        if all((d.symbology, d.text) != (e.symbology, e.text) for e in into):
            into.append(d)


def decode_frame(frame: npt.NDArray[np.generic] | bytes, *, regions: bool = True) -> list[Decoded]:
    """Every code found in one frame (numpy array or JPEG bytes), all steps run, no time limit."""
    gray = to_gray(frame)
    found = decoders.read_primary(gray)
    if not regions:
        return found
    todo = [r for r in find_regions(gray)[:MAX_REGIONS] if not _overlaps(r, found)]
    done: set[int] = set()
    for step in _region_steps(todo):
        if id(step.region) in done:
            continue
        got = _run_step(gray, step)
        if got:
            done.add(id(step.region))
            _merge(found, got)
    return found


@dataclass
class FrameDecoder:
    """Decodes a stream of frames, each within `budget_ms`; region work that does not fit waits.

    Each frame gets step 1 (the whole-frame pass). Region steps queued by a frame run while the
    measured cost of the next step still fits the budget; the rest run on the following frames
    (the camera is held on the code, so a region found in one frame is still there in the next).
    A cost model per step kind (ms per megapixel, a running average) decides what fits.
    """

    budget_ms: float = FRAME_BUDGET_MS
    clock: Callable[[], float] = time.perf_counter
    _queue: deque[_Step] = field(default_factory=deque)
    _cost: dict[str, float] = field(default_factory=lambda: {"regions": 3.0, "zxing": 25.0, "zbar": 25.0, "primary": 10.0})
    _starved: int = 0

    def _predict(self, op: str, pixels: int) -> float:
        return self._cost[op] * pixels / 1e6 if op in ("zxing", "zbar") else self._cost[op]

    def _learn(self, op: str, ms: float, pixels: int) -> None:
        per = ms / max(pixels, 1) * 1e6 if op in ("zxing", "zbar") else ms
        self._cost[op] = 0.8 * self._cost[op] + 0.2 * per

    def process(self, frame: npt.NDArray[np.generic] | bytes) -> list[Decoded]:
        """Decode one frame of the stream within the budget; returns the codes found in it."""
        start = self.clock()
        gray = to_gray(frame)
        found = decoders.read_primary(gray)
        self._learn("primary", (self.clock() - start) * 1000, gray.size)
        if found:
            self._queue = deque(s for s in self._queue if not _overlaps(s.region, found))
        # A stream whose whole-frame pass alone fills the budget would never get to its region
        # work: after two frames without any, one piece runs regardless.
        force = self._starved >= 2
        want_regions = not found and not self._queue
        work_wanted = want_regions or bool(self._queue)
        ran = 0
        if want_regions and (force or self._elapsed(start) + self._predict("regions", 0) <= self.budget_ms):
            t0 = self.clock()
            regions = find_regions(gray)[:MAX_REGIONS]
            self._learn("regions", (self.clock() - t0) * 1000, gray.size)
            self._queue.extend(_region_steps(regions))
            ran += 1
        while self._queue:
            step = self._queue[0]
            predicted = self._predict(step.op, step.region.pixels)
            if self._elapsed(start) + predicted > self.budget_ms and not (force and ran == 0):
                break
            self._queue.popleft()
            t0 = self.clock()
            got = _run_step(gray, step)
            self._learn(step.op, (self.clock() - t0) * 1000, step.region.pixels)
            ran += 1
            if got:
                _merge(found, got)
                self._queue = deque(s for s in self._queue if s.region is not step.region)
        self._starved = 0 if ran or not work_wanted else self._starved + 1
        return found

    def _elapsed(self, start: float) -> float:
        return (self.clock() - start) * 1000

    @property
    def pending(self) -> int:
        """How many region steps wait for a later frame."""
        return len(self._queue)
