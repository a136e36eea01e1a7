"""Scan input in the browser: page key events buffered until Enter, and a field for typing by hand.

A keyboard-wedge scanner types its data as a burst of keys ending in Enter, and bursts come back
to back. A text field that clears itself on submit races the next burst and drops scans, so the
screens read scans from the page's key events instead: `ScanInput.key` buffers each key and
returns the whole scan on Enter. Timing is not used to tell scans from typing: the key events
reach Python over the web socket, and their arrival times say little about when they were typed.

Flet reports key labels, not characters ("A" for a and for A, "Numpad 5", "Minus" on some
layouts). `key_char` maps labels back to the characters barcodes hold: digits, letters, '-', '.',
'/', space. Case is taken from Shift, but case is lost on many paths (Playwright, some scanners),
which is why GTINs are digits and location labels ignore case (device.locations).

The visible field still takes typing by hand, for soft keyboards that send no key events. A hard
keyboard's keys reach both the field and the page, so `typed` (the field's submit) is dropped when
the page saw character keys in the last `FIELD_QUIET_S` seconds: the key path reads that input.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELD_QUIET_S = 1.0
"""A field submit counts only if no character key reached the page for this long (soft keyboards)."""
STALE_S = 20.0
"""Keys left in the buffer this long without Enter are dropped before the next key."""
MAX_LENGTH = 512

_NAMED = {
    "minus": "-", "numpad subtract": "-", "period": ".", "numpad decimal": ".", "slash": "/",
    "numpad divide": "/", "space": " ", " ": " ", "clear": "5",  # Numpad 5 with NumLock off
}
_ENTER = {"enter", "numpad enter", "return"}


def key_char(label: str, *, shift: bool = False) -> str:
    """The character a key label stands for, or "" for keys that type nothing (Shift, arrows)."""
    if len(label) == 1:
        if label.isalpha():
            return label.upper() if shift else label.lower()
        return label
    low = label.lower()
    if low.startswith("numpad ") and len(low) == 8 and low[-1].isdigit():
        return low[-1]
    return _NAMED.get(low, "")


@dataclass(frozen=True, slots=True)
class Submitted:
    """A complete scan or typed entry, and which path it came by ("keys" or "field")."""

    text: str
    via: str


class ScanInput:
    """Buffers page key events into scans; accepts field submits when the page saw no keys."""

    def __init__(self) -> None:
        self._buffer: list[str] = []
        self._last_char_at: float | None = None

    @property
    def pending(self) -> str:
        """What has been typed since the last Enter (to echo on screen)."""
        return "".join(self._buffer)

    def clear(self) -> None:
        """Forget a half-typed entry."""
        self._buffer.clear()

    def key(self, label: str, t: float, *, shift: bool = False, ctrl: bool = False, alt: bool = False,
            meta: bool = False) -> Submitted | None:
        """Take one key-down at time `t` (seconds, monotonic); return the entry Enter completes."""
        low = label.lower()
        if low in _ENTER:
            text = self.pending.strip()
            self._buffer.clear()
            return Submitted(text, "keys") if text else None
        if ctrl or alt or meta:
            return None  # shortcuts, not data
        if low == "backspace":
            if self._buffer:
                self._buffer.pop()
            return None
        if low == "escape":
            self._buffer.clear()
            return None
        char = key_char(label, shift=shift)
        if not char:
            return None
        if self._last_char_at is not None and t - self._last_char_at > STALE_S:
            self._buffer.clear()  # a stray key long ago must not prefix this scan
        self._last_char_at = t
        if len(self._buffer) < MAX_LENGTH:
            self._buffer.append(char)
        return None

    def typed(self, text: str, t: float) -> Submitted | None:
        """A submit of the visible field; None when the key path has already read the same keys."""
        value = text.strip()
        if not value:
            return None
        if self._last_char_at is not None and t - self._last_char_at < FIELD_QUIET_S:
            return None
        return Submitted(value, "field")
