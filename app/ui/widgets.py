"""Pieces every handheld screen shares: the answer banner (colour, words, a flash and a buzz per
answer), big buttons, and a list of reasons to tap. Drawing only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import flet as ft

from app.ui.patch import Patch
from app.viewmodels.answer import Answer
from app.viewmodels.scan_input import ScanInput

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
        self._flashing: int | None = None
        """The answer whose flash has not settled yet: a redraw meanwhile (the receipt's lines) keeps it."""
        self._haptic: ft.HapticFeedback | None = None
        platform = page.platform
        if not page.web and platform is not None and platform.is_mobile():
            self._haptic = ft.HapticFeedback()  # registers itself with the page (Flet service)

    def show(self, answer: Answer, patch: Patch) -> None:
        """Draw `answer`; a new one flashes (and vibrates on a phone or handheld)."""
        fresh = answer.no != self._seen
        self._seen = answer.no
        if fresh:
            self._flashing = answer.no if answer.text else None
        flash = self._flashing == answer.no
        patch.set(self.text, value=answer.text)
        patch.set(self.root, visible=bool(answer.text),
                  bgcolor=FLASH_BG.get(answer.kind) if flash else ANSWER_BG.get(answer.kind))
        if fresh and answer.text:
            kind = answer.kind
            self.page.run_task(self._settle, kind, answer.no)
            if self._haptic is not None:
                self.page.run_task(self._buzz, kind)

    def note(self, text: str, kind: str, patch: Patch) -> None:
        """Draw words that are not a view-model's answer (the camera stopping); its next answer replaces them."""
        self._flashing = None
        patch.set(self.text, value=text)
        patch.set(self.root, visible=bool(text), bgcolor=ANSWER_BG.get(kind))

    async def _settle(self, kind: str, no: int) -> None:
        await asyncio.sleep(FLASH_S)
        if no != self._flashing:
            return  # a newer answer flashes now and settles itself, or words replaced it
        self._flashing = None
        patch = Patch(self.page)
        patch.set(self.root, bgcolor=ANSWER_BG.get(kind))
        patch.send()

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


def title_row(title: ft.Text, on_home: Callable[[], None], holder: ScanFocus | None = None) -> ft.Row:
    """The screen title and a Home button; the scan focus holder (1 px, nothing to see) sits between."""
    return ft.Row([title, *([holder.control] if holder is not None else []),
                   ft.Button("Home", on_click=lambda e: on_home(), height=44)],
                  alignment=ft.MainAxisAlignment.SPACE_BETWEEN)


READY_LABEL = "Ready to scan"
"""The focus holder's accessible name: what has the focus between scans (tests wait for it)."""


class ScanFocus:
    """Where the focus rests between scans: a focus holder that edits nothing and presses nothing.

    After a tap or a submit the focus is parked here (`park`). Why not on the scan field: a focused
    field takes every key of a wedge burst as typing, and the browser paints a frame per key, then
    the field's submit and a re-focus go to Python and back (bench/RESULTS.md, scan feedback). Why
    not where the tap left it: a tapped button keeps the focus and the Enter that ends the next wedge
    scan would press it again. A `KeyboardListener` holds a focus node with no editing and no action
    behind Enter; the page's key events (the scans) still arrive. Flet 1.0.5 has no way to drop the
    focus (flet#6249), so a holder is the way to move it off a button.
    """

    def __init__(self, page: ft.Page) -> None:
        self._page = page
        self.control = ft.KeyboardListener(
            content=ft.Semantics(label=READY_LABEL, content=ft.Container(width=1, height=1)))

    def park(self) -> None:
        """Move the focus to the holder (after this handler's patch), when it is showing."""
        if _showing(self.control):
            self._page.run_task(self.control.focus)


def _showing(control: ft.BaseControl) -> bool:
    """On the page, and neither it nor a parent hidden (a hidden control has no widget to focus)."""
    node: ft.BaseControl | None = control
    while node is not None:
        if isinstance(node, ft.Page):
            return True
        if getattr(node, "visible", True) is False:
            return False
        node = node.parent
    return False


class ScanFeed:
    """Feeds page keys (wedge bursts) and the visible field's submit into one `submit(text, patch)`.

    The key path is `app.viewmodels.scan_input.ScanInput`; see its docstring for why scans are read
    from page key events and not from a self-clearing field. Keys are only buffered: nothing is
    drawn until Enter completes a scan, and then one patch carries what the screen changed
    (`submit` draws into the patch; the feed sends it).

    The field is for typing by hand: tap it, type, Enter. Between scans the focus rests on
    `holder` (a `ScanFocus`, which the screen places), not on the field: see `ScanFocus`.
    """

    def __init__(self, page: ft.Page, submit: Callable[[str, Patch], None], *, label: str = "Barcode",
                 text_size: int = 18) -> None:
        self._page = page
        self._scans = ScanInput()
        self._submit = submit
        self._focused = False
        self._dirty = False
        """The field may hold keys Python has not seen (it had the focus since it was last cleared)."""
        self.holder = ScanFocus(page)
        self.field = ft.TextField(label=label, hint_text="Scan, or type and press Enter", text_size=text_size,
                                  expand=True, on_submit=self._typed, on_focus=self._focus, on_blur=self._blur)

    def on_key(self, e: ft.KeyboardEvent) -> None:
        """One page key event."""
        got = self._scans.key(e.key, time.monotonic(), shift=e.shift, ctrl=e.ctrl, alt=e.alt, meta=e.meta)
        if got is not None:
            patch = Patch(self._page)
            self._submit(got.text, patch)
            if self._dirty:
                self._clear_field(patch)  # after the answer: the patches go out in this order
            patch.send()

    def _typed(self, e: ft.Event[ft.TextField]) -> None:
        got = self._scans.typed(self.field.value or "", time.monotonic())
        patch = Patch(self._page)
        if got is not None:
            self._submit(got.text, patch)
        self._clear_field(patch)
        patch.send()
        self.refocus()  # a submit drops the field's focus: park it where the next scan's keys cost nothing

    def _focus(self, e: ft.Event[ft.TextField]) -> None:
        ft.context.disable_auto_update()  # type: ignore[no-untyped-call]
        self._focused = self._dirty = True

    def _blur(self, e: ft.Event[ft.TextField]) -> None:
        ft.context.disable_auto_update()  # type: ignore[no-untyped-call]
        self._focused = False

    def _clear_field(self, patch: Patch) -> None:
        self.field.value = ""
        patch.mark(self.field)  # the client may hold typed keys Python has not seen: always send it
        self._dirty = self._focused

    def clear(self) -> None:
        """Forget a half-typed scan (on opening a screen)."""
        self._scans.clear()

    def refocus(self) -> None:
        """After a tap or a submit: park the focus on the holder (see `ScanFocus`)."""
        self.holder.park()
