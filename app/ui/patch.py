"""Targeted redraws: change a control only when its value changes, and send only the changed controls.

Why: Flet 1.0 diffs the whole subtree of whatever `update()` is called on, and serialises every new
control it finds there, so a `page.update()` walks every control of every screen (the shell keeps
them all on the page, hidden). Flet also updates the whole page after every event handler that
updated nothing itself ("auto-update"), and a keyboard-wedge scan is about 14 key events. A scan
should cost one small patch: the answer line, the running count, the one line that moved.

`Patch` collects the controls whose properties really changed and sends each of them once;
`Rows` draws a column from a list of view rows, keeps the row controls it has already drawn and
changes only their values, so a list of twenty lines where one figure moved sends one string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import flet as ft

V = TypeVar("V")
Fill = Callable[[V, "Patch"], None]
"""Sets a row's controls from its view row, through the patch."""


def mounted(control: ft.BaseControl) -> bool:
    """Whether `control` is already on the page (the client knows it and can take a patch for it)."""
    parent: ft.BaseControl | None = control
    while parent is not None:
        if isinstance(parent, ft.Page):
            return True
        parent = parent.parent
    return False


class Patch:
    """The controls changed by one redraw; `send` patches each of them, and nothing else."""

    def __init__(self, page: ft.Page) -> None:
        self.page = page
        self._dirty: dict[int, ft.BaseControl] = {}

    def set(self, control: ft.BaseControl, **props: Any) -> None:
        """Set `props` on `control`; mark it changed when one of them differs from what it holds."""
        changed = False
        for name, value in props.items():
            if getattr(control, name) != value:
                setattr(control, name, value)
                changed = True
        if changed:
            self.mark(control)

    def mark(self, control: ft.BaseControl) -> None:
        """Send `control` (and what changed under it); a control not on the page yet goes with its parent."""
        if mounted(control):
            self._dirty[id(control)] = control

    def together(self, group: ft.BaseControl) -> None:
        """Send what changed under `group` as one message (one patch the page applies in one frame).

        Each changed control otherwise goes in a message of its own, and the page may paint between
        two of them (the server's send loop can be held up between them, the page receives the first
        and paints it alone): a scan's answer and its running count should appear together.
        """
        inside = [k for k, c in self._dirty.items() if c is not group and _under(c, group)]
        if inside:
            for k in inside:
                del self._dirty[k]
            self.mark(group)

    @property
    def empty(self) -> bool:
        """Whether nothing has changed."""
        return not self._dirty

    def send(self) -> None:
        """Patch the changed controls (one message each; one under another goes with its ancestor).

        In an event handler this also stands for the handler's update, so Flet does not redraw the
        whole page after it, even when nothing changed.
        """
        dirty = [c for c in self._dirty.values() if mounted(c) and not self._has_dirty_ancestor(c)]
        self._dirty.clear()
        if dirty:
            self.page.update(*dirty)  # type: ignore[arg-type]
        else:
            ft.context.mark_update_called()  # type: ignore[no-untyped-call]

    def _has_dirty_ancestor(self, control: ft.BaseControl) -> bool:
        parent = control.parent
        while parent is not None:
            if id(parent) in self._dirty:
                return True
            parent = parent.parent
        return False


def _under(control: ft.BaseControl, group: ft.BaseControl) -> bool:
    parent = control.parent
    while parent is not None:
        if parent is group:
            return True
        parent = parent.parent
    return False


class _Slot(Generic[V]):
    def __init__(self, make: Callable[[Callable[[], V]], tuple[ft.Control, Fill[V]]], first: V) -> None:
        self.view = first
        self.control, self.fill = make(lambda: self.view)


class Rows(Generic[V]):
    """A column drawn from view rows: rows already drawn are kept and only their changed values sent.

    `make(current)` builds one row's control and its fill; `current()` is the view row the control
    shows now (for a tap handler, since a kept control can come to show another row).
    """

    def __init__(self, column: ft.Column, make: Callable[[Callable[[], V]], tuple[ft.Control, Fill[V]]],
                 empty: ft.Control | None = None) -> None:
        self.column = column
        self._make = make
        self._empty = empty
        self._slots: list[_Slot[V]] = []
        self._views: list[V] | None = None

    def show(self, views: Sequence[V], patch: Patch) -> None:
        """Draw `views`; nothing is sent when they are what is already drawn."""
        if self._views is not None and list(views) == self._views:
            return
        self._views = list(views)
        # Rows that leave the list are dropped, not kept for later: a control the client has removed
        # must never be patched again, only sent whole inside its column.
        del self._slots[len(views):]
        for slot, view in zip(self._slots, views):
            slot.view = view
            slot.fill(view, patch)
        for view in views[len(self._slots):]:
            slot = _Slot(self._make, view)
            slot.fill(view, patch)
            self._slots.append(slot)
        wanted: list[ft.Control] = [s.control for s in self._slots]
        if not wanted and self._empty is not None:
            wanted = [self._empty]
        now = self.column.controls
        if len(now) != len(wanted) or any(a is not b for a, b in zip(now, wanted)):
            self.column.controls = wanted
            patch.mark(self.column)


def static(column: ft.Column, controls: Sequence[ft.Control], patch: Patch) -> None:
    """Give `column` these `controls` once (a fixed list, such as reason buttons); later calls send nothing."""
    if not column.controls:
        column.controls = list(controls)
        patch.mark(column)


class Redraw:
    """A scanning screen's redraw and its taps: a tap runs its action, sends one patch of what
    changed, and parks the focus on the screen's focus holder (`app.ui.widgets.ScanFocus`), so the
    next scan's Enter presses nothing and its keys are typed into no field.

    `render` and `refocus` are looked up when called, so a screen can make this before its render
    function and its scan feed exist.
    """

    def __init__(self, page: ft.Page, render: Callable[[Patch], None], refocus: Callable[[], None]) -> None:
        self._page = page
        self._render = render
        self._refocus = refocus

    def __call__(self) -> None:
        patch = Patch(self._page)
        self._render(patch)
        patch.send()

    def tap(self, fn: Callable[[], None]) -> Callable[[], None]:
        """`fn` as a tap handler: run it, redraw, refocus."""
        def run() -> None:
            fn()
            self()
            self._refocus()
        return run
