"""A large number pad for quantities: 3×4 keys a gloved thumb can hit, no system keyboard.

Drawing only: the figure and its rules live in `app.viewmodels.numpad.NumberEntry`.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.patch import Patch
from app.viewmodels.numpad import NumberEntry

KEY_HEIGHT = 50
"""Tall enough for a gloved thumb, short enough that a work screen with its pad fits 800 px."""


def build_numpad(page: ft.Page, entry: Callable[[], NumberEntry], changed: Callable[[], None], *,
                 label: str = "Quantity", show_steps: bool = True) -> tuple[ft.Column, Callable[[Patch], None]]:
    """The pad and a function that redraws its display into a patch; `entry()` gives the figure to edit."""
    display = ft.Text(size=28, weight=ft.FontWeight.BOLD, text_align=ft.TextAlign.CENTER)
    caption = ft.Text(label, size=14, color=ft.Colors.BLUE_GREY_700)

    def redraw(patch: Patch) -> None:
        patch.set(display, value=entry().text)

    def key(text: str, action: Callable[[NumberEntry], None], *, tone: str | None = None,
            icon: ft.IconData | None = None) -> ft.Button:
        def click(e: ft.Event[ft.Button]) -> None:
            action(entry())
            patch = Patch(page)
            redraw(patch)
            patch.send()  # the display only, not the whole page
            changed()
        return ft.Button(None if icon else text, icon=icon, tooltip=text if icon else None, on_click=click,
                         height=KEY_HEIGHT, expand=True, bgcolor=tone,
                         style=ft.ButtonStyle(text_style=ft.TextStyle(size=24, weight=ft.FontWeight.BOLD),
                                              shape=ft.RoundedRectangleBorder(radius=8)))

    def digit(d: int) -> ft.Button:
        return key(str(d), lambda n: n.press(d))

    rows: list[ft.Control] = []
    if show_steps:
        rows.append(ft.Row([
            key("−", lambda n: n.step(-1)),
            ft.Column([caption, display], spacing=0, expand=2, horizontal_alignment=ft.CrossAxisAlignment.CENTER),
            key("+", lambda n: n.step(1)),
        ], spacing=6, vertical_alignment=ft.CrossAxisAlignment.CENTER))
    else:
        rows.append(ft.Column([caption, display], spacing=0, horizontal_alignment=ft.CrossAxisAlignment.CENTER))
    for trio in ((1, 2, 3), (4, 5, 6), (7, 8, 9)):
        rows.append(ft.Row([digit(d) for d in trio], spacing=6))
    rows.append(ft.Row([
        key("C", lambda n: n.reset(), tone=ft.Colors.BLUE_GREY_100),
        digit(0),
        key("Delete", lambda n: n.back(), tone=ft.Colors.BLUE_GREY_100, icon=ft.Icons.BACKSPACE_OUTLINED),
    ], spacing=6))
    display.value = entry().text
    return ft.Column(rows, spacing=6, horizontal_alignment=ft.CrossAxisAlignment.STRETCH), redraw
