"""End-to-end fixtures: the demo stack started as a user starts it, and Debian's Chromium.

Needs /usr/bin/chromium (Debian's `chromium`). Without it the tests are skipped with the reason on
a developer machine and fail in CI (CI=true), where .ci/run installs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.live_server import free_port

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs this: {reason}")
    pytest.skip(reason)


@dataclass
class Demo:
    """A running `backroom demo`."""

    app_url: str
    server_url: str
    output: list[str]
    data: Path
    """The demo's data directory: server.db and the handheld's handheld-1.db."""


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`backroom demo --fresh` on free loopback ports, until the session ends."""
    data = tmp_path_factory.mktemp("demo")
    server_port, app_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--fresh", "--data", str(data),
         "--server-port", str(server_port), "--app-port", str(app_port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "FLET_WEB_NO_CDN": "1"},
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if re.search(r"Associate \(handheld\): http", line):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(180):
        proc.kill()
        pytest.fail("the demo did not start:\n" + "\n".join(output[-40:]))
    # The Flet web server answers a moment after it printed the URL.
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{app_port}/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    try:
        yield Demo(app_url=f"http://127.0.0.1:{app_port}/", server_url=f"http://127.0.0.1:{server_port}",
                   output=output, data=data)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright, with every request off loopback blocked."""
    _need(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_app(browser: object, url: str, *, width: int = 400, height: int = 800) -> object:
    """A page on the app at a handheld size, accessibility tree on, nothing allowed off loopback."""
    context = browser.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => document.querySelector('flt-semantics-placeholder, flutter-view') !== null",
                           timeout=60_000)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60_000)
    page.locator("flt-semantics-placeholder").evaluate("el => el.click()")
    return page


def screenshot(page: object, name: str) -> Path:
    """Let the canvas settle, then save a screenshot under artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.wait_for_timeout(600)  # type: ignore[attr-defined]
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path
