"""A whole shift in real Chromium, the handheld at 400x800 and the manager's tablet at 1280x800.

The manager assigns a delivery to Ana; Ana receives it with back-to-back wedge scans, puts it away;
then the store's service stops. Ana goes on working: she counts a location and finds a variance,
and picks an order with one line short, while the banner says she is offline and how much waits.
The service comes back, everything syncs exactly once, and the manager approves the variance and
sees the short pick.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.associate_support import WAIT_MS, query, see, shot, signed_in, tap, wedge
from tests.e2e.conftest import open_app
from tests.e2e.shift_support import (
    exact_delivery,
    ops_arrived_once,
    own_service_demo,
    scan_plan,
    shots_on_failure,
    tap_until,
    type_bursts,
    wait_for,
)
from tests.e2e.test_associate_count import _count_task, _type_on_pad
from tests.e2e.test_associate_pick import _pick_task
from tests.e2e.test_manager_tablet import TABLET, _row_index

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHORT_BY = 3
"""How far Ana's count of the location's first item is short: past the service's tolerance (2 units,
or 5 % of what it holds), within what the handheld lets through after a recount (10 units)."""
DRAIN_S = 240
"""How long the outbox may take to drain once the service is back: the sync backs off while the
service is down (doubling, with jitter), so its next try may come a minute or more later."""


def _tablet(browser: object, url: str) -> object:
    page = open_app(browser, url + "manager", **TABLET)
    badge = page.get_by_role("textbox", name="Manager badge")  # type: ignore[attr-defined]
    badge.wait_for(timeout=WAIT_MS)
    badge.fill("BADGE-2001")
    badge.press("Enter")
    see(page, "Live from the store service")
    see(page, "shown of")
    return page


def _panel(page: object, name: str, field: str, marker: str) -> None:
    """Open a tablet panel (its text field `field` shows it is there), fetch it again, wait for `marker`."""
    tap_until(lambda: page.get_by_role("button", name=re.compile(f"^{name}")).first,  # type: ignore[attr-defined]
              page.get_by_role("textbox", name=field).first)  # type: ignore[attr-defined]
    tap(page, "Refresh")
    see(page, marker)


def _press(page: object, button: str, marker: str) -> None:
    """Press a button until what it opens shows (see tap_until)."""
    tap_until(lambda: page.get_by_role("button", name=button, exact=True).first,  # type: ignore[attr-defined]
              page.get_by_text(marker).first)  # type: ignore[attr-defined]


def _pending(db: Path) -> int:
    return int(str(query(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0]))


@pytest.mark.timeout(600)  # about 3 minutes alone; much more on a machine shared with other test runs
def test_a_whole_shift_goes_on_through_an_outage_and_ends_synced_and_approved(
        browser: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    pages: dict[str, object] = {}
    with own_service_demo(tmp_path_factory.mktemp("shift")) as (demo, service), shots_on_failure(pages):
        hh, server = demo.data / "handheld-1.db", demo.data / "server.db"
        delivery = exact_delivery(hh)
        count_title, count_code, counted = _count_task(hh)
        pick_id, pick_title, pick_lines = _pick_task(hh)
        touched = {code for _l, code, _e, _q in pick_lines}
        assert count_code not in touched, f"the count at {count_code} would meet the pick walk there"
        first_qty = counted[0][2]
        assert first_qty < 20 * SHORT_BY, f"{first_qty} units: {SHORT_BY} short would be within the tolerance"

        # -- 07:00 The manager gives the morning's delivery to Ana.
        tablet = pages["tablet"] = _tablet(browser, demo.app_url)
        tablet.get_by_text(delivery.title).first.scroll_into_view_if_needed(timeout=WAIT_MS)  # type: ignore[attr-defined]
        assign = tablet.get_by_role("button", name="Assign", exact=True)  # type: ignore[attr-defined]
        tap_until(lambda: assign.nth(_row_index(tablet, delivery.title)), tablet.get_by_text(f"Assign {delivery.title} to").first)  # type: ignore[attr-defined]
        tap_until(lambda: tablet.get_by_role("button", name="Ana Costa"),  # type: ignore[attr-defined]
                  tablet.get_by_text("Task assigned to Ana Costa").first)  # type: ignore[attr-defined]
        shot(tablet, "shift-tablet-assigned")

        # -- Ana receives it: big lines counted and typed on the pad, the rest scanned unit by unit.
        page = pages["handheld"] = signed_in(browser, demo.app_url)
        wait_for(lambda: query(hh, "SELECT 1 FROM tasks WHERE task_id = ? AND assignee_id = 'u-assoc-1'", delivery.task_id)
                 or None, "the assignment reaching Ana's handheld through the service")
        tap_until(lambda: page.get_by_text(delivery.title).first,  # type: ignore[attr-defined]
                  page.get_by_text(f"Receiving ASN {delivery.asn_number}").first)  # type: ignore[attr-defined]
        typed, burst = scan_plan(delivery.lines)
        received = 0
        for ean, qty in typed:
            _type_on_pad(page, qty)
            wedge(page, ean)
            received += qty
            see(page, f"{received} of {delivery.units} units")
        type_bursts(page, burst)
        see(page, f"{delivery.units} of {delivery.units} units")
        shot(page, "shift-handheld-received")
        _press(page, "Close receipt", "Discrepancies")

        # -- ... and puts it away where the handheld says.
        _press(page, "Home", "My tasks")
        _press(page, "Put away", "Scan an item from the dock")
        for description, ean, qty in delivery.lines:
            wedge(page, ean)
            see(page, "then scan the location")
            target = re.search(r"Take \d+ to (\S+),", page.get_by_text("then scan the location").first.inner_text())  # type: ignore[attr-defined]
            assert target is not None
            wedge(page, f"loc-{target.group(1)}")
            see(page, f"Put {qty} {description} at {target.group(1)}")
        shot(page, "shift-handheld-put-away")
        wait_for(lambda: None if _pending(hh) else True, "the receipt and putaway reaching the service")
        see(page, "Online · last sync")

        # -- 10:00 The store's service goes down. Ana goes on: a count with a variance ...
        service.stop()
        _press(page, "Home", "My tasks")
        tap_until(lambda: page.get_by_text(count_title).first,  # type: ignore[attr-defined]
                  page.get_by_text(f"Go to {count_code} and scan its label").first)  # type: ignore[attr-defined]
        wedge(page, f"loc-{count_code}")
        see(page, f"Counting {count_code}: scan every item")
        for n, (description, ean, qty) in enumerate(counted):
            found = qty - SHORT_BY if n == 0 else qty
            if found:
                _type_on_pad(page, found)
                wedge(page, ean)
                see(page, f"+{found} {description}")
        tap(page, "Submit count")
        see(page, f"Count again: {counted[0][0]}")
        see(page, "Offline · last sync")
        shot(page, "shift-handheld-offline-recount")
        _type_on_pad(page, first_qty - SHORT_BY)
        wedge(page, counted[0][1])
        see(page, f"+{first_qty - SHORT_BY} {counted[0][0]}")
        tap(page, "Submit count")
        see(page, "Count done: every location is counted")

        # -- ... and a pick walk with its last line short, staged.
        _press(page, "Home", "My tasks")
        *full, (_line, last_code, _ean, _qty) = pick_lines
        tap_until(lambda: page.get_by_text(pick_title).first,  # type: ignore[attr-defined]
                  page.get_by_text(f"Go to {full[0][1]} and scan its label").first)  # type: ignore[attr-defined]
        for _l, code, ean, qty in full:
            wedge(page, f"loc-{code}")
            type_bursts(page, [ean] * qty)
            see(page, f"{qty} of {qty}")
        wedge(page, f"loc-{last_code}")
        see(page, f"At {last_code}: take")
        _press(page, "Short…", "Why short?")
        tap(page, "None on the shelf")
        see(page, "All picked: scan a staging location")
        wedge(page, "loc-STG-1")
        see(page, "staged at STG-1: ready")
        waiting = _pending(hh)
        assert waiting >= len(counted) + sum(q for *_x, q in full) + 2  # counts, picks, the short line, the staging
        see(page, "Offline · last sync")
        see(page, f"{waiting} to send")
        shot(page, "shift-handheld-offline-waiting")
        see(tablet, "Offline: showing the board as of")
        shot(tablet, "shift-tablet-offline")

        # -- The service comes back on the same port and database: everything drains, once.
        service.start(timeout=120)
        wait_for(lambda: None if _pending(hh) else True, "the handheld's outbox draining", timeout=DRAIN_S)
        _press(page, "Home", "My tasks")
        see(page, "all sent")
        shot(page, "shift-handheld-synced")
        problems = ops_arrived_once(server, hh, "handheld-1") + ops_arrived_once(server, demo.data / "tablet-1.db", "tablet-1")
        assert problems == []
        types = [str(r[0]) for r in query(server, "SELECT type FROM ops WHERE device_id = 'handheld-1' ORDER BY seq")]
        assert types.count("putaway.confirm") == len(delivery.lines)
        assert types.count("pick.short") == 1 and types.count("order.stage") == 1
        task_status = {str(task): str(status) for task, status in query(
            server, "SELECT task_id, status FROM tasks WHERE task_id IN (?, ?)", delivery.task_id, pick_id)}
        assert task_status == {delivery.task_id: "done", pick_id: "done"}

        # -- The manager: the count's variance waits for approval; approved, it is posted.
        [(item_id, location_id)] = query(server, "SELECT item_id, location_id FROM count_reviews WHERE status = 'pending'")
        _panel(tablet, "Approvals", "Note for the decision (optional)", "Count of")
        headline = f"Count of {item_id} at {location_id}: {first_qty - SHORT_BY} counted, {first_qty} expected (-{SHORT_BY})"
        see(tablet, headline)
        shot(tablet, "shift-tablet-approvals")
        tap_until(lambda: tablet.get_by_role("button", name="Approve").first,  # type: ignore[attr-defined]
                  tablet.get_by_text("Approved: count").first)  # type: ignore[attr-defined]
        assert query(server, "SELECT status, decided_by FROM count_reviews WHERE item_id = ? AND location_id = ?",
                     item_id, location_id) == [("approved", "u-mgr-1")]
        balance = query(server, "SELECT qty FROM balances WHERE item_id = ? AND location_id = ? AND status = 'available'",
                        item_id, location_id)
        assert balance == [(first_qty - SHORT_BY,)]

        # -- ... and the short pick is an exception for them.
        _panel(tablet, "Exceptions", "What was done (needed to resolve)", "Short picks (1)")
        summary = str(query(server, "SELECT summary FROM exceptions WHERE kind = 'pick_short'")[0][0])
        see(tablet, summary)
        shot(tablet, "shift-tablet-exceptions")
