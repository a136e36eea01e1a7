"""The demo as a person meets it: the app in real Chromium, signed in by badge, tasks listed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Demo, open_app, screenshot

WAIT_MS = 45_000
"""How long a step may take: the app answers in well under a second, but a loaded 2-core CI
machine can stall the browser for many seconds."""

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_an_associate_signs_in_by_badge_and_sees_their_tasks(demo: Demo, browser: object) -> None:
    page = open_app(browser, demo.app_url)
    badge = page.get_by_role("textbox", name="Badge")  # type: ignore[attr-defined]
    badge.wait_for(timeout=WAIT_MS)
    screenshot(page, "handheld-sign-in")

    badge.fill("BADGE-0000")
    badge.press("Enter")
    page.get_by_text("is not known on this device").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    screenshot(page, "handheld-sign-in-unknown-badge")

    badge.fill("BADGE-1001")
    badge.press("Enter")
    page.get_by_text("My tasks").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("Hello Ana").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    # The seeded store has open pick and count tasks that anyone may take.
    page.get_by_text("Pick pickup order").first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.get_by_text("Online · last sync").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    screenshot(page, "handheld-my-tasks")
