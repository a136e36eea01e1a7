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


READY = "Ready to scan"
"""The accessible name of a scanning screen's focus holder (app.ui.widgets.READY_LABEL)."""
FOCUS_READY_JS = """(label) => {
  const a = document.activeElement;
  if (!a || a === document.body || a.tagName === 'FLUTTER-VIEW') return true;  // nothing in particular
  return a.tagName === 'FLT-SEMANTICS' && (a.getAttribute('aria-label') || a.textContent || '').trim() === label;
}"""
"""Ready for a scan: the focus is on the screen's holder, or on nothing in particular (the tapped
control left the screen). Not ready: a field (the keys would be typed into it) or a button or any
other tapped control (the scan's Enter would press it), as right after a tap, until the screen
parks the focus."""


def wait_ready(page: object) -> None:
    """Wait until nothing a scan's keys would type into or its Enter would press has the focus
    (`FOCUS_READY_JS`): a tapped button keeps it until the screen parks it on its holder."""
    page.wait_for_function(FOCUS_READY_JS, arg=READY, timeout=WAIT_MS)  # type: ignore[attr-defined]


def wedge(page: object, code: str) -> None:
    """One keyboard-wedge scan: a burst of keys 5 ms apart, then Enter, once the screen is ready for it
    (`wait_ready`): the screens park the focus on a holder after every tap and submit."""
    wait_ready(page)
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
