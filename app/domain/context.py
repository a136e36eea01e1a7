"""Who is acting, and what time it is: passed to every handler, faked in tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Where handlers get the time from; tests pass a fake one."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The device clock."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return dt.datetime.now(dt.UTC)


@dataclass
class FakeClock:
    """A clock that stands still until moved."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        """The fake's current time."""
        return self.current

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward."""
        self.current += dt.timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in person and their session on this device.

    `expires_at` is when the session stops recording ops (None: no limit known, as in tests that
    build an Actor by hand); the offline policy behind it is in `app.services.people`.
    """

    user_id: str
    session_id: str
    role: str = "associate"
    device_id: str = ""
    started_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    started_online: bool = False

    @property
    def is_manager(self) -> bool:
        """Managers and admins may approve and supervise."""
        return self.role in ("manager", "admin")

    def is_active(self, now: dt.datetime) -> bool:
        """True while the session may record ops."""
        return self.expires_at is None or now < self.expires_at
