"""Camera decoding: our pipeline beside raw zxing-cpp and raw pyzbar, on one generated corpus.

    python -m bench.decode           # 4 scenes per (size, symbology, condition): ~300 scenes
    python -m bench.decode --quick   # 1 per cell, under 60 s

The corpus (`bench.decode_corpus`) is generated here from a seed: EAN-13, UPC-A, Code 128, GS1-128,
GS1 DataMatrix, QR; clean, blurred, noisy, low contrast, tilted 5-45 degrees, perspective; 1280x720
and 640x480; some scenes with no code. Each scene is a code held in front of the camera for
`--frames` frames (3 = 100 ms at 30 fps), each frame with its own noise and shake.

Three readers see the same frames, in an order that rotates per frame so machine noise falls on all:

- ours: `device.scanners.camera.CameraScanner` (budgeted decoding, region deskew and retries,
  check digits, a value must repeat in two consecutive frames);
- raw zxing-cpp: `read_barcodes(frame, formats=<the store's symbologies>, try_invert=False)`, its other
  options at their defaults (the field notes' best raw setting);
- raw pyzbar: `pyzbar.decode(frame, symbols=<the store's symbologies>)`.

A scene counts as read by a raw decoder if ANY of its frames decoded the right value (no
confirmation asked of them); by ours only if the pipeline confirmed it. A false read is any value
reported that is not the scene's code (for raw decoders: per frame). Times are per frame, in ms.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import zxingcpp
from pyzbar import pyzbar

from bench.decode_corpus import CONDITIONS, KINDS, Scene, canonical, make_scenes
from device.decoders import _FORMATS, _ZBAR_SYMBOLS
from device.scanners.camera import CameraScanner, FrameSource

SIZES = ((1280, 720), (640, 480))
BUDGET_MS = 1000 / 30


def _pct(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))] if ordered else 0.0


class _NoSource:
    def next_frame(self, timeout: float) -> None:
        return None

    def close(self) -> None:
        return None


def _raw_zxing(frame: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(frame, formats=_FORMATS, try_invert=False,
                                                   text_mode=zxingcpp.TextMode.Plain)]


def _raw_zbar(frame: np.ndarray) -> list[str]:
    return [r.data.decode("latin-1") for r in pyzbar.decode(frame, symbols=_ZBAR_SYMBOLS)]


class _Tally:
    def __init__(self) -> None:
        self.scenes: dict[tuple[int, int], int] = defaultdict(int)
        self.read: dict[Any, int] = defaultdict(int)
        self.false = 0
        self.ms: dict[tuple[int, int], list[float]] = defaultdict(list)


def run(per_cell: int, frames: int, seed: int) -> dict[str, Any]:
    """Run the three readers over the corpus; returns the figures."""
    names = ("ours", "zxing", "zbar")
    tallies = {n: _Tally() for n in names}
    cells: dict[tuple[str, str], int] = defaultdict(int)
    false_examples: list[str] = []
    turn = 0
    for scene in make_scenes(seed, SIZES, per_cell, frames):
        scanner = CameraScanner(_NoSource(), name="bench")  # a new hold: nothing carried over
        source: FrameSource = scanner.source
        del source
        got: dict[str, set[str]] = {n: set() for n in names}
        readers: dict[str, Callable[[np.ndarray], list[str]]] = {
            "ours": lambda f: [e.text for e in scanner.process(f)],
            "zxing": _raw_zxing,
            "zbar": _raw_zbar,
        }
        for frame in scene.frames:
            order = names[turn % 3:] + names[: turn % 3]
            turn += 1
            for n in order:
                t0 = time.perf_counter()
                values = readers[n](frame)
                tallies[n].ms[scene.size].append((time.perf_counter() - t0) * 1000)
                wrong = {canonical(v) for v in values} - {scene.expected}
                if wrong:
                    tallies[n].false += len(wrong)
                    if n == "ours":
                        false_examples.append(f"{scene.kind}/{scene.condition}: {sorted(wrong)} for {scene.expected}")
                got[n] |= {canonical(v) for v in values}
        for n in names:
            tallies[n].scenes[scene.size] += 1
            if scene.expected is not None and scene.expected in got[n]:
                tallies[n].read[scene.size] += 1
                tallies[n].read[(scene.size, scene.kind, scene.condition)] += 1
        if scene.expected is not None:
            cells[(scene.kind, scene.condition)] += 1
            cells[(scene.size, scene.kind, scene.condition)] += 1  # type: ignore[index]
        else:
            for n in names:
                tallies[n].scenes[(0, 0)] += 1
    return {"tallies": tallies, "cells": cells, "false_examples": false_examples}


def _coded(t: _Tally, size: tuple[int, int], cells: dict[Any, int]) -> int:
    return sum(v for k, v in cells.items() if isinstance(k[0], tuple) and k[0] == size)


def main(argv: list[str] | None = None) -> int:
    """Print the comparison table and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one scene per cell (under 60 s)")
    parser.add_argument("--frames", type=int, default=3, help="frames per held scene (default 3)")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    per_cell = 1 if args.quick else 4
    started = time.perf_counter()
    result = run(per_cell, args.frames, args.seed)
    tallies: dict[str, _Tally] = result["tallies"]
    cells = result["cells"]
    figures: dict[str, Any] = {}
    print(f"Camera decoding, {per_cell} scene(s) per size x symbology x condition, {args.frames} frames per scene")
    print(f"{'reader':<8} {'size':>9} {'read':>12} {'false':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for size in SIZES:
        coded = _coded(tallies["ours"], size, cells)
        tag = f"{size[1]}p"
        for n, label in (("ours", "ours"), ("zxing", "zxing"), ("zbar", "zbar")):
            t = tallies[n]
            ms = t.ms[size]
            rate = t.read[size] / coded if coded else 0.0
            print(f"{label:<8} {size[0]}x{size[1]:<4} {t.read[size]:>4}/{coded:<4} {rate:>3.0%} {'':>1}"
                  f"{'':>5} {statistics.median(ms):>10.1f} {_pct(ms, 95):>8.1f} {max(ms):>8.1f}")
            prefix = "" if n == "ours" else f"{n}_"
            figures[f"{prefix}read_rate_{tag}"] = round(rate, 4)
            figures[f"{prefix}median_ms_{tag}"] = round(statistics.median(ms), 2)
            figures[f"{prefix}p95_ms_{tag}"] = round(_pct(ms, 95), 2)
    print("\nfalse reads (whole run): " + ", ".join(f"{n} {tallies[n].false}" for n in ("ours", "zxing", "zbar")))
    for example in result["false_examples"][:5]:
        print("  ours:", example)
    print("\nread rate per symbology and condition, 1280x720 (ours / zxing / zbar):")
    print(f"{'':<16}" + "".join(f"{c:>15}" for c in CONDITIONS))
    for kind in KINDS:
        row = f"{kind:<16}"
        for cond in CONDITIONS:
            n = cells.get(((1280, 720), kind, cond), 0)  # type: ignore[call-overload]
            vals = [tallies[r].read[((1280, 720), kind, cond)] for r in ("ours", "zxing", "zbar")]
            row += f"{'/'.join(str(v) for v in vals) + f' of {n}':>15}"
        print(row)
    figures["false_reads"] = tallies["ours"].false
    figures["zxing_false_reads"] = tallies["zxing"].false
    figures["zbar_false_reads"] = tallies["zbar"].false
    figures["empty_scenes"] = tallies["ours"].scenes[(0, 0)]
    figures["frames_per_scene"] = args.frames
    figures["budget_ms"] = round(BUDGET_MS, 1)
    better = max(figures["zxing_read_rate_720p"], figures["zbar_read_rate_720p"])
    checks = {
        "read_rate_above_best_raw": figures["read_rate_720p"] > better,
        "zero_false_reads": figures["false_reads"] == 0,
        "median_within_1.2x_zxing": figures["median_ms_720p"] <= 1.2 * figures["zxing_median_ms_720p"],
        "p95_within_33ms": figures["p95_ms_720p"] <= BUDGET_MS,
    }
    print("\ntargets (720p): " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in checks.items()))
    figures["targets_met"] = all(checks.values())
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
