"""The service process's garbage collector, set for a long-lived server that works in batches.

A push of 100 ops builds thousands of short-lived containers (row dicts, results, tuples). With
CPython's defaults (a young collection every 700 net allocations) a batch triggers a dozen young
collections, whose survivors (the batch's buffered rows) are promoted and scanned again, and every
few seconds a full collection walks the whole heap: the imported libraries, the SQLAlchemy and
pydantic machinery, ~1 million objects, 100 ms or more with the GIL held, during which no request
moves. `settle()` is called once by the server process after the app is built:

- everything alive then (modules, app, engine) is moved out of the collector's sight
  (`gc.freeze()`): it lives as long as the process, so scanning it finds nothing;
- young collections run every YOUNG_THRESHOLD allocations, so a batch's rows are mostly freed by
  reference counting before any collection sees them.

Reference counting still frees everything without cycles at once; only the cycle collector runs
less often. Called only from process entry points (`backroom server`, the worker factory), never
from `create_app`, so tests that build many apps keep the defaults.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
OLDER_THRESHOLD = 20


def settle() -> None:
    """Collect once, freeze what is alive, and make young collections rarer (see the module docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, OLDER_THRESHOLD, OLDER_THRESHOLD)
