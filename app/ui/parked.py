"""Needs attention: ops the service refused, with its reason; correct and send again, or dismiss.

Drawing only: decisions are in `app.viewmodels.parked.ParkedViewModel`.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.numpad import build_numpad
from app.ui.screen import Screen
from app.ui.widgets import AnswerBanner, ScanFeed, big_button, reason_list, title_row
from app.viewmodels.parked import DISMISS_REASONS, ParkedViewModel


def build_parked(page: ft.Page, vm: ParkedViewModel, on_home: Callable[[], None]) -> Screen:
    """Build the needs-attention screen; `on_home` returns to My tasks."""
    title = ft.Text("Needs attention", size=22, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    rows = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    detail = ft.Text(size=17, weight=ft.FontWeight.W_600)
    why = ft.Text(size=16, color=ft.Colors.RED_900)
    location = ft.Text(size=24, weight=ft.FontWeight.BOLD)
    reasons = ft.Column(visible=False)

    def act(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            fn()
            render()
            feed.refocus()
        return run

    def on_scan(text: str) -> None:
        vm.scan(text)
        render()

    def on_reason(text: str) -> None:
        vm.choose_reason(text)
        render()
        feed.refocus()

    feed = ScanFeed(on_scan, label="Location label")
    pad, redraw_pad = build_numpad(lambda: vm.qty, lambda: feed.refocus(), label="the right figure", show_steps=False)
    buttons = ft.Row(spacing=8)
    open_view = ft.Column([
        ft.Container(content=ft.Column([detail, why], spacing=4), padding=12, border_radius=8,
                     bgcolor=ft.Colors.RED_50),
        location, feed.field, buttons, reasons, pad,
    ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def render() -> None:
        st = vm.state
        banner.show(st.answer)
        current = next((r for r in st.rows if r.seq == st.selected), None)
        open_view.visible, rows.visible = current is not None, current is None
        if current is not None:
            detail.value, why.value = current.headline, f"Refused: {current.reason}"
        pad.visible = st.fix_kind == "qty" and not st.choosing_reason
        feed.field.visible = location.visible = st.fix_kind == "location"
        location.value = f"New location: {st.fix_value}" if st.fix_value else "Scan the right location"
        send: list[ft.Control] = [big_button("Send again", act(vm.send_again), primary=True)] if st.fix_kind else []
        buttons.controls = [*send, big_button("Dismiss", act(vm.dismiss), danger=True), big_button("Back", act(vm.back))]
        reasons.visible = st.choosing_reason
        reasons.controls = [reason_list(DISMISS_REASONS, on_reason, act(vm.back), "Why dismiss it?")]
        rows.controls = [
            ft.Container(
                content=ft.Column([ft.Text(r.headline, size=16, weight=ft.FontWeight.W_600),
                                   ft.Text(r.reason, size=14, color=ft.Colors.RED_900),
                                   ft.Text(f"{r.when}" + (f" · can correct the {r.fix}" if r.fix else ""), size=13)],
                                  spacing=2),
                padding=12, border_radius=8, bgcolor=ft.Colors.BLUE_GREY_50, on_click=_select(r.seq),
            )
            for r in st.rows
        ]
        redraw_pad()
        page.update()

    def _select(seq: int) -> Callable[[ft.Event[ft.Container]], None]:
        def handler(e: ft.Event[ft.Container]) -> None:
            vm.select(seq)
            render()
            feed.refocus()
        return handler

    root = ft.Column([title_row(title, on_home), banner.root, open_view, rows], spacing=10, visible=False,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def on_key(e: ft.KeyboardEvent) -> None:
        if vm.state.fix_kind == "location":
            feed.on_key(e)

    return Screen(root=root, render=render, on_key=on_key, focus=feed.refocus)
