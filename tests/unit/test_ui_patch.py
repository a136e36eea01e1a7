"""Targeted redraws (app.ui.patch): rows already drawn are kept and only their values change.

These run on flet controls that are not on any page (no client): what is checked is what a redraw
changes and keeps; what reaches the browser is checked by the end-to-end tests in Chromium.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from app.ui.patch import Fill, Patch, Rows, mounted


@dataclass(frozen=True)
class Line:
    key: str
    progress: str


def _rows() -> tuple[ft.Column, Rows[Line], list[Callable[[], Line]]]:
    column = ft.Column()
    currents: list[Callable[[], Line]] = []

    def make(current: Callable[[], Line]) -> tuple[ft.Control, Fill[Line]]:
        text = ft.Text()
        currents.append(current)

        def fill(line: Line, patch: Patch) -> None:
            patch.set(text, value=f"{line.key} {line.progress}")
        return text, fill
    return column, Rows(column, make, empty=ft.Text("Nothing yet")), currents


def _page() -> ft.Page:
    return ft.Page.__new__(ft.Page)  # never sent to: nothing in these tests is on a page


def _values(column: ft.Column) -> list[str | None]:
    return [c.value for c in column.controls if isinstance(c, ft.Text)]


def test_a_changed_row_keeps_its_control_and_only_its_value_changes() -> None:
    column, rows, _ = _rows()
    rows.show([Line("mug", "0 of 12"), Line("tea", "0 of 8")], Patch(_page()))
    drawn = list(column.controls)
    rows.show([Line("mug", "1 of 12"), Line("tea", "0 of 8")], Patch(_page()))
    assert all(a is b for a, b in zip(column.controls, drawn, strict=True))
    assert _values(column) == ["mug 1 of 12", "tea 0 of 8"]


def test_rows_that_leave_are_dropped_and_new_ones_are_new_controls() -> None:
    column, rows, currents = _rows()
    rows.show([Line("a", "1"), Line("b", "2"), Line("c", "3")], Patch(_page()))
    third = column.controls[2]
    rows.show([Line("a", "1")], Patch(_page()))
    assert _values(column) == ["a 1"]
    rows.show([Line("a", "1"), Line("b", "2"), Line("c", "3")], Patch(_page()))
    assert column.controls[2] is not third  # a control the client removed is never reused
    assert currents[0]() == Line("a", "1") and currents[-1]() == Line("c", "3")


def test_a_kept_row_tells_its_tap_handler_which_row_it_shows_now() -> None:
    _, rows, currents = _rows()
    rows.show([Line("a", "1"), Line("b", "2")], Patch(_page()))
    rows.show([Line("b", "2"), Line("c", "3")], Patch(_page()))
    assert [c() for c in currents] == [Line("b", "2"), Line("c", "3")]


def test_an_empty_list_shows_its_placeholder() -> None:
    column, rows, _ = _rows()
    rows.show([], Patch(_page()))
    assert _values(column) == ["Nothing yet"]
    rows.show([Line("a", "1")], Patch(_page()))
    assert _values(column) == ["a 1"]


def test_a_patch_changes_only_values_that_differ_and_marks_nothing_off_the_page() -> None:
    text = ft.Text("same", color=ft.Colors.RED_700)
    patch = Patch(_page())
    patch.set(text, value="same", color=ft.Colors.RED_700)
    assert patch.empty
    patch.set(text, value="new")
    assert text.value == "new"
    assert patch.empty and not mounted(text)  # not on a page: it goes whole with its parent


def _mount(control: ft.BaseControl, parent: ft.BaseControl) -> None:
    setattr(control, "_parent", weakref.ref(parent))  # as Flet sets it when the control is added to the page


def test_changes_under_a_group_go_out_as_one_patch_of_the_group() -> None:
    page = _page()
    sent: list[ft.BaseControl] = []
    object.__setattr__(page, "update", lambda *controls: sent.extend(controls))
    answer, count, elsewhere = ft.Text("old"), ft.Text("0 scans"), ft.Text("x")
    group, screen = ft.Column([answer, count]), ft.Column()
    screen.controls = [group, elsewhere]
    _mount(screen, page)
    for child, parent in ((group, screen), (elsewhere, screen), (answer, group), (count, group)):
        _mount(child, parent)
    patch = Patch(page)
    patch.set(answer, value="+1 mug")
    patch.set(count, value="1 scans")
    patch.set(elsewhere, value="y")
    patch.together(group)
    patch.send()
    assert sent == [elsewhere, group] or sent == [group, elsewhere]
    assert len(sent) == 2, "the answer and the count went out as separate patches"
    patch = Patch(page)
    patch.set(elsewhere, value="z")
    patch.together(group)  # nothing changed under it: nothing extra is sent
    patch.send()
    assert sent[2:] == [elsewhere]
