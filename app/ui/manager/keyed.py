"""Rows kept by key: a row's controls live as long as its key (a task id, an approval) is listed.

Why: Flet delivers a tap to the control the client drew, by the control's id. The tablet redraws
every few seconds from a background refresh; a row drawn anew each time gets new controls, and a
tap that was on its way to the old ones is dropped ("Control with ID … not found"). Keeping each
row's controls for as long as its key is listed, and changing only their values, keeps the tapped
control on the page, and its handler asks `current()` for what the row shows now.

Rows are kept by key, not by position: when a new task lands above, a kept control still shows
(and acts on) the task it showed when it was tapped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import flet as ft

V = TypeVar("V")
Fill = Callable[[V], None]
"""Sets a row's controls from its view row."""
Make = Callable[[Callable[[], V]], tuple[ft.Control, Fill[V]]]
"""Builds a row's control and its fill; the argument gives the view row the control shows now."""


def put(control: ft.BaseControl, **props: Any) -> None:
    """Set `props` on `control`, leaving alone the ones that already hold that value."""
    for name, value in props.items():
        if getattr(control, name) != value:
            setattr(control, name, value)


class _Kept(Generic[V]):
    def __init__(self, make: Make[V], first: V) -> None:
        self.view = first
        self.control, self.fill = make(lambda: self.view)


class KeyedRows(Generic[V]):
    """A column drawn from view rows, one kept row per key; see the module docstring."""

    def __init__(self, column: ft.Column, make: Make[V], key: Callable[[V], str], empty: ft.Control) -> None:
        self.column = column
        self._make = make
        self._key = key
        self._empty = empty
        self._kept: dict[str, _Kept[V]] = {}

    def show(self, views: Sequence[V]) -> None:
        """Draw `views` in order: rows already drawn keep their controls, new keys get new rows."""
        kept: dict[str, _Kept[V]] = {}
        for view in views:
            key = self._key(view)
            row = self._kept.get(key) or _Kept(self._make, view)
            row.view = view
            row.fill(view)
            kept[key] = row
        # A row whose key left the list is dropped, not kept for later: the client removed its
        # controls, so one that comes back is drawn anew.
        self._kept = kept
        wanted: list[ft.Control] = [row.control for row in kept.values()] or [self._empty]
        now = self.column.controls
        if len(now) != len(wanted) or any(a is not b for a, b in zip(now, wanted)):
            self.column.controls = wanted

    def current(self, key: str) -> V | None:
        """The view row now shown under `key`, or None when it is no longer listed."""
        row = self._kept.get(key)
        return None if row is None else row.view
