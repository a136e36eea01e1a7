"""Capped exponential backoff with jitter, for a sync that is retried for ever."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delay before the next attempt after `failures` failures in a row.

    "Equal jitter": half the capped exponential delay, plus a random part up to the other half,
    so devices that lost the network together do not all come back in the same second.
    """

    base: float = 1.0
    cap: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait; at least what the service asked for in Retry-After."""
        if failures <= 0:
            return 0.0
        ceiling = min(self.cap, self.base * float(2 ** min(failures - 1, 30)))
        wait = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return float(max(wait, min(retry_after or 0.0, self.cap)))
