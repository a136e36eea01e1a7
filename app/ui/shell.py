"""The handheld's frame in Flet: sign in (badge or PIN), My tasks, the sync banner, and the router to
the workflow screens (Receive, Put away, Count, Pick, Needs attention).

Drawing only: every decision is in `app.viewmodels.shell.ShellViewModel` and the screens' own
view-models. Page key events (keyboard-wedge scans) go to whichever screen is showing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import flet as ft

from app.ui.camera import CameraFactory
from app.ui.counting import build_counting
from app.ui.parked import build_parked
from app.ui.patch import Fill, Patch, Rows
from app.ui.picking import build_picking
from app.ui.putaway import build_putaway
from app.ui.receiving import build_receiving
from app.ui.screen import Screen
from app.ui.widgets import ScanFocus, big_button
from app.viewmodels.numpad import PinEntry
from app.viewmodels.receiving import ReceivingViewModel
from app.viewmodels.shell import ShellViewModel, TaskRowView

REFRESH_S = 5.0
QUIET_S = 0.5
"""A background redraw waits until no key has reached the page for this long (a scan is in progress)."""
COLOURS = {"ok": ft.Colors.GREEN_800, "error": ft.Colors.RED_800, "info": ft.Colors.BLUE_GREY_700}


def build_shell(page: ft.Page, vm: ShellViewModel, receiving: ReceivingViewModel | None = None,
                camera: CameraFactory | None = None) -> None:
    """Lay out the shell on `page` and wire its controls to the view-models (home, then each screen).

    With `camera` (decided at start: `app.bootstrap.camera_scanning`), the scanning screens show a
    Camera toggle; a screen's camera stops when the screen stops showing or the associate signs out.
    """
    page.title = "Backroom"
    page.padding = 12
    page.scroll = ft.ScrollMode.AUTO
    flows = vm.workflows
    if receiving is None and flows is not None:
        receiving = flows.receiving

    sync_line = ft.Text(size=14, color=ft.Colors.BLUE_GREY_700)
    sync_banner = ft.Container(content=sync_line, padding=ft.Padding.symmetric(vertical=6, horizontal=8),
                               border_radius=6)
    message = ft.Text(size=20, weight=ft.FontWeight.BOLD)
    badge = ft.TextField(label="Badge", hint_text="Scan your badge", autofocus=True, text_size=22)
    tasks = ft.Column(spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    greeting = ft.Text(size=22, weight=ft.FontWeight.BOLD, expand=True)
    home_focus = ScanFocus(page)
    """My tasks' focus holder: a tapped Refresh must not be pressed again by a stray scan's Enter."""
    pin = PinEntry()
    pin_user = ft.TextField(label="User code or badge", text_size=20)
    pin_display = ft.Text(size=30, weight=ft.FontWeight.BOLD, text_align=ft.TextAlign.CENTER)
    pin_view = ft.Column(visible=False, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    pin_button = ft.Container()
    pin_open = [False]
    """Whether the PIN pad is showing (draw sends it: a control's property set outside a patch is never sent)."""
    sign_in_view = ft.Column([ft.Text("Sign in", size=26, weight=ft.FontWeight.BOLD), badge, pin_button, pin_view],
                             spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    home_view = ft.Column(visible=False, spacing=12, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    current = {"name": "home"}
    last_key = [0.0]
    """When the page last saw a key (monotonic): background redraws wait until a burst is over."""
    attention_text = ft.Text(size=18, weight=ft.FontWeight.W_600)

    def go_home() -> None:
        current["name"] = "home"
        vm.close_route()
        vm.refresh()
        render()
        to_top()

    screens: dict[str, Screen] = {}
    if receiving is not None:
        rcv = build_receiving(page, receiving, go_home, camera)
        screens["receiving"] = Screen(rcv.root, rcv.render, rcv.on_key, rcv.focus, rcv.leave)
    if flows is not None:
        screens["putaway"] = build_putaway(page, flows.putaway, go_home, camera)
        screens["counting"] = build_counting(page, flows.counting, go_home, camera)
        screens["picking"] = build_picking(page, flows.picking, go_home, camera)
        screens["parked"] = build_parked(page, flows.parked, go_home)

    def make_task(current: Callable[[], TaskRowView]) -> tuple[ft.Control, Fill[TaskRowView]]:
        headline = ft.Text(size=18, weight=ft.FontWeight.W_600)
        detail = ft.Text(size=14)
        box = ft.Container(content=ft.Column([headline, detail], spacing=2), padding=12, border_radius=8,
                           on_click=lambda e: open_task(current().task_id))

        def fill(row: TaskRowView, patch: Patch) -> None:
            patch.set(headline, value=row.headline)
            patch.set(detail, value=row.detail)
            patch.set(box, bgcolor=ft.Colors.AMBER_100 if row.urgent else ft.Colors.BLUE_GREY_50)
        return box, fill

    task_rows = Rows(tasks, make_task, empty=ft.Text("No open tasks", size=16))

    # The name on the sign-in and home screens; a work screen gives its 45 px to the job (its title
    # row says where one is), so that a screen with its number pad fits a handheld's 800 px.
    brand = ft.Text("Backroom", size=28, weight=ft.FontWeight.BOLD)

    def draw(patch: Patch) -> None:
        st = vm.state
        patch.set(sync_line, value=st.sync_line + ("  ›" if st.parked else ""),
                  color=ft.Colors.GREEN_800 if st.online else ft.Colors.ORANGE_900)
        patch.set(sync_banner, bgcolor=ft.Colors.AMBER_100 if st.parked else None)
        signed_in = st.actor is not None
        if not signed_in:
            current["name"] = "home"
        name = current["name"]
        patch.set(message, value=st.message, color=COLOURS.get(st.message_kind, COLOURS["info"]),
                  visible=name == "home")
        patch.set(sign_in_view, visible=not signed_in)
        patch.set(pin_button, visible=st.pin_available and not pin_open[0])
        patch.set(pin_view, visible=pin_open[0])
        patch.set(pin_display, value=pin.masked)
        patch.set(home_view, visible=signed_in and name == "home")
        patch.set(brand, visible=not signed_in or name == "home")
        for key, screen in screens.items():
            patch.set(screen.root, visible=signed_in and name == key)
            if not (signed_in and name == key):
                screen.leave()  # its camera stops on another screen and on signing out
        patch.set(greeting, value=f"{st.name} · {st.actor.role}" if st.actor else "")
        patch.set(attention, visible=st.parked > 0 and "parked" in screens)
        patch.set(attention_text, value=f"Needs attention ({st.parked})")
        task_rows.show(st.tasks, patch)

    def render() -> None:
        patch = Patch(page)
        draw(patch)
        patch.send()

    def show(name: str) -> None:
        if name not in screens:
            return
        current["name"] = name
        render()
        screens[name].render()
        to_top()
        screens[name].focus()

    def to_top() -> None:
        # Another screen starts at its top, not where the last one was scrolled to (a long My tasks).
        page.run_task(page.scroll_to, offset=0)

    def open_task(task_id: str) -> None:
        vm.open_task(task_id)
        route = vm.state.route
        if route is None or flows is None:
            render()
            return
        if route.screen == "receiving" and receiving is not None:
            receiving.load()
            if route.ref_id is not None:
                receiving.open_for_po(route.ref_id, route.task_id)
        elif route.screen == "putaway":
            flows.putaway.load(route.task_id)
        elif route.screen == "counting":
            flows.counting.open_task(route.task_id, route.title)
        elif route.screen == "picking":
            flows.picking.open_task(route.task_id)
        show(route.screen)

    def on_badge(e: ft.Event[ft.TextField]) -> None:
        # The submit carries the text the field held when Enter was pressed; `badge.value` is that
        # text only once the client's separate value update has been applied.
        vm.submit_badge(e.data if isinstance(e.data, str) and e.data.strip() else badge.value or "")
        badge.value = ""
        patch = Patch(page)
        patch.mark(badge)  # the client holds what was typed: always send the cleared field
        draw(patch)
        patch.send()
        focus_badge()

    def focus_badge() -> None:
        # A submit drops the field's focus (Flutter's "done" action). Still signed out (an unknown
        # badge, or signed out just now): give it back, so the next badge scan types into the field,
        # and not into nothing while the browser brings the field's text input back to life.
        if vm.state.actor is None and not pin_open[0]:
            page.run_task(badge.focus)

    def action(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            fn()
            render()
            home_focus.park()
        return run

    def sign_out() -> None:
        vm.sign_out()
        render()
        focus_badge()

    def open_screen(name: str, load: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            load()
            show(name)
        return run

    def pin_key(fn: Callable[[], None]) -> Callable[[ft.Event[ft.Button]], None]:
        def handler(e: ft.Event[ft.Button]) -> None:
            fn()
            patch = Patch(page)
            patch.set(pin_display, value=pin.masked)
            patch.send()
        return handler

    def submit_pin() -> None:
        vm.submit_pin(pin_user.value or "", pin.digits)
        pin.clear()  # a PIN never stays on screen, right or wrong
        patch = Patch(page)
        if vm.state.actor is not None:
            pin_user.value = ""
            patch.mark(pin_user)  # the client holds what was typed: always send the cleared field
            pin_open[0] = False
        draw(patch)
        patch.send()

    def toggle_pin(show_it: bool) -> Callable[[], None]:
        def run() -> None:
            pin_open[0] = show_it
            pin.clear()
            render()
            if show_it:
                page.run_task(pin_user.focus)  # ready for the user code (or a badge scan)
            else:
                focus_badge()
        return run

    def on_key(e: ft.KeyboardEvent) -> None:
        # Scans arrive as page key events (see app.viewmodels.scan_input); the showing screen reads them.
        # A scan is ~14 keys: a key only goes into the screen's buffer, and Flet must not redraw the
        # page after each one (its auto-update); the Enter that completes a scan sends one patch.
        ft.context.disable_auto_update()  # type: ignore[no-untyped-call]
        last_key[0] = time.monotonic()
        screen = screens.get(current["name"])
        if screen is not None and vm.state.actor is not None:
            screen.on_key(e)

    def digit(d: int) -> ft.Button:
        return ft.Button(str(d), on_click=pin_key(lambda: pin.press(d)), height=56, expand=True,
                         style=ft.ButtonStyle(text_style=ft.TextStyle(size=24, weight=ft.FontWeight.BOLD)))

    pin_view.controls = [
        pin_user,
        pin_display,
        *[ft.Row([digit(d) for d in trio], spacing=6) for trio in ((1, 2, 3), (4, 5, 6), (7, 8, 9))],
        ft.Row([ft.Button("C", on_click=pin_key(pin.clear), height=56, expand=True), digit(0),
                ft.Button(icon=ft.Icons.BACKSPACE_OUTLINED, tooltip="Delete", on_click=pin_key(pin.back), height=56,
                          expand=True)], spacing=6),
        ft.Row([big_button("Sign in", submit_pin, primary=True), big_button("Cancel", toggle_pin(False))], spacing=8),
    ]
    pin_button.content = big_button("Sign in with PIN", toggle_pin(True))
    badge.on_submit = on_badge
    page.on_keyboard_event = on_key
    def open_parked(e: ft.Event[ft.Container]) -> None:
        if flows is not None:
            open_screen("parked", flows.parked.load)()

    sync_banner.on_click = open_parked
    attention = ft.Container(content=attention_text, padding=12, border_radius=8, bgcolor=ft.Colors.AMBER_200,
                             visible=False, on_click=open_parked)
    entries: list[ft.Control] = []
    if receiving is not None:
        rv = receiving
        entries.append(big_button("Receive", open_screen("receiving", rv.load)))
    if flows is not None:
        entries.append(big_button("Put away", open_screen("putaway", flows.putaway.load)))
    home_view.controls = [
        ft.Row([greeting, home_focus.control]),
        *([ft.Row(entries, spacing=8)] if entries else []),
        attention,
        ft.Row([ft.Button("Refresh", on_click=lambda e: action(vm.refresh)()),
                ft.Button("Sign out", on_click=lambda e: sign_out())]),
        ft.Text("My tasks", size=20, weight=ft.FontWeight.BOLD),
        tasks,
    ]
    page.add(brand, sync_banner, message, sign_in_view, home_view,
             *[s.root for s in screens.values()])
    vm.refresh()
    render()

    async def keep_fresh() -> None:
        # The sync runs in the background: redraw the banner and the list every few seconds, only what
        # changed, and never in the middle of a scan: a burst typed meanwhile would wait behind it.
        while True:
            await asyncio.sleep(REFRESH_S)
            while (quiet := time.monotonic() - last_key[0]) < QUIET_S:
                await asyncio.sleep(QUIET_S - quiet)
            vm.refresh()
            render()

    page.run_task(keep_fresh)
