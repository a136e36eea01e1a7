"""Helpers of the associate end-to-end tests: sign in, type wedge bursts, read the handheld's database,
and keep screenshots of each screen at handheld size in docs/screenshots/ (the README shows them)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.conftest import ROOT, open_app

WAIT_MS = 45_000
"""How long a step may take: the app answers in well under a second, but a loaded 2-core CI
machine can stall the browser for many seconds."""
DOCS = ROOT / "docs" / "screenshots"


def signed_in(browser: object, url: str, badge: str = "BADGE-1001") -> object:
    """A handheld-sized page on the app, signed in by badge, showing My tasks."""
    page = open_app(browser, url)
    field = page.get_by_role("textbox", name="Badge")  # type: ignore[attr-defined]
    field.wait_for(timeout=WAIT_MS)
    field.fill(badge)
    field.press("Enter")
    page.get_by_text("My tasks").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    return page


def wedge(page: object, code: str) -> None:
    """One keyboard-wedge scan: a burst of keys 5 ms apart, then Enter.

    First waits until the screen's scan field has the focus, as the screens give it back after every
    tap: a button that kept the focus would be pressed again by the scan's Enter.
    """
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.activeElement && ['INPUT', 'TEXTAREA'].includes(document.activeElement.tagName)",
        timeout=WAIT_MS)
    page.keyboard.type(code, delay=5)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]


def see(page: object, text: str, *, exact: bool = False) -> None:
    """Wait until `text` shows."""
    page.get_by_text(text, exact=exact).first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]


def tap(page: object, name: str) -> None:
    """Tap the button called `name`."""
    page.get_by_role("button", name=name, exact=True).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]


def shot(page: object, name: str) -> Path:
    """Let the canvas settle (two equal screenshots), then keep it as docs/screenshots/<name>.png."""
    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    before = b""
    for _ in range(10):
        page.wait_for_timeout(400)  # type: ignore[attr-defined]
        now = page.screenshot()  # type: ignore[attr-defined]
        if now == before:
            break
        before = now
    path.write_bytes(before)
    return path


def query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Rows from the handheld's database (read-only use)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def ean13(gtin14: str) -> str:
    """The code a label carries for a GTIN-14 starting with 0 (the 13 digits a scanner sends)."""
    return gtin14[1:] if gtin14.startswith("0") else gtin14
