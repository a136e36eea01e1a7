"""The device process settles its collector once wired: what startup built is frozen."""

from __future__ import annotations

import gc

from edge_sync import heap


def test_settle_freezes_what_is_alive_and_leaves_later_objects_collectable() -> None:
    try:
        frozen = heap.settle()
        assert frozen > 1000  # the interpreter, pytest and the imported modules at least
        assert gc.get_freeze_count() == frozen
        later: list[object] = []
        later.append(later)  # a cycle made after settling is still the collector's
        assert gc.is_tracked(later)
        del later
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
