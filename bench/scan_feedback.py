"""Scan feedback: from the end of a wedge burst to the acknowledgement on screen, in real Chromium.

    python -m bench.scan_feedback [--quick] [--scans N]

The demo stack (`backroom demo --fresh`: the service, the seeded store, the handheld's database
after its first sync, the Flet app in web mode) runs as a user starts it, and Debian's Chromium
(Playwright, every request off loopback blocked) signs in, opens the first ASN and receives its
items as keyboard-wedge bursts: the digits 5 ms apart, then Enter. Beside it, in the same run and in
alternating blocks of scans, the reference: `bench.hello_app`, a Flet app that only counts scans.

Both clocks are the page's own (`performance.now()`): a capture listener on `window` stamps the
Enter key-down, and a MutationObserver stamps the moment the acknowledgement ("· N scans") enters
the page's accessibility tree, which Flutter writes in the same frame it paints. Each scan waits for
its acknowledgement before the next burst (on a promise the observer resolves: polling on animation
frames would pace the page's frames and delay the one being timed), then 100 ms (an associate's
pace, not a stress test).

First frame: navigation start to Flutter's `flutter-first-frame` event, in a fresh browser context
(empty cache) each time, and to the app's first screen in the accessibility tree ("Sign in" /
"Hello · 0 scans"); the median of the loads.

Targets: p95 <= 100 ms and <= 2x the minimal app's p95; first frame <= 1.5x the minimal app's.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.hello_app import counter_text
from bench.support import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
WAIT_MS = 45_000
"""How long one step may take before the run is abandoned (a loaded 2-core machine stalls)."""
BADGE = "BADGE-1001"
KEY_DELAY_MS = 5
PAUSE_S = 0.1
BLOCK = 10
WARMUP = 3

TARGET_P95_MS = 100.0
TARGET_P95_VS_HELLO = 2.0
TARGET_FIRST_FRAME_VS_HELLO = 1.5

# Installed in every page before its scripts run: the stamps the bench reads back.
INIT_SCRIPT = """
(() => {
  const B = window.__bench = {ff: null, enter: null, ack: null, marker: null, screen: null,
                              screenMarker: window.__screenMarker || null};
  window.addEventListener('flutter-first-frame', () => { B.ff = performance.now(); });
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') B.enter = performance.now(); }, true);
  const check = () => {
    const host = document.querySelector('flt-semantics-host');
    if (!host) return;
    const text = host.textContent || '';
    if (B.marker !== null && B.ack === null && text.includes(B.marker)) { B.ack = performance.now(); B.acked(); }
    if (B.screenMarker !== null && B.screen === null && text.includes(B.screenMarker)) B.screen = performance.now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
  B.acked = () => {};
  B.arm = (marker) => { B.marker = marker; B.ack = null; B.enter = null; B.acked = () => {}; check(); return B.ack; };
  // Waits for the acknowledgement without polling: a wait_for_function polls on every animation
  // frame, which keeps the page producing frames at the display's pace, so the app's own frame would
  // wait for the next vsync instead of starting when its patch arrives.
  B.wait = (ms) => new Promise((resolve, reject) => {
    if (B.ack !== null) { resolve(B.ack); return; }
    const timer = setTimeout(() => reject(new Error(`${B.marker} did not appear within ${ms} ms`)), ms);
    B.acked = () => { clearTimeout(timer); resolve(B.ack); };
  });
})();
"""

# Ready for a scan (as the e2e tests' wedge() waits): the focus is on the screen's holder, which
# edits nothing and presses nothing, or on nothing in particular; not on a field or a tapped control.
FOCUS_READY_JS = """(label) => {
  const a = document.activeElement;
  if (!a || a === document.body || a.tagName === 'FLUTTER-VIEW') return true;
  return a.tagName === 'FLT-SEMANTICS' && (a.getAttribute('aria-label') || a.textContent || '').trim() === label;
}"""
READY_LABEL = "Ready to scan"


# -- statistics ----------------------------------------------------------------------------------

def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default method)."""
    if not samples:
        raise ValueError("no samples: the run measured nothing")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures of one series of latencies (ms)."""

    n: int
    p50: float
    p95: float
    max: float


def summarize(samples: Sequence[float]) -> Summary:
    """p50, p95 and max of `samples`."""
    return Summary(n=len(samples), p50=percentile(samples, 50), p95=percentile(samples, 95), max=max(samples))


def result(app_ms: Sequence[float], hello_ms: Sequence[float], app_ff_s: Sequence[float],
           hello_ff_s: Sequence[float], app_screen_s: Sequence[float], hello_screen_s: Sequence[float]) -> dict[str, Any]:
    """The run's JSON object: latencies, first frames, ratios and which targets were met."""
    app, hello = summarize(app_ms), summarize(hello_ms)
    ff, hello_ff = statistics.median(app_ff_s), statistics.median(hello_ff_s)
    targets = {
        "p95_le_100ms": app.p95 <= TARGET_P95_MS,
        "p95_le_2x_hello": app.p95 <= TARGET_P95_VS_HELLO * hello.p95,
        "first_frame_le_1_5x_hello": ff <= TARGET_FIRST_FRAME_VS_HELLO * hello_ff,
    }
    return {
        "scans": app.n, "hello_scans": hello.n,
        "p50_ms": round(app.p50, 1), "p95_ms": round(app.p95, 1), "max_ms": round(app.max, 1),
        "hello_p50_ms": round(hello.p50, 1), "hello_p95_ms": round(hello.p95, 1), "hello_max_ms": round(hello.max, 1),
        "ratio_p95": round(app.p95 / hello.p95, 2),
        "first_frame_s": round(ff, 3), "hello_first_frame_s": round(hello_ff, 3),
        "ratio_first_frame": round(ff / hello_ff, 2),
        "first_screen_s": round(statistics.median(app_screen_s), 3),
        "hello_first_screen_s": round(statistics.median(hello_screen_s), 3),
        "loads": len(app_ff_s),
        "targets": targets, "targets_met": all(targets.values()),
    }


def report(r: dict[str, Any]) -> str:
    """The human-readable table printed before the JSON line."""
    def met(key: str) -> str:
        return "met" if r["targets"][key] else "MISSED"
    return "\n".join([
        f"{'':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   first frame s   first screen s",
        f"{'Backroom receiving':28} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['max_ms']:>8.1f}   "
        f"{r['first_frame_s']:>13.3f}   {r['first_screen_s']:>14.3f}",
        f"{'minimal Flet app':28} {r['hello_p50_ms']:>8.1f} {r['hello_p95_ms']:>8.1f} {r['hello_max_ms']:>8.1f}   "
        f"{r['hello_first_frame_s']:>13.3f}   {r['hello_first_screen_s']:>14.3f}",
        f"ratio p95 {r['ratio_p95']:.2f}, first frame {r['ratio_first_frame']:.2f} "
        f"({r['scans']} scans each, {r['loads']} loads each)",
        f"targets: p95 <= {TARGET_P95_MS:.0f} ms {met('p95_le_100ms')}; p95 <= {TARGET_P95_VS_HELLO:g}x minimal "
        f"{met('p95_le_2x_hello')}; first frame <= {TARGET_FIRST_FRAME_VS_HELLO:g}x minimal "
        f"{met('first_frame_le_1_5x_hello')}",
    ])


# -- the two apps --------------------------------------------------------------------------------

def _wait_http(url: str, proc: subprocess.Popen[str], output: list[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} stopped (exit {proc.returncode}):\n" + "\n".join(output[-30:]))
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s:\n" + "\n".join(output[-30:]))


@contextlib.contextmanager
def _process(argv: list[str], ready: str, url: str) -> Iterator[list[str]]:
    """Run `argv` until it prints a line matching `ready` and `url` answers; yields its output."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "FLET_WEB_NO_CDN": "1"})
    output: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip())
            if re.search(ready, line):
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not seen.wait(180):
            raise RuntimeError(f"{argv[2:]} did not start:\n" + "\n".join(output[-30:]))
        _wait_http(url, proc, output)
        yield output
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def asn_with_units(db: Path, units: int) -> tuple[str, list[str]]:
    """The first open ASN (in the screen's order) with `units` units of EAN-13 items, and that many
    EAN-13 scans spread over its lines without passing any line's expected quantity."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        asns = conn.execute("SELECT asn_id, number FROM asns WHERE status = 'open' ORDER BY expected_at, number").fetchall()
        for asn_id, number in asns:
            lines = conn.execute(
                "SELECT gtin, qty FROM expected_lines WHERE doc_kind = 'asn' AND doc_id = ? AND item_id IS NOT NULL"
                " AND gtin LIKE '0%' ORDER BY line_id", (asn_id,)).fetchall()
            left = {gtin: int(qty) for gtin, qty in lines}
            scans: list[str] = []
            while len(scans) < units and any(left.values()):
                for gtin in list(left):
                    if left[gtin] and len(scans) < units:
                        scans.append(gtin[1:])  # the EAN-13 a label carries
                        left[gtin] -= 1
            if len(scans) == units:
                return str(number), scans
    raise RuntimeError(f"no open ASN with {units} units of EAN-13 items in {db}: ask for fewer scans (--scans)")


# -- the browser ---------------------------------------------------------------------------------

def _context(browser: Any, screen_marker: str) -> Any:
    context = browser.new_context(viewport={"width": 400, "height": 800})
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
    context.add_init_script(f"window.__screenMarker = {json.dumps(screen_marker)};" + INIT_SCRIPT)
    return context


def load(browser: Any, url: str, screen_marker: str) -> tuple[Any, Any, float, float]:
    """Open `url` in a fresh context; (context, page, first frame s, first screen s)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = _context(browser, screen_marker)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("() => window.__bench.ff !== null", timeout=WAIT_MS)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=WAIT_MS)
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:  # turn the accessibility tree on; a click while the page is busy can go unheard
        page.evaluate("() => document.querySelector('flt-semantics-placeholder')?.click()")
        try:
            page.wait_for_function("() => window.__bench.screen !== null", timeout=2_000)
            break
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{screen_marker!r} never appeared on {url}") from None
    ff, screen = page.evaluate("() => [window.__bench.ff, window.__bench.screen]")
    return context, page, ff / 1000, screen / 1000


def scan(page: Any, code: str, marker: str) -> float:
    """Type one wedge burst and Enter; ms from the Enter key-down to `marker` on screen."""
    if page.evaluate("m => window.__bench.arm(m)", marker) is not None:
        raise RuntimeError(f"{marker!r} was on screen before the scan: the counter is not what the bench expects")
    page.keyboard.type(code, delay=KEY_DELAY_MS)
    page.keyboard.press("Enter")
    page.evaluate("ms => window.__bench.wait(ms)", WAIT_MS)
    enter, ack = page.evaluate("() => [window.__bench.enter, window.__bench.ack]")
    if enter is None:
        raise RuntimeError("the page saw no Enter key-down")
    return float(ack - enter)


def open_receipt(page: Any, asn_number: str) -> None:
    """Sign in as an associate and open the receipt on `asn_number`, as the e2e test does, and wait until
    the screen is ready for a scan (the focus parked: the screens leave it on no field)."""
    badge = page.get_by_role("textbox", name="Badge")
    badge.wait_for(timeout=WAIT_MS)
    badge.fill(BADGE)
    badge.press("Enter")
    page.get_by_role("button", name="Receive", exact=True).click(timeout=WAIT_MS)
    page.get_by_text(asn_number, exact=False).first.click(timeout=WAIT_MS)
    page.get_by_text(f"Receiving ASN {asn_number}").wait_for(timeout=WAIT_MS)
    page.wait_for_function(FOCUS_READY_JS, arg=READY_LABEL, timeout=WAIT_MS)


def app_marker(n: int) -> str:
    """The receiving screen's running count after `n` accepted scans ("3 of 161 units · 3 scans")."""
    return f"· {n} scans"


# -- the run -------------------------------------------------------------------------------------

def measure(scans: int, loads: int) -> dict[str, Any]:
    """Start both apps, load each `loads` times, time `scans` scans on each; the result object."""
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="scan-feedback-") as tmp:
        data = Path(tmp) / "demo"
        server_port, app_port, hello_port = free_port(), free_port(), free_port()
        app_url, hello_url = f"http://127.0.0.1:{app_port}/", f"http://127.0.0.1:{hello_port}/"
        demo_argv = [sys.executable, "-m", "app.cli", "demo", "--fresh", "--data", str(data),
                     "--server-port", str(server_port), "--app-port", str(app_port)]
        hello_argv = [sys.executable, "-m", "bench.hello_app", "--port", str(hello_port)]
        print("Starting the demo stack and the minimal app ...", flush=True)
        with _process(demo_argv, r"Associate \(handheld\): http", app_url), \
                _process(hello_argv, r"Hello app: http", hello_url), sync_playwright() as pw:
            asn, codes = asn_with_units(data / "handheld-1.db", scans + WARMUP)
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                ff: dict[str, list[float]] = {"app": [], "hello": []}
                screen: dict[str, list[float]] = {"app": [], "hello": []}
                for _ in range(loads):  # alternate, fresh context (empty cache) each time
                    for name, url, mark in (("app", app_url, "Sign in"), ("hello", hello_url, counter_text(0))):
                        context, _, f, s = load(browser, url, mark)
                        ff[name].append(f)
                        screen[name].append(s)
                        context.close()
                print(f"First frames: app {ff['app']}, minimal {ff['hello']}", flush=True)
                _, app_page, _, _ = load(browser, app_url, "Sign in")
                open_receipt(app_page, asn)
                _, hello_page, _, _ = load(browser, hello_url, counter_text(0))
                for n, code in enumerate(codes[:WARMUP], start=1):
                    scan(app_page, code, app_marker(n))
                    scan(hello_page, code, counter_text(n))
                got: dict[str, list[float]] = {"app": [], "hello": []}
                for start in range(0, scans, BLOCK):  # alternating blocks on a shared, noisy machine
                    block = codes[WARMUP + start:WARMUP + min(start + BLOCK, scans)]
                    for name, page, marker in (("app", app_page, app_marker), ("hello", hello_page, counter_text)):
                        for code in block:
                            got[name].append(scan(page, code, marker(WARMUP + len(got[name]) + 1)))
                            time.sleep(PAUSE_S)
            finally:
                browser.close()
    return result(got["app"], got["hello"], ff["app"], ff["hello"], screen["app"], screen["hello"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print the table, then the JSON object as the last line."""
    parser = argparse.ArgumentParser(description="Scan feedback in real Chromium: Backroom beside a minimal Flet app.")
    parser.add_argument("--quick", action="store_true", help="20 scans and one load each (a smoke run)")
    parser.add_argument("--scans", type=int, help="scans per app (default 100, 20 with --quick)")
    parser.add_argument("--loads", type=int, help="page loads per app for the first frame (default 5, 1 with --quick)")
    args = parser.parse_args(argv)
    scans = args.scans or (20 if args.quick else 100)
    loads = args.loads or (1 if args.quick else 5)
    if scans < 1 or loads < 1:
        parser.error("--scans and --loads must be at least 1")
    # A stop (SIGTERM) unwinds like Ctrl+C, so the demo stack and the browser are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    r = measure(scans, loads)
    print(report(r))
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
