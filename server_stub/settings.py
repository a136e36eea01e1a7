"""The service's tunable rules: tolerances, leases, paging. One frozen object per app."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Store rules the service applies; the defaults are what a store would start with."""

    count_tolerance_units: int = 2
    """A count variance of at most this many units posts without approval..."""
    count_tolerance_pct: float = 5.0
    """...as does one of at most this percentage of the balance (whichever allows more)."""
    count_max_attempts: int = 2
    """A count over moving stock asks for a recount until this attempt, then for an approval."""
    over_receipt_tolerance_units: int = 0
    over_receipt_tolerance_pct: float = 0.0
    """Units received past the PO/ASN quantity, beyond these, raise an over_receipt exception."""
    default_lease_seconds: int = 15 * 60
    max_lease_seconds: int = 8 * 3600
    require_known_users: bool = True
    """Refuse ops and requests from users not in the store's user list."""
    page_limit: int = 500
    max_page_limit: int = 5000
    max_body_bytes: int = 1024 * 1024
    """The largest request body but a push (a task with 2,000 lines is ~200 KB); past it, 413."""
    max_push_body_bytes: int = 8 * 1024 * 1024
    """The largest push: 500 ops of ordinary size are ~0.5 MB, so a full batch has room to spare."""
    device_rate_per_s: float = 200.0
    device_rate_burst: int = 400
    """Requests one device may make: a burst of this many, then this many a second (429 past it).
    A flood guard, not a fair-share scheduler: a device drains in batches of 500 ops, and sending
    one op per request reaches ~110 requests a second on the reference machine."""
    require_signatures: bool = True
    """Take store requests only when signed by an approved device (RFC 9421, server_stub.signatures).
    Turning it off trusts X-Device-Id as sent: only for a test that says so, never in a deployment."""
    signature_window_s: int = 300
    """A signature's created time may be this far from the service's clock, either way; its nonce
    is remembered this long past that, so a replay is refused by one check or the other."""

    def count_within_tolerance(self, adjustment: int, balance: int) -> bool:
        """True when a count variance may post without a manager's approval."""
        allowed = max(self.count_tolerance_units, abs(balance) * self.count_tolerance_pct / 100.0)
        return abs(adjustment) <= allowed

    def over_receipt_allowance(self, expected: int) -> int:
        """Units that may be received past `expected` without an exception."""
        return max(self.over_receipt_tolerance_units, int(expected * self.over_receipt_tolerance_pct / 100.0))
