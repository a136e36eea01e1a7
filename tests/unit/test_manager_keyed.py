"""Rows kept by key (app.ui.manager.keyed): a row keeps its control while its key is listed, wherever it moves.

Flet controls off any page: what is checked is what a redraw keeps and changes; what reaches the
browser is checked by tests/e2e/test_manager_tablet.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import flet as ft

from app.ui.manager.keyed import KeyedRows, put


@dataclass(frozen=True)
class Line:
    key: str
    text: str


def _rows() -> tuple[ft.Column, KeyedRows[Line], dict[str, Callable[[], Line]]]:
    column = ft.Column()
    currents: dict[str, Callable[[], Line]] = {}

    def make(current: Callable[[], Line]) -> tuple[ft.Control, Callable[[Line], None]]:
        text = ft.Text()
        currents[current().key] = current
        return text, lambda line: put(text, value=line.text)
    return column, KeyedRows(column, make, key=lambda line: line.key, empty=ft.Text("Nothing")), currents


def _values(column: ft.Column) -> list[str | None]:
    return [c.value for c in column.controls if isinstance(c, ft.Text)]


def test_a_row_keeps_its_control_when_a_new_row_lands_above_it() -> None:
    column, rows, currents = _rows()
    rows.show([Line("T-1", "count"), Line("T-2", "pick")])
    t1, t2 = column.controls
    rows.show([Line("T-0", "urgent"), Line("T-1", "count"), Line("T-2", "pick P1")])
    assert column.controls[1] is t1 and column.controls[2] is t2
    assert _values(column) == ["urgent", "count", "pick P1"]
    assert currents["T-2"]() == Line("T-2", "pick P1")  # a tap on T-2's row acts on T-2, as it is now


def test_a_row_that_leaves_is_dropped_and_comes_back_as_a_new_control() -> None:
    column, rows, _ = _rows()
    rows.show([Line("T-1", "a"), Line("T-2", "b")])
    t2 = column.controls[1]
    rows.show([Line("T-1", "a")])
    assert rows.current("T-2") is None
    rows.show([Line("T-1", "a"), Line("T-2", "b")])
    assert column.controls[1] is not t2


def test_an_empty_list_shows_its_placeholder_and_an_unchanged_one_keeps_the_column_list() -> None:
    column, rows, _ = _rows()
    rows.show([])
    assert _values(column) == ["Nothing"]
    rows.show([Line("T-1", "a")])
    listed = column.controls
    rows.show([Line("T-1", "a")])
    assert column.controls is listed

