"""`backroom devices`: an operator lists, approves and revokes devices, straight in the service database.

    backroom devices list    --database-url URL --store-id S [--status pending]
    backroom devices approve --database-url URL --store-id S DEVICE_ID [--by NAME]
    backroom devices revoke  --database-url URL --store-id S DEVICE_ID [--by NAME]

For the first manager device of a store (no one can approve over the API yet), the demo, and
an admin at the server; managers otherwise approve from their tablet.
"""

from __future__ import annotations

import argparse

DEFAULT_DATABASE_URL = "sqlite:///var/server.db"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the devices subcommands."""
    parser.add_argument("action", choices=("list", "approve", "revoke"))
    parser.add_argument("device_id", nargs="?", help="the device to approve or revoke")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help=f"service database (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--store-id", default="store-001", help="the device's store (default store-001)")
    parser.add_argument("--status", choices=("pending", "approved", "revoked"), help="list only these")
    parser.add_argument("--by", default="operator", help="who decides, kept with the decision (default operator)")


def run(args: argparse.Namespace) -> int:
    """List, approve or revoke; print the outcome. 0 when done, 1 when refused, 2 for bad arguments."""
    from server_stub import devices
    from server_stub.db import create_engine_for, migrate, read_transaction, write_transaction
    from server_stub.errors import ServiceError
    from server_stub.txn import utcnow

    if args.action != "list" and not args.device_id:
        print(f"say which device to {args.action}: backroom devices {args.action} DEVICE_ID --store-id {args.store_id}")
        return 2
    engine = create_engine_for(args.database_url)
    try:
        migrate(engine)
        if args.action == "list":
            with read_transaction(engine) as conn:
                records = devices.list_enrolments(conn, args.store_id, args.status)
            for r in records:
                print(f"{r.device_id:24} {r.status:9} {r.name or '-':30} asked {r.requested_at:%Y-%m-%d %H:%M}Z")
            if not records:
                print(f"no {args.status or ''} devices in store {args.store_id}".replace("  ", " "))
            return 0
        decide = devices.approve if args.action == "approve" else devices.revoke
        try:
            with write_transaction(engine) as conn:
                record = decide(conn, args.store_id, args.device_id, by=args.by, now=utcnow())
        except ServiceError as exc:
            print(f"not done: {exc.message}")
            return 1
        print(f"device {record.device_id} in store {record.store_id} is {record.status} (by {record.decided_by})")
        return 0
    finally:
        engine.dispose()
