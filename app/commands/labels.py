"""`backroom labels`: location and item labels for the seeded store, ready to print.

Writes to a folder (default var/labels/): `locations.html` and `items.html` (printable A4 sheets of
SVG labels), one PNG per label under `png/`, and `labels.zpl` for a Zebra printer. All label
making is in `device.labels`; this command only picks what to print from the seeded store.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

DEFAULT_OUT = Path("var/labels")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the labels options."""
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--store-id", default="store-001", help="store to print for (default store-001)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo store (default 42)")
    parser.add_argument("--items", type=int, default=100,
                        help="item labels for the first N items, one per GTIN (default 100; 0 for none)")
    parser.add_argument("--locations", type=int, default=-1,
                        help="location labels for the first N locations (default all; 0 for none)")
    parser.add_argument("--no-png", action="store_true", help="skip the PNG files")


def run(args: argparse.Namespace) -> int:
    """Generate the store, make its labels and write them out; print what was written."""
    from device.errors import DeviceError
    from device.labels import Label, item_label, location_label, render_png, render_sheet, zpl_document
    from server_stub.seed import generate_store

    started = time.perf_counter()
    store = generate_store(args.seed, args.store_id)
    locations = store.locations if args.locations < 0 else store.locations[: args.locations]
    items = store.items[: max(args.items, 0)]
    try:
        loc_labels = [location_label(loc.code) for loc in locations]
        item_labels: list[Label] = [item_label(gtin, item.description[:40]) for item in items for gtin in item.gtins]
    except DeviceError as exc:
        print(f"labels: {exc.message} {exc.detail}")
        return 1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "locations.html").write_text(render_sheet(loc_labels, title=f"{store.store_id}: location labels"))
    (out / "items.html").write_text(render_sheet(item_labels, title=f"{store.store_id}: item labels"))
    (out / "labels.zpl").write_text(zpl_document([*loc_labels, *item_labels]))
    if not args.no_png:
        for folder, labels in (("locations", loc_labels), ("items", item_labels)):
            target = out / "png" / folder
            target.mkdir(parents=True, exist_ok=True)
            for label in labels:
                (target / f"{_SAFE.sub('_', label.expected or label.data)}.png").write_bytes(render_png(label))
    print(f"{len(loc_labels)} location labels and {len(item_labels)} item labels for {store.store_id} "
          f"in {out}/ (locations.html, items.html, labels.zpl{', png/' if not args.no_png else ''}) "
          f"in {time.perf_counter() - started:.1f} s")
    return 0
