"""Serial scanners: framing by suffix, recorded frames, and a real pyserial port over a pty pair."""

from __future__ import annotations

import os
import pty
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.errors import ReaderError, ScanError
from device.events import Symbology
from device.interpret import interpret
from device.interpretation import ItemScan
from device.scanners.serial import SerialFramer, SerialScanner, frame_to_event
from tests.device.conftest import load_capture


def test_recorded_frames_split_across_reads_come_out_whole() -> None:
    capture = load_capture("serial-honeywell-cdc.json")
    framer = SerialFramer(capture["suffix"].encode())
    frames = [f for chunk in capture["chunks"] for f in framer.feed(bytes(chunk))]
    events = [frame_to_event(f, source="serial:test") for f in frames]
    assert [[e.aim, e.text] for e in events] == capture["expected"]


def test_a_gs1_frame_keeps_its_separator_and_is_understood() -> None:
    event = frame_to_event(b"]C1010950600013435210ABC123\x1d21XYZ789", source="serial:test")
    scan = interpret(event)
    assert event.symbology is Symbology.GS1_128
    assert isinstance(scan, ItemScan) and (scan.lot, scan.serial) == ("ABC123", "XYZ789")


def test_a_runaway_stream_without_suffix_is_dropped() -> None:
    framer = SerialFramer(b"\r", max_frame=64)
    assert framer.feed(b"x" * 100) == [] and framer.dropped == 1
    assert framer.feed(b"4006381333931\r") == [b"4006381333931"]


def test_a_prefix_is_stripped() -> None:
    assert SerialFramer(b"\r\n", prefix=b"\x02").feed(b"\x0212345670\r\n") == [b"12345670"]


def test_a_scanner_on_a_pseudo_terminal_reads_through_pyserial() -> None:
    controller, worker = pty.openpty()
    try:
        import tty

        tty.setraw(worker)  # no line discipline: bytes pass as a serial line passes them
        scanner = SerialScanner(os.ttyname(worker), baudrate=115200, suffix=b"\r")
        try:
            os.write(controller, b"]E04006381333931\r]C0loc-A-0")
            events = scanner.read(timeout=1.0)
            deadline = time.monotonic() + 2
            os.write(controller, b"3-02-1\r")
            while len(events) < 2 and time.monotonic() < deadline:
                events += scanner.read(timeout=0.2)
        finally:
            scanner.close()
    finally:
        os.close(controller)
        os.close(worker)
    assert [(e.aim, e.text) for e in events] == [("]E0", "4006381333931"), ("]C0", "loc-A-03-02-1")]
    assert events[0].source.startswith("serial:/dev/")


def test_a_missing_port_is_a_reader_error() -> None:
    with pytest.raises(ReaderError):
        SerialScanner("/dev/does-not-exist-42")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20))
def test_any_byte_stream_frames_into_events_or_typed_errors(chunks: list[bytes]) -> None:
    framer = SerialFramer(b"\r", max_frame=128)
    for chunk in chunks:
        for frame in framer.feed(chunk):
            assert 0 < len(frame) <= 128
            try:
                interpret(frame_to_event(frame, source="serial:fuzz"))
            except ScanError as err:
                assert err.message
