"""The store manager's tablet (landscape, about 1280x800): sign in with a manager badge, then five panels.

Drawing only: every decision is in `app.viewmodels.manager.ManagerViewModel`.
"""

from __future__ import annotations

import asyncio

import flet as ft

from app.ui.manager.board import BoardPanel
from app.ui.manager.keyed import put
from app.ui.manager.panels import ApprovalsPanel, ExceptionsPanel, devices_panel, figures_panel
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
    # Every control below is built once and only its values change on a redraw: Flet delivers a
    # tap to the control the client drew, by id, and a control replaced by a background refresh
    # while the tap was on its way would drop it (see app.ui.manager.keyed).
    nav_buttons = {key: (ft.Button(label, icon=icon, width=190, visible=False, on_click=lambda e, k=key: show(k)),
                         ft.TextButton(label, icon=icon, width=190, on_click=lambda e, k=key: show(k)))
                   for key, label, icon in NAV}
    nav = ft.Column([b for pair in nav_buttons.values() for b in pair], spacing=6, width=190)
    board = BoardPanel(page, vm, lambda: redraw())
    approvals = ApprovalsPanel(vm, lambda: redraw())
    exceptions = ExceptionsPanel(vm, lambda: redraw())
    devices, figures = ft.Container(expand=True), ft.Container(expand=True)
    shown: dict[str, object] = {}
    """What the devices and figures panels were last drawn from (they have no taps: drawn anew on change)."""

    def render_panel(name: str) -> None:
        if name == "board":
            board.render()
        elif name == "approvals":
            approvals.render()
        elif name == "exceptions":
            exceptions.render()
        elif name == "devices" and shown.get(name) != (vm.state.devices, vm.state.online):
            shown[name] = (list(vm.state.devices), vm.state.online)
            devices.content = devices_panel(vm)
        elif name == "figures" and shown.get(name) != (vm.state.figures, vm.state.online):
            shown[name] = (vm.state.figures, vm.state.online)
            figures.content = figures_panel(vm)

    roots: dict[str, ft.Control] = {"board": board.root, "approvals": approvals.root, "exceptions": exceptions.root,
                                    "devices": devices, "figures": figures}
    content = ft.Column(list(roots.values()), expand=True)
    work_view = ft.Row([nav, ft.VerticalDivider(width=1), content], expand=True, visible=False,
                       vertical_alignment=ft.CrossAxisAlignment.START)

    def redraw() -> None:
        st = vm.state
        signed_in = st.actor is not None
        put(source_line, value=st.source_line if signed_in else "",
            color=ft.Colors.GREEN_800 if st.online else ft.Colors.ORANGE_900)
        put(sync_line, value=st.sync_line)
        put(message, value=st.message, color=COLOURS.get(st.message_kind, COLOURS["info"]))
        put(who, value=f"{st.name} · {st.actor.role}" if st.actor else "")
        put(sign_in_view, visible=not signed_in)
        put(work_view, visible=signed_in)
        put(header_actions, visible=signed_in)
        counts = {"approvals": len(st.approvals), "exceptions": sum(1 for r in st.exceptions if r.exception_id)}
        for key, label, _ in NAV:
            text = f"{label} ({counts[key]})" if counts.get(key) else label
            current, other = nav_buttons[key]
            put(current, content=text, visible=st.panel == key)
            put(other, content=text, visible=st.panel != key)
        for name, root in roots.items():
            put(root, visible=st.panel == name)
        if signed_in:
            render_panel(st.panel)
        page.update()

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
        # Store-wide state changes on other devices: fetch it again every few seconds, off the
        # page's loop. Drawn on the loop, between taps, and not at all when the manager acted
        # while it was fetched (that action's own refresh is newer: see ManagerViewModel.apply).
        while True:
            await asyncio.sleep(REFRESH_S)
            fetched = await asyncio.to_thread(vm.fetch)
            if vm.apply(fetched):
                redraw()

    page.run_task(keep_fresh)
