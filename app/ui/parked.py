"""Needs attention: ops the service refused, with its reason; correct and send again, or dismiss.

Drawing only: decisions are in `app.viewmodels.parked.ParkedViewModel`. Redraws are targeted
(`app.ui.patch`): only the controls whose values changed are sent.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.numpad import build_numpad
from app.ui.patch import Fill, Patch, Redraw, Rows
from app.ui.screen import Screen
from app.ui.widgets import AnswerBanner, ScanFeed, big_button, reason_list, title_row
from app.viewmodels.parked import DISMISS_REASONS, ParkedRow, ParkedViewModel


def build_parked(page: ft.Page, vm: ParkedViewModel, on_home: Callable[[], None]) -> Screen:
    """Build the needs-attention screen; `on_home` returns to My tasks."""
    title = ft.Text("Needs attention", size=22, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    rows = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    detail = ft.Text(size=17, weight=ft.FontWeight.W_600)
    why = ft.Text(size=16, color=ft.Colors.RED_900)
    location = ft.Text(size=24, weight=ft.FontWeight.BOLD)

    redraw = Redraw(page, lambda patch: render(patch), lambda: feed.refocus())
    act = redraw.tap

    def on_scan(text: str, patch: Patch) -> None:
        vm.scan(text)
        render(patch)

    def on_reason(text: str) -> None:
        vm.choose_reason(text)
        redraw()
        feed.refocus()

    def make_row(current: Callable[[], ParkedRow]) -> tuple[ft.Control, Fill[ParkedRow]]:
        headline = ft.Text(size=16, weight=ft.FontWeight.W_600)
        reason = ft.Text(size=14, color=ft.Colors.RED_900)
        when = ft.Text(size=13)

        def select(e: ft.Event[ft.Container]) -> None:
            vm.select(current().seq)
            redraw()
            feed.refocus()

        def fill(r: ParkedRow, patch: Patch) -> None:
            patch.set(headline, value=r.headline)
            patch.set(reason, value=r.reason)
            patch.set(when, value=f"{r.when}" + (f" · can correct the {r.fix}" if r.fix else ""))
        box = ft.Container(content=ft.Column([headline, reason, when], spacing=2), padding=12, border_radius=8,
                           bgcolor=ft.Colors.BLUE_GREY_50, on_click=select)
        return box, fill

    feed = ScanFeed(page, on_scan, label="Location label")
    pad, redraw_pad = build_numpad(page, lambda: vm.qty, lambda: feed.refocus(), label="the right figure",
                                   show_steps=False)
    # Three big buttons do not fit a 400 px row with their words on one line: Send again gets its own.
    send_again = ft.Row([big_button("Send again", act(vm.send_again), primary=True)])
    buttons = ft.Column([send_again, ft.Row([big_button("Dismiss", act(vm.dismiss), danger=True),
                                             big_button("Back", act(vm.back))], spacing=8)], spacing=8)
    reasons = ft.Column([reason_list(DISMISS_REASONS, on_reason, act(vm.back), "Why dismiss it?")], visible=False)
    listed = Rows(rows, make_row)
    open_view = ft.Column([
        ft.Container(content=ft.Column([detail, why], spacing=4), padding=12, border_radius=8,
                     bgcolor=ft.Colors.RED_50),
        location, feed.field, buttons, reasons, pad,
    ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def render(patch: Patch) -> None:
        st = vm.state
        banner.show(st.answer, patch)
        current = next((r for r in st.rows if r.seq == st.selected), None)
        patch.set(open_view, visible=current is not None)
        patch.set(rows, visible=current is None)
        if current is not None:
            patch.set(detail, value=current.headline)
            patch.set(why, value=f"Refused: {current.reason}")
        patch.set(pad, visible=st.fix_kind == "qty" and not st.choosing_reason)
        patch.set(feed.field, visible=st.fix_kind == "location")
        patch.set(location, visible=st.fix_kind == "location",
                  value=f"New location: {st.fix_value}" if st.fix_value else "Scan the right location")
        patch.set(send_again, visible=bool(st.fix_kind))
        patch.set(reasons, visible=st.choosing_reason)
        listed.show(st.rows, patch)
        redraw_pad(patch)

    root = ft.Column([title_row(title, on_home, feed.holder), banner.root, open_view, rows], spacing=10, visible=False,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def on_key(e: ft.KeyboardEvent) -> None:
        if vm.state.fix_kind == "location":
            feed.on_key(e)

    return Screen(root=root, render=redraw, on_key=on_key, focus=feed.refocus)
