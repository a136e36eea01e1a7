"""Named, ordered migrations of the device's local store.

Each migration runs in its own transaction (SQLite DDL is transactional) and is recorded by name
in `schema_migrations`. Migrations are never edited once released: handhelds in the field carry
databases at every older step, with ops queued under them. Add a new one at the end instead.
The schema at head must equal `edge_sync.tables` (a test checks it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, Engine, text


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: a name that never changes and the SQL statements it runs."""

    name: str
    statements: tuple[str, ...]


def _split(sql: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in sql.split(";") if s.strip())


M0001_INITIAL = Migration(
    "0001_initial",
    _split(
        """
CREATE TABLE asns (
    asn_id VARCHAR NOT NULL, 
    po_id VARCHAR, 
    number VARCHAR NOT NULL, 
    sscc VARCHAR, 
    status VARCHAR NOT NULL, 
    expected_at VARCHAR(32), 
    PRIMARY KEY (asn_id)
);
CREATE INDEX ix_asns_number ON asns (number);
CREATE INDEX ix_asns_po_id ON asns (po_id);
CREATE INDEX ix_asns_sscc ON asns (sscc);
CREATE TABLE counts (
    count_id VARCHAR NOT NULL, 
    task_id VARCHAR, 
    location_id VARCHAR NOT NULL, 
    item_id VARCHAR NOT NULL, 
    attempt INTEGER NOT NULL, 
    counted_qty INTEGER NOT NULL, 
    expected_qty INTEGER NOT NULL, 
    started_at VARCHAR(32) NOT NULL, 
    counted_at VARCHAR(32) NOT NULL, 
    status VARCHAR NOT NULL, 
    approved_by VARCHAR, 
    PRIMARY KEY (count_id)
);
CREATE INDEX ix_counts_task_id ON counts (task_id);
CREATE TABLE customer_orders (
    order_id VARCHAR NOT NULL, 
    number VARCHAR NOT NULL, 
    kind VARCHAR NOT NULL, 
    allow_substitution BOOLEAN NOT NULL, 
    status VARCHAR NOT NULL, 
    due_at VARCHAR(32), 
    PRIMARY KEY (order_id)
);
CREATE INDEX ix_customer_orders_number ON customer_orders (number);
CREATE TABLE expected_lines (
    doc_kind VARCHAR NOT NULL, 
    doc_id VARCHAR NOT NULL, 
    line_id VARCHAR NOT NULL, 
    item_id VARCHAR, 
    gtin VARCHAR NOT NULL, 
    qty INTEGER NOT NULL, 
    PRIMARY KEY (doc_kind, doc_id, line_id)
);
CREATE TABLE item_gtins (
    gtin VARCHAR NOT NULL, 
    item_id VARCHAR NOT NULL, 
    units INTEGER NOT NULL, 
    PRIMARY KEY (gtin)
);
CREATE INDEX ix_item_gtins_item_id ON item_gtins (item_id);
CREATE TABLE items (
    item_id VARCHAR NOT NULL, 
    sku VARCHAR NOT NULL, 
    description VARCHAR NOT NULL, 
    unit VARCHAR NOT NULL, 
    home_location_id VARCHAR, 
    PRIMARY KEY (item_id)
);
CREATE INDEX ix_items_sku ON items (sku);
CREATE TABLE locations (
    location_id VARCHAR NOT NULL, 
    code VARCHAR NOT NULL, 
    zone VARCHAR NOT NULL, 
    kind VARCHAR NOT NULL, 
    aisle INTEGER, 
    bay INTEGER, 
    level INTEGER, 
    pick_sequence INTEGER NOT NULL, 
    capacity INTEGER NOT NULL, 
    PRIMARY KEY (location_id), 
    UNIQUE (code)
);
CREATE INDEX ix_locations_zone ON locations (zone);
CREATE TABLE order_lines (
    order_id VARCHAR NOT NULL, 
    line_id VARCHAR NOT NULL, 
    item_id VARCHAR NOT NULL, 
    qty INTEGER NOT NULL, 
    picked_qty INTEGER NOT NULL, 
    short_qty INTEGER NOT NULL, 
    substitute_item_id VARCHAR, 
    PRIMARY KEY (order_id, line_id)
);
CREATE TABLE outbox (
    seq INTEGER NOT NULL, 
    op_id VARCHAR NOT NULL, 
    type VARCHAR NOT NULL, 
    schema_version INTEGER NOT NULL, 
    user_id VARCHAR NOT NULL, 
    session_id VARCHAR NOT NULL, 
    occurred_at VARCHAR(32) NOT NULL, 
    clock_offset_ms INTEGER NOT NULL, 
    payload JSON NOT NULL, 
    state VARCHAR NOT NULL, 
    attempts INTEGER NOT NULL, 
    last_error VARCHAR, 
    result JSON, 
    command_id VARCHAR, 
    settled_at VARCHAR(32), 
    PRIMARY KEY (seq), 
    UNIQUE (op_id)
);
CREATE INDEX ix_outbox_command_id ON outbox (command_id);
CREATE INDEX ix_outbox_state_seq ON outbox (state, seq);
CREATE TABLE processed_commands (
    command_id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    result JSON, 
    at VARCHAR(32) NOT NULL, 
    PRIMARY KEY (command_id)
);
CREATE TABLE purchase_orders (
    po_id VARCHAR NOT NULL, 
    number VARCHAR NOT NULL, 
    supplier VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    expected_at VARCHAR(32), 
    PRIMARY KEY (po_id)
);
CREATE INDEX ix_purchase_orders_number ON purchase_orders (number);
CREATE TABLE receipt_lines (
    id INTEGER NOT NULL, 
    receipt_id VARCHAR NOT NULL, 
    gtin VARCHAR NOT NULL, 
    item_id VARCHAR, 
    lot VARCHAR NOT NULL, 
    expiry VARCHAR, 
    expected_qty INTEGER NOT NULL, 
    received_qty INTEGER NOT NULL, 
    damaged_qty INTEGER NOT NULL, 
    PRIMARY KEY (id), 
    CONSTRAINT uq_receipt_line UNIQUE (receipt_id, gtin, lot)
);
CREATE INDEX ix_receipt_lines_receipt_id ON receipt_lines (receipt_id);
CREATE TABLE receipts (
    receipt_id VARCHAR NOT NULL, 
    po_id VARCHAR, 
    asn_id VARCHAR, 
    dock_location_id VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    user_id VARCHAR NOT NULL, 
    opened_at VARCHAR(32) NOT NULL, 
    closed_at VARCHAR(32), 
    PRIMARY KEY (receipt_id)
);
CREATE TABLE stock (
    item_id VARCHAR NOT NULL, 
    location_id VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    qty INTEGER NOT NULL, 
    PRIMARY KEY (item_id, location_id, status)
);
CREATE TABLE sync_state (
    id INTEGER NOT NULL, 
    store_id VARCHAR NOT NULL, 
    device_id VARCHAR NOT NULL, 
    next_seq INTEGER NOT NULL, 
    cursor VARCHAR NOT NULL, 
    clock_offset_ms INTEGER NOT NULL, 
    last_push_at VARCHAR(32), 
    last_pull_at VARCHAR(32), 
    last_error VARCHAR, 
    PRIMARY KEY (id)
);
CREATE TABLE task_lines (
    task_id VARCHAR NOT NULL, 
    line_id VARCHAR NOT NULL, 
    item_id VARCHAR, 
    location_id VARCHAR, 
    qty INTEGER NOT NULL, 
    done_qty INTEGER NOT NULL, 
    PRIMARY KEY (task_id, line_id)
);
CREATE TABLE tasks (
    task_id VARCHAR NOT NULL, 
    type VARCHAR NOT NULL, 
    status VARCHAR NOT NULL, 
    priority INTEGER NOT NULL, 
    assignee_id VARCHAR, 
    due_at VARCHAR(32), 
    ref_id VARCHAR, 
    title VARCHAR NOT NULL, 
    lease_holder_device_id VARCHAR, 
    lease_holder_user_id VARCHAR, 
    lease_until VARCHAR(32), 
    created_at VARCHAR(32) NOT NULL, 
    PRIMARY KEY (task_id)
);
CREATE INDEX ix_tasks_assignee_id ON tasks (assignee_id);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_type ON tasks (type);
CREATE TABLE users (
    user_id VARCHAR NOT NULL, 
    name VARCHAR NOT NULL, 
    role VARCHAR NOT NULL, 
    badge VARCHAR, 
    PRIMARY KEY (user_id)
);
CREATE INDEX ix_users_badge ON users (badge);

"""
    ),
)

M0002_PARKED_RESOLUTION_AND_SCAN_LOG = Migration(
    "0002_parked_resolution_and_scan_log",
    _split(
        """
ALTER TABLE outbox ADD COLUMN resolution VARCHAR;
CREATE TABLE scan_log (
    id INTEGER NOT NULL,
    at VARCHAR(32) NOT NULL,
    source VARCHAR NOT NULL,
    symbology VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    user_id VARCHAR,
    PRIMARY KEY (id)
);
CREATE INDEX ix_scan_log_at ON scan_log (at);
"""
    ),
)

M0003_SCAN_PATH_INDEXES = Migration(
    "0003_scan_path_indexes",
    _split(
        """
CREATE INDEX ix_receipt_lines_receipt_item ON receipt_lines (receipt_id, item_id);
DROP INDEX ix_receipt_lines_receipt_id;
DROP INDEX ix_outbox_command_id;
CREATE TABLE processed_commands_new (
    command_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    result JSON,
    at VARCHAR(32) NOT NULL,
    PRIMARY KEY (command_id)
) WITHOUT ROWID;
INSERT INTO processed_commands_new SELECT command_id, name, result, at FROM processed_commands;
DROP TABLE processed_commands;
ALTER TABLE processed_commands_new RENAME TO processed_commands;
"""
    ),
)
"""Every scan writes a receipt line, an op and a command id: fewer b-trees, fewer pages to sync.
A scan's lines are found by (receipt, item); (receipt_id) alone and outbox.command_id were unused."""

M0004_SYNC_OVERLAY = Migration(
    "0004_sync_overlay",
    _split(
        """
ALTER TABLE outbox ADD COLUMN feed_seen BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN last_attempt_at VARCHAR(32);
ALTER TABLE sync_state ADD COLUMN last_success_at VARCHAR(32);
ALTER TABLE sync_state ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
CREATE TABLE server_stock (
    item_id VARCHAR NOT NULL,
    location_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    qty INTEGER NOT NULL,
    PRIMARY KEY (item_id, location_id, status)
);
INSERT INTO server_stock SELECT item_id, location_id, status, qty FROM stock;
CREATE TABLE local_moves (
    id INTEGER NOT NULL,
    seq INTEGER,
    item_id VARCHAR NOT NULL,
    location_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    delta INTEGER NOT NULL,
    PRIMARY KEY (id)
);
CREATE INDEX ix_local_moves_seq ON local_moves (seq);
CREATE INDEX ix_local_moves_key ON local_moves (item_id, location_id, status);
CREATE TABLE deferred_records (
    kind VARCHAR NOT NULL,
    "key" VARCHAR NOT NULL,
    data JSON NOT NULL,
    PRIMARY KEY (kind, "key")
);
"""
    ),
)
"""What the associate sees is the service's state plus this device's own work not yet reflected in
it: pulled balances go to server_stock, the device's own movements to local_moves, and records
its unacknowledged ops change wait in deferred_records. Stock on a database from before this step
is taken as the service's."""

M0005_OP_REFS = Migration(
    "0005_op_refs",
    _split(
        """
CREATE TABLE op_refs (
    kind VARCHAR NOT NULL,
    "key" VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (kind, "key", seq)
) WITHOUT ROWID;
CREATE INDEX ix_op_refs_seq ON op_refs (seq);
INSERT OR IGNORE INTO op_refs (kind, "key", seq)
    SELECT 'task', json_extract(payload, '$.task_id'), seq FROM outbox
    WHERE feed_seen = 0 AND state NOT IN ('dismissed', 'resent') AND json_extract(payload, '$.task_id') IS NOT NULL;
INSERT OR IGNORE INTO op_refs (kind, "key", seq)
    SELECT 'order', json_extract(payload, '$.order_id'), seq FROM outbox
    WHERE feed_seen = 0 AND state NOT IN ('dismissed', 'resent') AND json_extract(payload, '$.order_id') IS NOT NULL;
"""
    ),
)
"""The tasks and orders each unacknowledged op changes, written when the op is appended, so a pull
asks a small table instead of reading every queued payload (bench/drain.py)."""

M0006_PEOPLE_AND_AT_REST = Migration(
    "0006_people_and_at_rest",
    _split(
        """
ALTER TABLE users ADD COLUMN pin_hash VARCHAR;
ALTER TABLE customer_orders ADD COLUMN customer_name VARCHAR NOT NULL DEFAULT '';
ALTER TABLE customer_orders ADD COLUMN customer_phone VARCHAR NOT NULL DEFAULT '';
CREATE TABLE sessions (
    session_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    device_id VARCHAR NOT NULL,
    started_at VARCHAR(32) NOT NULL,
    expires_at VARCHAR(32) NOT NULL,
    started_online BOOLEAN NOT NULL,
    ended_at VARCHAR(32),
    PRIMARY KEY (session_id)
);
CREATE TABLE sign_in_failures (
    user_id VARCHAR NOT NULL,
    failures INTEGER NOT NULL,
    locked_until VARCHAR(32),
    PRIMARY KEY (user_id)
);
CREATE TABLE crypto_keys (
    name VARCHAR NOT NULL,
    key_id VARCHAR NOT NULL,
    PRIMARY KEY (name)
);
"""
    ),
)
"""PIN sign-in and sessions on the device, and the at-rest columns: PIN hashes and the customer's
name and phone on orders are stored encrypted (edge_sync.crypto); `crypto_keys` holds the id of
the keystore key, never the key."""

M0007_COMMAND_OUTCOMES_ON_OPS = Migration(
    "0007_command_outcomes_on_ops",
    _split(
        """
ALTER TABLE outbox ADD COLUMN outcome JSON;
CREATE TABLE processed_commands_new (
    command_id VARCHAR NOT NULL,
    seq INTEGER,
    result JSON,
    name VARCHAR,
    at VARCHAR(32),
    PRIMARY KEY (command_id)
) WITHOUT ROWID;
INSERT INTO processed_commands_new (command_id, seq, result, name, at)
    SELECT command_id, NULL, result, name, at FROM processed_commands;
DROP TABLE processed_commands;
ALTER TABLE processed_commands_new RENAME TO processed_commands;
"""
    ),
)
"""A handled command's outcome goes on the row of the op it queued (`outbox.outcome`, written in the
same transaction, on a page that transaction writes anyway), and its processed_commands row keeps
only the command id and that op's seq: ~45-byte rows instead of ~350. That table is WITHOUT ROWID
(whole rows in its interior pages too), so fat rows split it every few scans: a new-line scan wrote
~1.9 of its pages. The op's row already says what the command was and when (type, occurred_at,
command_id), so `name` and `at` are kept only for a command that queued no op, which also keeps its
outcome in `result`, as every row written before this step does: a repeat of any of them still
answers the stored outcome."""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    M0001_INITIAL,
    M0002_PARKED_RESOLUTION_AND_SCAN_LOG,
    M0003_SCAN_PATH_INDEXES,
    M0004_SYNC_OVERLAY,
    M0005_OP_REFS,
    M0006_PEOPLE_AND_AT_REST,
    M0007_COMMAND_OUTCOMES_ON_OPS,
)

_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    name VARCHAR PRIMARY KEY, applied_at VARCHAR NOT NULL)"""


def applied(conn: Connection) -> list[str]:
    """Names of the migrations this database has, in the order they ran."""
    conn.execute(text(_LEDGER))
    rows = conn.execute(text("SELECT name FROM schema_migrations ORDER BY rowid"))
    return [r[0] for r in rows]


def migrate(engine: Engine, *, target: str | None = None) -> list[str]:
    """Apply every pending migration up to `target` (default: head); return the names applied."""
    names = [m.name for m in MIGRATIONS]
    if target is not None and target not in names:
        raise ValueError(f"unknown migration {target!r}")
    stop = names.index(target) + 1 if target else len(names)
    done: list[str] = []
    with engine.begin() as conn:
        have = applied(conn)
    unknown = [n for n in have if n not in names]
    if unknown:
        raise RuntimeError(
            f"this database was written by a newer Backroom ({', '.join(unknown)}); update the app"
        )
    for migration in MIGRATIONS[:stop]:
        if migration.name in have:
            continue
        with engine.begin() as conn:
            for statement in migration.statements:
                conn.execute(text(statement))
            conn.execute(
                text("INSERT INTO schema_migrations (name, applied_at) VALUES (:n, :t)"),
                {"n": migration.name, "t": dt.datetime.now(dt.UTC).isoformat()},
            )
        done.append(migration.name)
    return done
