"""The central service's schema, as SQLAlchemy Core tables.

Every primary key and unique constraint starts with `store_id`, so the schema can be distributed
by store (Citus: `store_id` as the distribution column) without change. A test checks this.

Master data tables keep the record as the contract dumps it in `data` (what the change feed sends)
next to the columns the server queries on. Mutable state (tasks, devices, balances) lives in
columns. The ledger is append-only; `balances` is derived from it in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps `timestamptz`; SQLite stores naive UTC text (which sorts correctly), and the
    UTC zone is put back on the way out. A naive value coming in is taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        else:
            value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _id(name: str, **kw: Any) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), **kw)


def _store() -> sa.Column[str]:
    return sa.Column("store_id", sa.String(64), nullable=False)


# --- stores and their counters ------------------------------------------------------------------

stores = sa.Table(
    "stores",
    metadata,
    _store(),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Per-store sequence counters. A writer locks this row for its whole transaction, so numbers
    # are handed out in commit order: a reader paging by seq never skips a later-committed lower seq.
    sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("erp_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("ledger_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("exception_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("approval_seq", sa.BigInteger, nullable=False, server_default="0"),
    # A random token written by every load of the store's master data (server_stub.lookups).
    sa.Column("master_version", sa.String(32), nullable=False, server_default=""),
    # The latest effective time of a count posted in the store (None: never): a movement at or
    # after it cannot precede any count, so it needs no rebase (StoreTx._rebase_on_counts).
    sa.Column("last_count_at", UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint("store_id"),
)

# --- master data ----------------------------------------------------------------------------------

items = sa.Table(
    "items",
    metadata,
    _store(),
    _id("item_id", nullable=False),
    _id("sku", nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "item_id"),
)

item_gtins = sa.Table(
    "item_gtins",
    metadata,
    _store(),
    sa.Column("gtin", sa.String(14), nullable=False),
    _id("item_id", nullable=False),
    sa.Column("pack_qty", sa.Integer, nullable=False, server_default="1"),
    sa.PrimaryKeyConstraint("store_id", "gtin"),
    sa.Index(None, "store_id", "item_id"),
)

locations = sa.Table(
    "locations",
    metadata,
    _store(),
    _id("location_id", nullable=False),
    _id("code", nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False, server_default="0"),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "location_id"),
)

users = sa.Table(
    "users",
    metadata,
    _store(),
    _id("user_id", nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "user_id"),
)

purchase_orders = sa.Table(
    "purchase_orders",
    metadata,
    _store(),
    _id("po_id", nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "po_id"),
)

asns = sa.Table(
    "asns",
    metadata,
    _store(),
    _id("asn_id", nullable=False),
    _id("po_id", nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "asn_id"),
)

orders = sa.Table(
    "orders",
    metadata,
    _store(),
    _id("order_id", nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("allow_substitution", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "order_id"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    _store(),
    _id("order_id", nullable=False),
    _id("line_id", nullable=False),
    _id("item_id", nullable=False),
    sa.Column("qty", sa.Integer, nullable=False),
    sa.Column("picked_qty", sa.Integer, nullable=False, server_default="0"),
    sa.Column("short_qty", sa.Integer, nullable=False, server_default="0"),
    sa.Column("staged_qty", sa.Integer, nullable=False, server_default="0"),
    _id("last_picked_device_id", nullable=True),
    _id("last_picked_user_id", nullable=True),
    sa.PrimaryKeyConstraint("store_id", "order_id", "line_id"),
)

# --- tasks ----------------------------------------------------------------------------------------

tasks = sa.Table(
    "tasks",
    metadata,
    _store(),
    _id("task_id", nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    _id("assignee_id", nullable=True),
    sa.Column("due_at", UTCDateTime(), nullable=True),
    _id("ref_id", nullable=True),
    sa.Column("title", sa.String(500), nullable=False, server_default=""),
    _id("lease_device_id", nullable=True),
    _id("lease_user_id", nullable=True),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    _id("completed_by_device_id", nullable=True),
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "task_id"),
    sa.Index(None, "store_id", "status", "priority"),
)

# --- devices and ops ------------------------------------------------------------------------------

devices = sa.Table(
    "devices",
    metadata,
    _store(),
    _id("device_id", nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("first_seen_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    sa.Column("last_op_at", UTCDateTime(), nullable=True),
    sa.Column("lag_ms", sa.BigInteger, nullable=True),
    _id("last_user_id", nullable=True),
    sa.Column("pending", sa.Integer, nullable=False, server_default="0"),
    sa.Column("parked", sa.Integer, nullable=False, server_default="0"),
    sa.Column("oldest_pending_at", UTCDateTime(), nullable=True),
    sa.Column("app_version", sa.String(32), nullable=False, server_default=""),
    sa.PrimaryKeyConstraint("store_id", "device_id"),
)

ops = sa.Table(
    "ops",
    metadata,
    _store(),
    sa.Column("op_id", sa.Uuid, nullable=False),
    _id("device_id", nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    _id("user_id", nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("effective_at", UTCDateTime(), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"),
    # The op's result in the change feed (server_stub.feeds); 0 for ops stored before migration
    # 0005, whose results are rows of `changes`.
    sa.PrimaryKeyConstraint("store_id", "op_id"),
    sa.UniqueConstraint("store_id", "device_id", "seq"),
    sa.Index(None, "store_id", "change_seq"),
)

# --- stock ----------------------------------------------------------------------------------------

ledger = sa.Table(
    "ledger",
    metadata,
    _store(),
    sa.Column("entry_seq", sa.BigInteger, nullable=False),
    _id("item_id", nullable=False),
    _id("location_id", nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("delta", sa.Integer, nullable=False),
    sa.Column("effective_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("op_id", sa.Uuid, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "entry_seq"),
    sa.Index(None, "store_id", "item_id", "location_id", "effective_at"),
    # The count anchors a flush rebases late movements on (`StoreTx._rebase_on_counts`): only the
    # counts' own entries, so the lookup no longer walks every movement of a key.
    sa.Index(
        "ix_ledger_count_anchors", "store_id", "item_id", "location_id", "effective_at",
        sqlite_where=sa.text("reason = 'count' AND status = 'available'"),
        postgresql_where=sa.text("reason = 'count' AND status = 'available'"),
    ),
)

balances = sa.Table(
    "balances",
    metadata,
    _store(),
    _id("item_id", nullable=False),
    _id("location_id", nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("qty", sa.BigInteger, nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"),
    # The balance's place in the change feed (server_stub.feeds): set anew by every change of `qty`.
    sa.PrimaryKeyConstraint("store_id", "item_id", "location_id", "status"),
    sa.Index(None, "store_id", "location_id"),
    sa.Index(None, "store_id", "change_seq"),
)

occupancy = sa.Table(
    "occupancy",
    metadata,
    _store(),
    _id("location_id", nullable=False),
    # Units physically at the location: its balances of every status but in_transit, summed; kept
    # in step with `balances` in the same transaction (StoreTx.flush), proved by verify_balances.
    sa.Column("qty", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "location_id"),
)

receipts = sa.Table(
    "receipts",
    metadata,
    _store(),
    _id("receipt_id", nullable=False),
    _id("po_id", nullable=True),
    _id("asn_id", nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("closed_by_op_id", sa.Uuid, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "receipt_id"),
)

receipt_lines = sa.Table(
    "receipt_lines",
    metadata,
    _store(),
    _id("receipt_id", nullable=False),
    sa.Column("gtin", sa.String(14), nullable=False),
    _id("item_id", nullable=True),
    sa.Column("received_qty", sa.Integer, nullable=False, server_default="0"),
    sa.Column("damaged_qty", sa.Integer, nullable=False, server_default="0"),
    _id("over_receipt_exception_id", nullable=True),
    sa.PrimaryKeyConstraint("store_id", "receipt_id", "gtin"),
)

count_reviews = sa.Table(
    "count_reviews",
    metadata,
    _store(),
    _id("approval_id", nullable=False),
    _id("count_id", nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    _id("item_id", nullable=False),
    _id("location_id", nullable=False),
    sa.Column("counted_qty", sa.Integer, nullable=False),
    sa.Column("balance_qty", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("counted_at", UTCDateTime(), nullable=False),
    sa.Column("op_id", sa.Uuid, nullable=True),
    _id("device_id", nullable=True),
    _id("user_id", nullable=True),
    _id("exception_id", nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    _id("decided_by", nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Column("note", sa.String(500), nullable=True),
    sa.Column("posted_qty", sa.Integer, nullable=True),
    sa.PrimaryKeyConstraint("store_id", "approval_id"),
    sa.Index(None, "store_id", "status"),
)

# --- exceptions, change feed, ERP feed ------------------------------------------------------------

exceptions = sa.Table(
    "exceptions",
    metadata,
    _store(),
    _id("exception_id", nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("summary", sa.String(500), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("op_id", sa.Uuid, nullable=True),
    _id("device_id", nullable=True),
    _id("user_id", nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    _id("resolved_by", nullable=True),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("resolution_note", sa.String(500), nullable=True),
    sa.PrimaryKeyConstraint("store_id", "exception_id"),
    sa.Index(None, "store_id", "status", "kind"),
)

changes = sa.Table(
    "changes",
    metadata,
    _store(),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "change_seq"),
)

erp_events = sa.Table(
    "erp_events",
    metadata,
    _store(),
    sa.Column("event_seq", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("op_id", sa.Uuid, nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.PrimaryKeyConstraint("store_id", "event_seq"),
)

# --- people: sessions as the service recorded them (server_stub.sessions) ----------------------

sessions = sa.Table(
    "sessions",
    metadata,
    _store(),
    _id("session_id", nullable=False),
    _id("user_id", nullable=False),
    _id("device_id", nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("started_online", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "session_id"),
)

# --- devices enrolled to sign requests, and the nonces they used (server_stub.devices) ----------

device_enrolments = sa.Table(
    "device_enrolments",
    metadata,
    _store(),
    _id("device_id", nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("name", sa.String(120), nullable=False, server_default=""),
    sa.Column("requested_at", UTCDateTime(), nullable=False),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    _id("decided_by", nullable=True),
    sa.PrimaryKeyConstraint("store_id", "device_id"),
)

request_nonces = sa.Table(
    "request_nonces",
    metadata,
    _store(),
    _id("device_id", nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("store_id", "device_id", "nonce"),
    sa.Index(None, "store_id", "expires_at"),
)
