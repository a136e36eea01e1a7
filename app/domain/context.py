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
    """The signed-in person and their session on this device."""

    user_id: str
    session_id: str
    role: str = "associate"
    device_id: str = ""

    @property
    def is_manager(self) -> bool:
        """Managers and admins may approve and supervise."""
        return self.role in ("manager", "admin")
