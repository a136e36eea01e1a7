"""`backroom import {items,locations,purchase-orders} FILE`: load master data from CSV or JSON.

Every row is checked first; if any row is bad nothing is written and each bad row is listed with
its number and reason. Exit code 0 when the file was imported, 1 when it was refused, 2 on usage
errors. Column and field names: see `server_stub.importer` or assets/samples/README.md.
"""

from __future__ import annotations

import argparse
import re
import sys

DEFAULT_DATABASE_URL = "sqlite:///var/server.db"
_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the import arguments."""
    parser.add_argument("kind", choices=("items", "locations", "purchase-orders"), help="what the file holds")
    parser.add_argument("file", help="the CSV or JSON file")
    parser.add_argument("--format", choices=("csv", "json"), default=None,
                        help="file format (default: from the file extension)")
    parser.add_argument("--store-id", default="store-001", help="store to import into (default store-001)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help=f"service database (default {DEFAULT_DATABASE_URL})")


def run(args: argparse.Namespace) -> int:
    """Check and import the file; print the report."""
    from sqlalchemy.exc import SQLAlchemyError

    from server_stub.db import create_engine_for, migrate
    from server_stub.importer import ImportKind, import_file

    if not _ID.fullmatch(args.store_id):
        print(f"store id '{args.store_id}' may only use letters, digits and . _ : - (at most 64)", file=sys.stderr)
        return 2
    engine = create_engine_for(args.database_url)
    try:
        migrate(engine)
        report = import_file(engine, ImportKind(args.kind), args.file, store_id=args.store_id, fmt=args.format)
    except SQLAlchemyError as exc:
        print(f"{args.file}: the database refused the import, nothing was written: {exc.__class__.__name__}: "
              f"{str(exc).splitlines()[0][:300]}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(report.describe())
    return 0 if report.ok and report.written else 1
