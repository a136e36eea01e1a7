"""What the shell needs from every workflow screen: its root control, a redraw, and page keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft


@dataclass
class Screen:
    """A built screen: the shell shows `root`, calls `render` after changes and `on_key` per page key."""

    root: ft.Column
    render: Callable[[], None]
    on_key: Callable[[ft.KeyboardEvent], None]
