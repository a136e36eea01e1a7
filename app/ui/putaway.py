"""The directed putaway screen: what waits on the dock, where it goes and why, scan item then location.

Drawing only: decisions are in `app.viewmodels.putaway.PutawayViewModel`.
"""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from app.ui.numpad import build_numpad
from app.ui.screen import Screen
from app.ui.widgets import AnswerBanner, ScanFeed, big_button, reason_list, title_row
from app.viewmodels.putaway import OVERRIDE_REASONS, PutawayViewModel


def build_putaway(page: ft.Page, vm: PutawayViewModel, on_home: Callable[[], None]) -> Screen:
    """Build the putaway screen; `on_home` returns to My tasks."""
    title = ft.Text("Put away", size=22, weight=ft.FontWeight.BOLD, expand=True)
    banner = AnswerBanner(page)
    item = ft.Text(size=18, weight=ft.FontWeight.W_600)
    take = ft.Text(size=15)
    target = ft.Text(size=40, weight=ft.FontWeight.BOLD, color=ft.Colors.BLUE_GREY_900)
    reason = ft.Text(size=15, color=ft.Colors.BLUE_GREY_700)
    override = ft.Text(size=15, color=ft.Colors.AMBER_900, weight=ft.FontWeight.BOLD)
    rows = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
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

    feed = ScanFeed(on_scan)
    pad, redraw_pad = build_numpad(lambda: vm.qty, lambda: feed.refocus(), label="units to put away")
    target_card = ft.Container(
        content=ft.Column([ft.Text("Put at", size=14), target, reason, override, item, take], spacing=2),
        padding=14, border_radius=10, bgcolor=ft.Colors.LIGHT_BLUE_50,
    )
    selected_view = ft.Column([
        target_card,
        ft.Row([big_button("Put elsewhere", act(vm.put_elsewhere)),
                big_button("Back to list", act(vm.unselect))], spacing=8),
        reasons,
        pad,
    ], spacing=10, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)

    def render() -> None:
        st = vm.state
        banner.show(st.answer)
        selected = st.selected is not None
        selected_view.visible, rows.visible = selected, not selected
        target.value, reason.value, item.value, take.value = st.target_code, st.target_reason, st.item, st.take
        override.value = f"Elsewhere: {st.override_reason}" if st.override_reason else ""
        override.visible = bool(st.override_reason)
        reasons.visible = st.choosing_reason
        reasons.controls = [reason_list(OVERRIDE_REASONS, act_reason, act(vm.cancel_override), "Why elsewhere?")]
        pad.visible = not st.choosing_reason
        redraw_pad()
        rows.controls = [
            ft.Container(
                content=ft.Column([ft.Text(r.headline, size=17, weight=ft.FontWeight.W_600),
                                   ft.Text(r.detail, size=14)], spacing=2),
                padding=12, border_radius=8, bgcolor=ft.Colors.BLUE_GREY_50, on_click=_select(r.key),
            )
            for r in st.rows
        ] or [ft.Text("Nothing waits on the dock", size=16)]
        page.update()

    def act_reason(text: str) -> None:
        vm.choose_reason(text)
        render()
        feed.refocus()

    def _select(key: str) -> Callable[[ft.Event[ft.Container]], None]:
        def handler(e: ft.Event[ft.Container]) -> None:
            vm.select(key)
            render()
            feed.refocus()
        return handler

    root = ft.Column([
        title_row(title, on_home),
        banner.root,
        ft.Row([feed.field]),
        selected_view,
        rows,
    ], spacing=10, visible=False, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    return Screen(root=root, render=render, on_key=feed.on_key, focus=feed.refocus)
