"""The number pad's state: digits typed on big keys, no system keyboard. No flet here.

A pad may start with a preset figure (1 for "one pack per scan", the quantity left on a line): the
first digit pressed replaces the preset, later digits append, so "3" after a scan means 3, not 13.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DIGITS = 6


@dataclass
class NumberEntry:
    """A non-negative whole number typed on the pad, from `minimum` to `maximum`."""

    preset: int = 0
    minimum: int = 0
    maximum: int = 999_999
    value: int = 0
    typing: bool = False
    """True once a digit was pressed since the last reset: digits then append."""

    def __post_init__(self) -> None:
        self.value = self.preset

    @property
    def text(self) -> str:
        """What the pad's display shows."""
        return str(self.value)

    def press(self, digit: int) -> None:
        """A digit key: the first replaces the preset, the next append (up to `maximum`)."""
        if not 0 <= digit <= 9:
            raise ValueError(f"not a digit: {digit}")
        if self.typing and len(str(self.value)) < MAX_DIGITS:
            self.value = min(self.value * 10 + digit, self.maximum)
        elif not self.typing:
            self.value = min(digit, self.maximum)
        self.typing = True

    def back(self) -> None:
        """The backspace key: drop the last digit."""
        self.value //= 10
        self.typing = True

    def step(self, delta: int) -> None:
        """The − and + keys."""
        self.value = max(self.minimum, min(self.maximum, self.value + delta))
        self.typing = False

    def reset(self, preset: int | None = None) -> None:
        """Back to the preset (or a new one), as after a scan used the figure."""
        if preset is not None:
            self.preset = preset
        self.value = self.preset
        self.typing = False

    @property
    def ok(self) -> bool:
        """True when the figure is within bounds (the pad lets 0 be typed on the way to 10)."""
        return self.minimum <= self.value <= self.maximum


@dataclass
class PinEntry:
    """A PIN typed on the pad: digits kept as text (a PIN may start with 0), shown as dots."""

    digits: str = ""
    max_length: int = 12

    @property
    def masked(self) -> str:
        """What the display shows: one dot per digit."""
        return "•" * len(self.digits) if self.digits else "PIN"

    def press(self, digit: int) -> None:
        """A digit key."""
        if not 0 <= digit <= 9:
            raise ValueError(f"not a digit: {digit}")
        if len(self.digits) < self.max_length:
            self.digits += str(digit)

    def back(self) -> None:
        """The backspace key."""
        self.digits = self.digits[:-1]

    def clear(self) -> None:
        """Start again (also after every sign-in attempt: a PIN never stays on screen)."""
        self.digits = ""
