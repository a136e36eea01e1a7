"""The store manager's tablet (landscape, about 1280x800): sign in with a manager badge, then five panels.

Drawing only: every decision is in `app.viewmodels.manager.ManagerViewModel`.
"""

from __future__ import annotations

import asyncio

import flet as ft

from app.ui.manager.board import BoardPanel
from app.ui.manager.panels import approvals_panel, devices_panel, exceptions_panel, figures_panel
from app.viewmodels.manager import ManagerViewModel

REFRESH_S = 15.0
COLOURS = {"ok": ft.Colors.GREEN_800, "error": ft.Colors.RED_800, "info": ft.Colors.BLUE_GREY_700}
NAV = (("board", "Task board", ft.Icons.VIEW_LIST), ("approvals", "Approvals", ft.Icons.FACT_CHECK),
       ("exceptions", "Exceptions", ft.Icons.REPORT_PROBLEM), ("devices", "Devices", ft.Icons.DEVICES),
       ("figures", "Figures", ft.Icons.BAR_CHART))


def build_manager(page: ft.Page, vm: ManagerViewModel) -> None:
    """Lay out the manager tablet on `page` and wire it to the view-model."""
    page.title = "Backroom · Store manager"
    page.padding = 16
    page.bgcolor = ft.Colors.BLUE_GREY_50

    source_line = ft.Text(size=14, weight=ft.FontWeight.W_600)
    sync_line = ft.Text(size=13, color=ft.Colors.BLUE_GREY_700)
    message = ft.Text(size=16, weight=ft.FontWeight.W_600)
    who = ft.Text(size=15)
    badge = ft.TextField(label="Manager badge", hint_text="Scan your badge", autofocus=True, text_size=22, width=420)
    sign_in_view = ft.Column([ft.Text("Store manager", size=30, weight=ft.FontWeight.BOLD),
                              ft.Text("Sign in with a manager's badge", size=16), badge], spacing=16)
    nav = ft.Column(spacing=6, width=190)
    content = ft.Container(expand=True)
    work_view = ft.Row([nav, ft.VerticalDivider(width=1), content], expand=True, visible=False,
                       vertical_alignment=ft.CrossAxisAlignment.START)

    def redraw() -> None:
        st = vm.state
        signed_in = st.actor is not None
        source_line.value = st.source_line if signed_in else ""
        source_line.color = ft.Colors.GREEN_800 if st.online else ft.Colors.ORANGE_900
        sync_line.value = st.sync_line
        message.value = st.message
        message.color = COLOURS.get(st.message_kind, COLOURS["info"])
        who.value = f"{st.name} · {st.actor.role}" if st.actor else ""
        sign_in_view.visible, work_view.visible, header_actions.visible = not signed_in, signed_in, signed_in
        counts = {"approvals": len(st.approvals), "exceptions": sum(1 for r in st.exceptions if r.exception_id)}
        nav.controls = [
            (ft.Button if st.panel == key else ft.TextButton)(
                f"{label} ({counts[key]})" if counts.get(key) else label, icon=icon, width=190,
                on_click=lambda e, k=key: show(k))
            for key, label, icon in NAV
        ]
        if signed_in:
            content.content = _panel(st.panel)
        page.update()

    board = BoardPanel(page, vm, redraw)

    def _panel(name: str) -> ft.Control:
        if name == "board":
            board.render()
            return board.root
        if name == "approvals":
            return approvals_panel(vm, redraw)
        if name == "exceptions":
            return exceptions_panel(vm, redraw)
        if name == "devices":
            return devices_panel(vm)
        return figures_panel(vm)

    def show(name: str) -> None:
        vm.show(name)
        redraw()

    def on_badge(e: ft.Event[ft.TextField]) -> None:
        vm.submit_badge(badge.value or "")
        badge.value = ""
        redraw()

    def refresh(e: object = None) -> None:
        vm.refresh()
        redraw()

    def sign_out(e: object) -> None:
        vm.sign_out()
        redraw()

    badge.on_submit = on_badge
    header_actions = ft.Row([who, ft.OutlinedButton("Refresh", icon=ft.Icons.REFRESH, on_click=refresh),
                             ft.OutlinedButton("Sign out", on_click=sign_out)], spacing=10, visible=False)
    header = ft.Row([
        ft.Column([ft.Text("Backroom · Store manager", size=24, weight=ft.FontWeight.BOLD), source_line, sync_line],
                  spacing=2, expand=True),
        header_actions,
    ], vertical_alignment=ft.CrossAxisAlignment.START)
    page.add(ft.Column([header, message, sign_in_view, work_view], spacing=10, expand=True))
    vm.refresh()
    redraw()

    async def keep_fresh() -> None:
        # Store-wide state changes on other devices: fetch it again every few seconds.
        while True:
            await asyncio.sleep(REFRESH_S)
            await asyncio.to_thread(vm.refresh)
            redraw()

    page.run_task(keep_fresh)
