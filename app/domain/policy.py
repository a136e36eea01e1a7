"""The store's tolerances and thresholds: one value object, configurable per store."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StorePolicy:
    """Tolerances the rules use; defaults are a typical grocery/general-merchandise store's."""

    over_receipt_tolerance_pct: float = 5.0
    """Receiving more than expected by more than this percent needs a manager's approval."""
    over_receipt_tolerance_units: int = 0
    """...and by more than this many units (the larger of the two allowances applies)."""
    count_recount_units: int = 2
    count_recount_pct: float = 5.0
    """A variance past both of these asks for a recount."""
    count_approval_units: int = 10
    count_approval_pct: float = 20.0
    """A variance past both of these (after the recount) needs a manager's approval."""
    blind_counts: bool = True
    """Counts are blind: the associate never sees the expected figure (and the op does not carry it)."""
    task_lease_seconds: int = 900
    max_lease_seconds: int = 8 * 3600
