"""Cycle counts, as pure rules.

A count is an absolute figure of one item at one location, tied to the moment it was counted
(`counted_at`). The expected figure is the device's `available` stock there; counts are blind by
default (`StorePolicy.blind_counts`): the associate never sees the expected figure, and the op
carries `expected_qty` only when the count was not blind.

variance = counted - expected. A threshold is passed when |variance| is above its units AND above
its percent of expected (units only when nothing was expected).

    attempt 1, past the recount threshold   -> "recount": kept locally, no op, "Count again"
    attempt 2+, past the approval threshold -> needs a manager (see below)
    anything else                           -> "provisional": op sent, local stock adjusted

A manager's approval. A count is a physical observation, so a count that needs approval is not
refused and thrown away: it is kept locally as "pending_approval" (no op, no stock change) and the
handheld asks for a manager. The approval is the same RecordCount sent again with `approved_by` (a
manager or admin; an associate's id is refused), either with the pending count's `count_id` (the
stored figures are then sent as counted) or as a fresh count carrying the approval. Only then is
the op sent and the local stock adjusted.

The local adjustment is provisional: the server posts `counted - balance_as_of(counted_at)`, and
the sync engine marks the count "posted" when it does. When a count is sent, the earlier recount
and pending attempts at the same location for the same item become "superseded". The attempt
number is 1 + the unresolved (recount or pending) attempts there counted within RECOUNT_WINDOW, so
a recount abandoned yesterday does not spare today's count its own recount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from app.domain.errors import DomainError, InvalidState, NeedsApproval, NotAllowed
from app.domain.policy import StorePolicy

RECOUNT: Final = "recount"
PENDING_APPROVAL: Final = "pending_approval"
PROVISIONAL: Final = "provisional"
POSTED: Final = "posted"
SUPERSEDED: Final = "superseded"
OPEN_ATTEMPTS: Final = (RECOUNT, PENDING_APPROVAL)
"""Statuses of earlier attempts that make the next count a recount."""
SENT: Final = (PROVISIONAL, POSTED)

MAX_CLOCK_SKEW: Final = dt.timedelta(minutes=2)
"""How far in the future a counted_at may be (handheld clocks drift a little)."""
MAX_ATTEMPT: Final = 10
RECOUNT_WINDOW: Final = dt.timedelta(hours=8)
"""An unresolved attempt older than this (a shift) no longer makes the next count a recount."""

RECOUNT_MESSAGE: Final = "Count again: the figure differs from what we expected"
APPROVAL_MESSAGE: Final = "Needs a manager: the figure still differs a lot. Ask a manager to approve this count"


@dataclass(frozen=True, slots=True)
class Approver:
    """The person named in `approved_by`."""

    user_id: str
    name: str
    is_manager: bool


@dataclass(frozen=True, slots=True)
class CountInput:
    """A count as the associate recorded it, with what the device expected."""

    counted_qty: int
    expected_qty: int
    started_at: dt.datetime
    counted_at: dt.datetime
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class CountDecision:
    """What to do with a count: its status, whether to send it, and the local adjustment."""

    status: str
    attempt: int
    variance: int
    approved_by: str | None = None

    @property
    def send(self) -> bool:
        """True when the count goes to the server now."""
        return self.status == PROVISIONAL

    @property
    def adjustment(self) -> int:
        """Units to add to local `available` stock (0 unless sent)."""
        return self.variance if self.send else 0


def past_threshold(variance: int, expected: int, units: int, pct: float) -> bool:
    """True when |variance| is above `units` and above `pct` percent of `expected` (units only if 0)."""
    size = abs(variance)
    if size <= units:
        return False
    return expected == 0 or size * 100 > pct * expected


def check_count(counted_qty: int, started_at: dt.datetime, counted_at: dt.datetime, now: dt.datetime) -> None:
    """Refuse an impossible count: negative, or timed before it started or in the future."""
    if counted_qty < 0:
        raise DomainError("A count cannot be negative: enter 0 if the location is empty", code="invalid_input")
    if started_at.tzinfo is None or counted_at.tzinfo is None:
        raise DomainError("Count times need a time zone", code="invalid_input")
    if counted_at < started_at:
        raise DomainError("The count cannot end before it started: check the handheld's clock", code="invalid_input")
    if counted_at > now + MAX_CLOCK_SKEW:
        raise DomainError("The count time is in the future: check the handheld's clock", code="invalid_input")


def check_approver(approver: Approver | None) -> str | None:
    """The approver's id, refusing anyone who is not a manager or admin."""
    if approver is None:
        return None
    if not approver.is_manager:
        raise NotAllowed(f"{approver.name} is not a manager: ask a manager to approve this count")
    return approver.user_id


def decide(count: CountInput, policy: StorePolicy, *, now: dt.datetime, approver: Approver | None = None) -> CountDecision:
    """Decide whether a count is sent, recounted, or waits for a manager."""
    check_count(count.counted_qty, count.started_at, count.counted_at, now)
    approved_by = check_approver(approver)
    attempt = min(max(count.attempt, 1), MAX_ATTEMPT)
    variance = count.counted_qty - count.expected_qty
    expected = count.expected_qty
    if attempt == 1 and past_threshold(variance, expected, policy.count_recount_units, policy.count_recount_pct):
        return CountDecision(RECOUNT, attempt, variance)
    if attempt > 1 and past_threshold(variance, expected, policy.count_approval_units, policy.count_approval_pct):
        if approved_by is None:
            return CountDecision(PENDING_APPROVAL, attempt, variance)
        return CountDecision(PROVISIONAL, attempt, variance, approved_by)
    return CountDecision(PROVISIONAL, attempt, variance, approved_by)


def approve_pending(status: str, count: CountInput, approver: Approver | None, *, now: dt.datetime) -> CountDecision:
    """Approve a count kept as pending_approval: it is sent with its stored figures."""
    if status != PENDING_APPROVAL:
        raise InvalidState("This count is already recorded: start a new count")
    approved_by = check_approver(approver)
    if approved_by is None:
        raise NeedsApproval(APPROVAL_MESSAGE)
    check_count(count.counted_qty, count.started_at, count.counted_at, now)
    return CountDecision(PROVISIONAL, min(count.attempt, MAX_ATTEMPT), count.counted_qty - count.expected_qty, approved_by)


def message(decision: CountDecision, *, counted_qty: int, item: str, location_code: str) -> str:
    """What the handheld says after a count; never the expected figure."""
    if decision.status == RECOUNT:
        return RECOUNT_MESSAGE
    if decision.status == PENDING_APPROVAL:
        return APPROVAL_MESSAGE
    approved = " (approved)" if decision.approved_by else ""
    return f"Count saved{approved}: {counted_qty} {item} at {location_code}"
