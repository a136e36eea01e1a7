"""The reference app of `bench.scan_feedback`: a minimal Flet app that only counts wedge scans.

It reads scans the way the real screens do (page key events buffered until Enter) and shows
"Hello · N scans" after each one, with nothing else on the page: no database, no view-model, no
sync. What it costs to acknowledge a scan is the floor that Flet web, the browser and the web
socket set on this machine; the real app is measured against it.

    python -m bench.hello_app --port 8560
"""

from __future__ import annotations

import argparse

import flet as ft

TITLE = "Hello"


def counter_text(scans: int) -> str:
    """What the page shows after `scans` scans (the bench waits for this text)."""
    return f"{TITLE} · {scans} scans"


def main(page: ft.Page) -> None:
    """Count scans typed as key bursts ending in Enter."""
    page.title = "Scan counter"
    count = ft.Text(counter_text(0), size=22)
    buffer: list[str] = []
    state = {"scans": 0}

    def on_key(e: ft.KeyboardEvent) -> None:
        if e.key in ("Enter", "Numpad Enter"):
            if buffer:
                buffer.clear()
                state["scans"] += 1
                count.value = counter_text(state["scans"])
                page.update()
            return
        if len(e.key) == 1:
            buffer.append(e.key)

    page.on_keyboard_event = on_key
    page.add(count)


def run(argv: list[str] | None = None) -> None:
    """Serve the app in web mode on 127.0.0.1 with the local web client (no CDN)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    print(f"Hello app: http://127.0.0.1:{args.port}/", flush=True)
    ft.run(main, view=None, host="127.0.0.1", port=args.port, no_cdn=True)


if __name__ == "__main__":
    run()
