"""bench.scan_feedback's figures: percentiles, the JSON object it ends with, the targets it judges.

The bench itself needs the demo stack and Chromium and takes about a minute even with --quick, so
it is run by hand (python -m bench.scan_feedback); these tests hold its arithmetic to account.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.hello_app import counter_text
from bench.scan_feedback import app_marker, percentile, report, result, summarize

REQUIRED = {"p50_ms", "p95_ms", "hello_p95_ms", "first_frame_s", "hello_first_frame_s"}


@settings(deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=200),
       st.floats(min_value=0, max_value=100))
def test_percentiles_match_numpys_default_method(samples: list[float], q: float) -> None:
    assert percentile(samples, q) == pytest.approx(float(np.percentile(samples, q)), rel=1e-9, abs=1e-9)


def test_percentile_of_nothing_or_out_of_range_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside 0-100"):
        percentile([1.0], 101)


def test_summary_of_one_to_a_hundred() -> None:
    s = summarize([float(i) for i in range(1, 101)])
    assert (s.n, s.p50, s.p95, s.max) == (100, 50.5, pytest.approx(95.05), 100.0)


def _result(app_ms: list[float], hello_ms: list[float], ff: float = 2.0, hello_ff: float = 2.0) -> dict[str, object]:
    return result(app_ms, hello_ms, [ff, ff + 0.1, ff - 0.1], [hello_ff] * 3, [ff + 0.5] * 3, [hello_ff + 0.5] * 3)


def test_the_json_object_carries_what_the_issue_asks_for_and_is_one_line() -> None:
    r = _result([40.0] * 100, [30.0] * 100)
    assert REQUIRED <= r.keys()
    line = json.dumps(r)
    assert "\n" not in line and json.loads(line) == r
    assert (r["p95_ms"], r["hello_p95_ms"], r["first_frame_s"], r["ratio_p95"]) == (40.0, 30.0, 2.0, 1.33)
    assert r["targets_met"] is True


@pytest.mark.parametrize(("app_p95", "hello_p95", "ff", "missed"), [
    (101.0, 60.0, 2.0, {"p95_le_100ms"}),
    (70.0, 30.0, 2.0, {"p95_le_2x_hello"}),
    (60.0, 30.0, 3.1, {"first_frame_le_1_5x_hello"}),
    (60.0, 30.0, 3.0, set()),
    (459.0, 11.0, 2.0, {"p95_le_100ms", "p95_le_2x_hello"}),
])
def test_each_target_is_judged_on_its_own(app_p95: float, hello_p95: float, ff: float, missed: set[str]) -> None:
    r = _result([app_p95] * 20, [hello_p95] * 20, ff=ff, hello_ff=2.0)
    targets = r["targets"]
    assert isinstance(targets, dict)
    assert {k for k, ok in targets.items() if not ok} == missed
    assert r["targets_met"] is (not missed)
    assert ("MISSED" in report(r)) is bool(missed)


def test_the_acknowledgements_waited_for_are_unique_per_count() -> None:
    # "· 1 scans" must not be found inside "· 11 scans", or a scan would be timed by an older answer.
    for n in range(1, 120):
        for m in range(1, 120):
            if m != n:
                assert app_marker(n) not in f"3 of 161 units {app_marker(m)}"
                assert counter_text(n) not in counter_text(m)
