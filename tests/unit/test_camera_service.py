"""The camera service: generated barcode frames in through a fake frame source, scans out once each."""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from app.services.camera import CameraService, camera_available
from device.errors import ReaderError
from device.events import ScanEvent, SourceKind, Symbology
from device.interpret import interpret
from device.interpretation import ItemScan
from device.scanners.camera import Frame

EAN = "4006381333931"
OTHER_EAN = "9780201379624"


def _frame(text: str | None, fmt: zxingcpp.BarcodeFormat = zxingcpp.BarcodeFormat.EAN13) -> np.ndarray:
    """A 640x480 grey frame with one symbol printed at 3 px per module (or nothing)."""
    frame = np.full((480, 640), 200, dtype=np.uint8)
    if text is not None:
        img = np.array(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, fmt), scale=3))
        img = cv2.resize(img, (img.shape[1], 120), interpolation=cv2.INTER_NEAREST)
        frame[150:150 + img.shape[0], 100:100 + img.shape[1]] = img
    return frame


class FakeFrames:
    """A frame source that hands out the given frames, then nothing; remembers being closed."""

    def __init__(self, frames: Iterable[Frame]) -> None:
        self._frames: deque[Frame] = deque(frames)
        self.closed = threading.Event()
        self.drained = threading.Event()

    def next_frame(self, timeout: float) -> Frame | None:
        if self._frames:
            return self._frames.popleft()
        self.drained.set()
        time.sleep(min(timeout, 0.01))
        return None

    def close(self) -> None:
        self.closed.set()


def _run(frames: Iterable[Frame], **kw: object) -> tuple[list[ScanEvent], list[str], FakeFrames]:
    source = FakeFrames(frames)
    scans: list[ScanEvent] = []
    errors: list[str] = []
    service = CameraService(scans.append, open_source=lambda: source, on_error=errors.append, **kw)  # type: ignore[arg-type]
    service.start()
    assert source.drained.wait(20), "the camera thread did not get through the frames"
    service.stop()
    assert not service.running
    return scans, errors, source


def test_a_code_held_under_the_camera_is_scanned_once_and_reads_like_a_wedge_scan() -> None:
    scans, errors, source = _run([_frame(EAN)] * 6)
    assert [(e.text, e.symbology, e.source_kind, e.source) for e in scans] == [
        (EAN, Symbology.EAN13, SourceKind.CAMERA, "camera-0")]
    assert errors == []
    assert source.closed.is_set()
    # The same text a wedge scan submits reaches the same interpretation.
    item = interpret(scans[0].value)
    assert isinstance(item, ItemScan) and item.gtin == "0" + EAN


def test_one_frame_alone_is_not_enough_and_each_new_code_counts() -> None:
    frames = [_frame(EAN), _frame(None), _frame(OTHER_EAN), _frame(OTHER_EAN), _frame(None), _frame(EAN), _frame(EAN)]
    scans, errors, _ = _run(frames, hold_window_s=0.0)
    assert [e.text for e in scans] == [OTHER_EAN, EAN]
    assert errors == []


def test_a_bad_frame_is_reported_and_reading_goes_on() -> None:
    scans, errors, _ = _run([b"not a picture", _frame(EAN), _frame(EAN)])
    assert errors == ["The camera sent a picture that could not be read."]
    assert [e.text for e in scans] == [EAN]


def test_a_camera_that_cannot_be_opened_is_said_in_words_and_nothing_runs() -> None:
    errors: list[str] = []

    def missing() -> FakeFrames:
        raise ReaderError("No camera found. Check that it is connected and not used by another app.")

    service = CameraService(lambda e: None, open_source=missing, on_error=errors.append)
    service.start()
    deadline = time.monotonic() + 10
    while service.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not service.running
    assert errors == ["No camera found. Check that it is connected and not used by another app."]
    assert service.last_error == errors[0]


def test_start_twice_runs_one_thread_and_stop_then_start_reads_again() -> None:
    opened: list[FakeFrames] = []

    def open_source() -> FakeFrames:
        opened.append(FakeFrames([_frame(EAN)] * 3))
        return opened[-1]

    scans: list[ScanEvent] = []
    service = CameraService(scans.append, open_source=open_source, hold_window_s=0.0)
    service.start()
    service.start()
    deadline = time.monotonic() + 20
    while not opened and time.monotonic() < deadline:
        time.sleep(0.01)
    assert opened[0].drained.wait(20)
    service.stop()
    assert len(opened) == 1 and opened[0].closed.is_set()
    service.start()
    deadline = time.monotonic() + 20
    while len(opened) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(opened) == 2 and opened[1].drained.wait(20)
    service.stop()
    assert [e.text for e in scans] == [EAN, EAN]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the /dev/videoN check is Linux's")
def test_a_camera_is_available_where_its_device_node_is(tmp_path: Path) -> None:
    assert not camera_available(devices_dir=tmp_path)
    (tmp_path / "video0").touch()
    assert camera_available(devices_dir=tmp_path)
    assert not camera_available(1, devices_dir=tmp_path)


def test_a_probe_decides_where_there_are_no_device_nodes() -> None:
    assert camera_available(2, probe=lambda d: d == 2)
    assert not camera_available(0, probe=lambda d: d == 2)
