"""The server process's collector settings (server_stub.heap), checked in a process of their own."""

from __future__ import annotations

import subprocess
import sys


def test_settle_freezes_the_startup_heap_and_makes_young_collections_rarer() -> None:
    code = (
        "import gc; from server_stub import heap; before = gc.get_freeze_count(); heap.settle(); "
        "print(before, gc.get_freeze_count() > 1000, gc.get_threshold() == (heap.YOUNG_THRESHOLD, heap.OLDER_THRESHOLD, "
        "heap.OLDER_THRESHOLD))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert out == ["0", "True", "True"]
