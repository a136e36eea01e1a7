"""What the shell needs from every workflow screen: its root control, a redraw, and page keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import flet as ft


@dataclass
class Screen:
    """A built screen: the shell shows `root`, calls `render` after changes and `on_key` per page key."""

    root: ft.Column
    render: Callable[[], None]
    on_key: Callable[[ft.KeyboardEvent], None]
    focus: Callable[[], None] = field(default=lambda: None)
    """Put the focus on the screen's scan field (so a scan's Enter presses no button)."""
    leave: Callable[[], None] = field(default=lambda: None)
    """The screen is no longer showing (another screen, or signed out): stop what it runs, such as a camera."""
