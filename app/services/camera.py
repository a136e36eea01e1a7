"""Camera scanning for the screens: is there a camera, start it, stop it; reads arrive as scans.

    camera_available()        True where a camera can be opened (a "Camera" toggle is shown only then)
    CameraService(on_scan)    decodes frames on its own thread; each confirmed read -> on_scan(ScanEvent)
        .start() / .stop()    open the camera and decode / stop and release it
        .running, .last_error

Frames come from a `device.scanners.camera.FrameSource`: the default camera through OpenCV on a
desktop (`OpenCvCapture`), or a `JpegStream` that a mobile build fills from flet-camera's image
stream (see packaging/README.md). Decoding (`device.decode.FrameDecoder`, 33 ms budget per frame),
check digits and two-frame confirmation are `device.scanners.camera.CameraScanner`'s; a code held
under the camera is reported once (`device.dedupe.DoubleScanFilter`, 3 s for the camera).

`on_scan` runs on the camera thread, never on the UI's: a screen hands the event to its own loop
(in Flet, `page.run_task(...)`) and gives `event.value` to the same submit as a wedge scan.
`on_error` gets a sentence a person can act on ("No camera found. ..."), also on the camera thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device.decode import FrameDecoder
from device.dedupe import DoubleScanFilter
from device.errors import DeviceError
from device.events import ScanEvent
from device.scanners.camera import CameraScanner, FrameSource, OpenCvCapture

__all__ = ["CAMERA_SOURCE", "CameraService", "camera_available"]

CAMERA_SOURCE = "camera-0"
HOLD_WINDOW_S = 3.0
"""A code seen again by the camera within this many seconds of its last sighting counts once."""
READ_WAIT_S = 0.1
ERROR_PAUSE_S = 0.5


def camera_available(device: int = 0, *, devices_dir: Path = Path("/dev"),
                     probe: Callable[[int], bool] | None = None) -> bool:
    """True when camera `device` exists: a /dev/videoN node on Linux, else a capture that opens.

    On Linux the check is a file test (opening a camera takes a second and lights its LED); elsewhere
    OpenCV opens and releases it. `probe` replaces the OpenCV check (tests, other platforms).
    """
    if probe is not None:
        return probe(device)
    if sys.platform.startswith("linux"):
        return (devices_dir / f"video{device}").exists()
    return _opens(device)


def _opens(device: int) -> bool:
    try:
        import cv2
    except ImportError:
        return False
    cv: Any = cv2
    cap = cv.VideoCapture(device)
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()


class CameraService:
    """Reads barcodes from a camera on a background thread and hands each new read to `on_scan`."""

    def __init__(
        self,
        on_scan: Callable[[ScanEvent], None],
        *,
        open_source: Callable[[], FrameSource] = OpenCvCapture,
        on_error: Callable[[str], None] | None = None,
        name: str = CAMERA_SOURCE,
        decoder: Callable[[], FrameDecoder] = FrameDecoder,
        hold_window_s: float = HOLD_WINDOW_S,
    ) -> None:
        self._on_scan = on_scan
        self._open_source = open_source
        self._on_error = on_error
        self._name = name
        self._decoder = decoder
        self._hold_window_s = hold_window_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        """The last problem reported to `on_error`, or None."""

    @property
    def running(self) -> bool:
        """True while the camera thread runs (from `start` until `stop` or a failed open)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Open the camera and start decoding; does nothing if already running."""
        with self._lock:
            if self.running:
                return
            self._stop = threading.Event()
            self.last_error = None
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name=f"{self._name}-decoder",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop decoding and release the camera (waits up to `timeout` s for the thread)."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        try:
            source = self._open_source()
        except DeviceError as exc:
            self._report(exc.message)
            return
        except Exception as exc:  # a camera driver's own error: say so instead of dying silently
            self._report(f"The camera could not be opened ({type(exc).__name__}). Check that it is connected "
                         "and not used by another app.")
            return
        scanner = CameraScanner(source, name=self._name, decoder=self._decoder())
        seen = DoubleScanFilter(window_s=self._hold_window_s)
        try:
            while not stop.is_set():
                try:
                    events = scanner.read(timeout=READ_WAIT_S)
                except DeviceError as exc:  # one bad frame: say so, keep reading
                    self._report(exc.message)
                    stop.wait(ERROR_PAUSE_S)
                    continue
                for event in seen.filter(events):
                    if stop.is_set():
                        break
                    self._on_scan(event)
        finally:
            scanner.close()

    def _report(self, message: str) -> None:
        self.last_error = message
        if self._on_error is not None:
            self._on_error(message)
