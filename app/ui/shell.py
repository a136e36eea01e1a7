"""The first screens in Flet: sign in by badge, then my tasks, with the sync line always on top.

Drawing only: every decision is in `app.viewmodels.shell.ShellViewModel`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import flet as ft

from app.ui.receiving import build_receiving
from app.viewmodels.receiving import ReceivingViewModel
from app.viewmodels.shell import ShellViewModel

REFRESH_S = 5.0
COLOURS = {"ok": ft.Colors.GREEN_800, "error": ft.Colors.RED_800, "info": ft.Colors.BLUE_GREY_700}


def build_shell(page: ft.Page, vm: ShellViewModel, receiving: ReceivingViewModel | None = None) -> None:
    """Lay out the shell on `page` and wire its controls to the view-models (home, then Receiving)."""
    page.title = "Backroom"
    page.padding = 12
    page.scroll = ft.ScrollMode.AUTO

    sync_line = ft.Text(size=14, color=ft.Colors.BLUE_GREY_700)
    message = ft.Text(size=20, weight=ft.FontWeight.BOLD)
    badge = ft.TextField(label="Badge", hint_text="Scan your badge", autofocus=True, text_size=22)
    tasks = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    greeting = ft.Text(size=22, weight=ft.FontWeight.BOLD)
    sign_in_view = ft.Column([ft.Text("Sign in", size=26, weight=ft.FontWeight.BOLD), badge], spacing=12)
    home_view = ft.Column(visible=False, spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    screen = {"name": "home"}

    def go_home() -> None:
        screen["name"] = "home"
        vm.refresh()
        render()

    receiving_screen = build_receiving(page, receiving, go_home) if receiving is not None else None

    def render() -> None:
        st = vm.state
        sync_line.value = st.sync_line
        sync_line.color = ft.Colors.GREEN_800 if st.online else ft.Colors.ORANGE_900
        message.value = st.message
        message.color = COLOURS.get(st.message_kind, COLOURS["info"])
        signed_in = st.actor is not None
        if not signed_in:
            screen["name"] = "home"
        sign_in_view.visible = not signed_in
        home_view.visible = signed_in and screen["name"] == "home"
        if receiving_screen is not None:
            receiving_screen.root.visible = signed_in and screen["name"] == "receiving"
        greeting.value = f"{st.name} · {st.actor.role}" if st.actor else ""
        tasks.controls = [
            ft.Container(
                content=ft.Column([
                    ft.Text(row.headline, size=18, weight=ft.FontWeight.W_600),
                    ft.Text(row.detail, size=14),
                ], spacing=2),
                padding=12,
                border_radius=8,
                bgcolor=ft.Colors.AMBER_100 if row.urgent else ft.Colors.BLUE_GREY_50,
            )
            for row in st.tasks
        ] or [ft.Text("No open tasks", size=16)]
        page.update()

    def on_badge(e: ft.Event[ft.TextField]) -> None:
        vm.submit_badge(badge.value or "")
        badge.value = ""
        render()

    def action(fn: Callable[[], None]) -> Callable[[ft.Event[ft.Button]], None]:
        def handler(e: ft.Event[ft.Button]) -> None:
            fn()
            render()
        return handler

    def open_receiving(e: ft.Event[ft.Button]) -> None:
        if receiving is None or receiving_screen is None:
            return
        screen["name"] = "receiving"
        receiving.load()
        render()
        receiving_screen.render()

    def on_key(e: ft.KeyboardEvent) -> None:
        # Scans arrive as page key events (see app.viewmodels.scan_input); only Receiving reads them yet.
        if receiving_screen is not None and screen["name"] == "receiving" and vm.state.actor is not None:
            receiving_screen.on_key(e)

    badge.on_submit = on_badge
    page.on_keyboard_event = on_key
    entries: list[ft.Control] = [ft.Button("Receive", on_click=open_receiving, height=52, expand=True)] if receiving is not None else []
    home_view.controls = [
        greeting,
        *([ft.Row(entries)] if entries else []),
        ft.Row([ft.Button("Refresh", on_click=action(vm.refresh)), ft.Button("Sign out", on_click=action(vm.sign_out))]),
        ft.Text("My tasks", size=20, weight=ft.FontWeight.BOLD),
        tasks,
    ]
    page.add(ft.Text("Backroom", size=28, weight=ft.FontWeight.BOLD), sync_line, message, sign_in_view, home_view,
             *([receiving_screen.root] if receiving_screen is not None else []))
    vm.refresh()
    render()

    async def keep_fresh() -> None:
        # The sync runs in the background: redraw the banner and the list every few seconds.
        while True:
            await asyncio.sleep(REFRESH_S)
            vm.refresh()
            render()

    page.run_task(keep_fresh)
