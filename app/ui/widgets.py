"""Pieces every handheld screen shares: the answer banner (colour, words, a flash and a buzz per
answer), big buttons, and a list of reasons to tap. Drawing only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import flet as ft

from app.viewmodels.answer import Answer

ANSWER_BG = {"ok": ft.Colors.GREEN_700, "error": ft.Colors.RED_700, "info": ft.Colors.BLUE_GREY_600,
             "warn": ft.Colors.AMBER_800}
FLASH_BG = {"ok": ft.Colors.GREEN_300, "error": ft.Colors.RED_300, "info": ft.Colors.BLUE_GREY_300,
            "warn": ft.Colors.AMBER_300}
FLASH_S = 0.15
BIG = 56


class AnswerBanner:
    """The answer line: big white words on the answer's colour; flashes and buzzes once per answer."""

    def __init__(self, page: ft.Page) -> None:
        self.page = page
        self.text = ft.Text(size=22, weight=ft.FontWeight.BOLD, color=ft.Colors.WHITE)
        self.root = ft.Container(content=self.text, padding=14, border_radius=10, bgcolor=ANSWER_BG["info"])
        self._seen = -1
        self._haptic: ft.HapticFeedback | None = None
        platform = page.platform
        if not page.web and platform is not None and platform.is_mobile():
            self._haptic = ft.HapticFeedback()  # registers itself with the page (Flet service)

    def show(self, answer: Answer) -> None:
        """Draw `answer`; a new one flashes (and vibrates on a phone or handheld)."""
        self.root.visible = bool(answer.text)
        self.text.value = answer.text
        fresh = answer.no != self._seen
        self._seen = answer.no
        self.root.bgcolor = FLASH_BG.get(answer.kind) if fresh else ANSWER_BG.get(answer.kind)
        if fresh and answer.text:
            kind = answer.kind
            self.page.run_task(self._settle, kind)
            if self._haptic is not None:
                self.page.run_task(self._buzz, kind)

    async def _settle(self, kind: str) -> None:
        await asyncio.sleep(FLASH_S)
        self.root.bgcolor = ANSWER_BG.get(kind)
        self.root.update()

    async def _buzz(self, kind: str) -> None:
        assert self._haptic is not None
        if kind == "error":
            await self._haptic.vibrate()  # type: ignore[no-untyped-call]
        else:
            await self._haptic.light_impact()  # type: ignore[no-untyped-call]


def big_button(text: str, on_click: Callable[[], None], *, primary: bool = False, danger: bool = False,
               expand: bool | int = True) -> ft.Button:
    """A button a thumb hits without looking twice."""
    bg = ft.Colors.RED_800 if danger else ft.Colors.BLUE_GREY_800 if primary else None
    fg = ft.Colors.WHITE if (primary or danger) else None
    return ft.Button(text, on_click=lambda e: on_click(), height=BIG, expand=expand, bgcolor=bg, color=fg,
                     style=ft.ButtonStyle(text_style=ft.TextStyle(size=18, weight=ft.FontWeight.W_600),
                                          shape=ft.RoundedRectangleBorder(radius=8)))


def reason_list(reasons: Sequence[str], choose: Callable[[str], None], cancel: Callable[[], None],
                title: str) -> ft.Column:
    """A column of big reason buttons and a Cancel."""
    return ft.Column(
        [ft.Text(title, size=18, weight=ft.FontWeight.BOLD),
         *[big_button(r, (lambda r=r: choose(r))) for r in reasons],  # type: ignore[misc]
         big_button("Cancel", cancel)],
        spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
    )


def title_row(title: ft.Text, on_home: Callable[[], None]) -> ft.Row:
    """The screen title and a Home button."""
    return ft.Row([title, ft.Button("Home", on_click=lambda e: on_home(), height=44)],
                  alignment=ft.MainAxisAlignment.SPACE_BETWEEN)


class ScanFeed:
    """Feeds page keys (wedge bursts) and the visible field's submit into one `submit(text)`.

    The key path is `app.viewmodels.scan_input.ScanInput`; see its docstring for why scans are read
    from page key events and not from a self-clearing field.
    """

    def __init__(self, submit: Callable[[str], None], *, label: str = "Barcode") -> None:
        from app.viewmodels.scan_input import ScanInput

        self._scans = ScanInput()
        self._submit = submit
        self.field = ft.TextField(label=label, hint_text="Scan, or type and press Enter", text_size=18,
                                  expand=True, on_submit=self._typed)

    def on_key(self, e: ft.KeyboardEvent) -> None:
        """One page key event."""
        import time

        got = self._scans.key(e.key, time.monotonic(), shift=e.shift, ctrl=e.ctrl, alt=e.alt, meta=e.meta)
        if got is not None:
            self.field.value = ""
            self._submit(got.text)

    def _typed(self, e: ft.Event[ft.TextField]) -> None:
        import time

        got = self._scans.typed(self.field.value or "", time.monotonic())
        self.field.value = ""
        if got is not None:
            self._submit(got.text)
        self.refocus()  # a submit drops the field's focus: keep it ready for the next scan

    def clear(self) -> None:
        """Forget a half-typed scan (on opening a screen)."""
        self._scans.clear()

    def refocus(self) -> None:
        """Give focus back to the scan field after a tap.

        A tapped button keeps the focus, and the Enter that ends the next wedge scan would press it
        again (a second pad digit, Damaged switched back off). With the field focused, the burst
        reaches the field and the page, and the field's submit is dropped as a repeat.
        """
        page = self.field.page
        if isinstance(page, ft.Page) and self.field.visible:
            page.run_task(self.field.focus)
