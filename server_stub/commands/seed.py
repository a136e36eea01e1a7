"""`backroom seed`: migrate the service database, generate the demo store and load it.

Loading is an upsert in one transaction: seeding the same store again puts it back to its
generated state (stock included) without duplicating anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time

DEFAULT_DATABASE_URL = "sqlite:///var/server.db"
_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the seed options."""
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help=f"service database (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--store-id", default="store-001", help="store to create (default store-001)")
    parser.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same store")
    parser.add_argument("--items", type=int, default=5000, help="number of items (default 5000)")
    parser.add_argument("--locations", type=int, default=1500, help="number of locations (default 1500)")
    parser.add_argument("--today", action="store_true",
                        help="date the store's documents from 07:00 UTC today instead of a fixed Monday "
                             "(the demo uses it so that due times are today's)")


def run(args: argparse.Namespace) -> int:
    """Generate and load the store; print what was loaded and the demo logins."""
    from server_stub.db import create_engine_for, migrate
    from server_stub.masterdata import load_master_data
    from server_stub.seed import DEMO_USERS, generate_store

    if not _ID.fullmatch(args.store_id):
        print(f"store id '{args.store_id}' may only use letters, digits and . _ : - (at most 64)")
        return 2
    started = time.perf_counter()
    try:
        now = None
        if args.today:
            now = dt.datetime.now(dt.UTC).replace(hour=7, minute=0, second=0, microsecond=0)
        data = generate_store(args.seed, args.store_id, items=args.items, locations=args.locations, now=now)
    except ValueError as exc:
        print(f"cannot seed: {exc}")
        return 2
    engine = create_engine_for(args.database_url)
    try:
        migrate(engine)
        report = load_master_data(engine, data)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"Seeded store {data.store_id} (seed {args.seed}) into {_safe_url(args.database_url)} in {elapsed:.1f} s:")
    print(f"  {report.items} items, {report.locations} locations, {len(data.opening_balances)} opening balances")
    print(f"  {report.purchase_orders} purchase orders with {report.asns} ASNs, {report.orders} customer orders, "
          f"{report.tasks} tasks")
    print("Demo logins: scan or type the badge on the sign-in screen (demo only):")
    for user in DEMO_USERS:
        print(f"  {user.role.value:<10} {user.name:<15} badge {user.badge}  ({user.user_id})")
    return 0


def _safe_url(url: str) -> str:
    """The URL with any password hidden, for printing."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database"
