"""The demo as a person meets it: the app in real Chromium, signed in by badge or by user and PIN on the
number pad, tasks listed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Demo, open_app, screenshot

WAIT_MS = 45_000
"""How long a step may take: the app answers in well under a second, but a loaded 2-core CI
machine can stall the browser for many seconds."""

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _see(page: object, demo: Demo, text: str) -> None:
    """Wait for `text`; on a timeout, fail with the demo's last log lines (a crashed handler shows there)."""
    try:
        page.get_by_text(text).first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    except Exception as exc:  # Playwright's TimeoutError: say what the app logged meanwhile
        shown = page.evaluate("() => document.querySelector('flt-semantics-host')?.innerText ?? ''")  # type: ignore[attr-defined]
        screenshot(page, "handheld-sign-in-failed")
        tail = "\n".join(demo.output[-40:])
        raise AssertionError(f"{text!r} did not show within {WAIT_MS // 1000} s ({exc.__class__.__name__}); "
                             f"the screen shows:\n{shown}\nthe demo's last lines:\n{tail}") from exc


def _focused(page: object, label: str) -> None:
    """Wait until the text field labelled `label` has the focus and can take typing. Text put into a
    Flutter field whose text input is not active yet can be lost (the field then submits nothing)."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "(label) => { const a = document.activeElement;"
        " return !!a && a.tagName === 'INPUT' && (a.getAttribute('aria-label') || '').startsWith(label); }",
        arg=label, timeout=WAIT_MS)


def _badge_ready(page: object) -> None:
    """Wait until the Badge field has the focus, as a badge scanner needs it: the screen gives it back
    after every badge it did not sign in with (a submit drops it)."""
    _focused(page, "Badge")


def test_an_associate_signs_in_by_badge_and_sees_their_tasks(demo: Demo, browser: object) -> None:
    page = open_app(browser, demo.app_url)
    badge = page.get_by_role("textbox", name="Badge")  # type: ignore[attr-defined]
    badge.wait_for(timeout=WAIT_MS)
    screenshot(page, "handheld-sign-in")

    badge.fill("BADGE-0000")
    badge.press("Enter")
    _see(page, demo, "is not known on this device")
    screenshot(page, "handheld-sign-in-unknown-badge")

    _badge_ready(page)  # typed into a field that is not active yet, the badge could be lost
    badge.fill("BADGE-1001")
    badge.press("Enter")
    _see(page, demo, "My tasks")
    _see(page, demo, "Hello Ana")
    # The seeded store has open pick and count tasks that anyone may take.
    _see(page, demo, "Pick pickup order")
    _see(page, demo, "Online · last sync")
    screenshot(page, "handheld-my-tasks")


def test_an_associate_signs_in_with_user_code_and_pin_on_the_number_pad(demo: Demo, browser: object) -> None:
    page = open_app(browser, demo.app_url)

    def tap(name: str) -> None:
        page.get_by_role("button", name=name, exact=True).first.click(timeout=WAIT_MS)  # type: ignore[attr-defined]

    tap("Sign in with PIN")
    user = page.get_by_role("textbox", name="User code or badge")  # type: ignore[attr-defined]
    user.click(timeout=WAIT_MS)  # as a person does: tap the field, then type once it has the focus
    _focused(page, "User code or badge")
    user.fill("u-assoc-2")
    # Ben Okafor, demo PIN 2222 (server_stub.seed)

    for digit in "1234":
        tap(digit)
    _see(page, demo, "••••")  # the pad shows how many digits, never which
    tap("Sign in")
    _see(page, demo, "Wrong PIN: 4 tries left")
    assert page.get_by_text("Hello Ben").count() == 0  # type: ignore[attr-defined]

    for digit in "229":
        tap(digit)
    tap("C")  # start again
    _see(page, demo, "PIN")
    for digit in "2222":
        tap(digit)
    tap("Sign in")
    _see(page, demo, "My tasks")
    _see(page, demo, "Hello Ben")
    _see(page, demo, "Ben Okafor · associate")
    screenshot(page, "handheld-my-tasks-by-pin")
