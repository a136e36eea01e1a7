"""The device process's garbage collector, settled once its startup is done.

A device process keeps everything it imported and built at startup (Flet, SQLAlchemy, pydantic, the
app's screens and view-models) for its whole life. CPython's full collections walk all of it
anyway: while a long queue drains, one took ~45-50 ms with the interpreter held, and on the shop
floor such a pause lands in the middle of a scan's answer. `settle()` collects once and moves what
is alive then out of the collector's sight (`gc.freeze()`); what is allocated later is collected as
before. Called by the app's process entry points once the app is wired (and by the drain
benchmark's device process, which stands for one), never by library code.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze what is alive; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
