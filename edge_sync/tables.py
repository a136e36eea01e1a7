"""The device's local store: every table, as SQLModel classes.

These classes are the schema at head. The database itself is built and upgraded only by the named
migrations in `edge_sync.migrations`; a test checks that migrating an empty file to head gives
exactly these tables, columns and indexes. Queries on the hot path use SQLAlchemy Core against
`Model.__table__` (the ORM costs several times more per row, see bench/scan_to_durable.py).

Times are timezone-aware UTC, stored as ISO-8601 text by `UtcDateTime`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes stored as ISO-8601 text, so they sort and compare as text in SQL."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the local store keeps aware UTC times only")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: str | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else dt.datetime.fromisoformat(value)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable, index=index))


def _json(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSON(), nullable=nullable))


# --- master data (pulled from the central service) -------------------------------------------


class Item(SQLModel, table=True):
    __tablename__ = "items"
    item_id: str = Field(primary_key=True)
    sku: str = Field(index=True)
    description: str
    unit: str = "each"
    home_location_id: str | None = None


class ItemGtin(SQLModel, table=True):
    """One row per GTIN an item is sold or shipped under; `units` is the pack size."""

    __tablename__ = "item_gtins"
    gtin: str = Field(primary_key=True)
    item_id: str = Field(index=True)
    units: int = 1


class Location(SQLModel, table=True):
    __tablename__ = "locations"
    location_id: str = Field(primary_key=True)
    code: str = Field(unique=True)
    zone: str = Field(index=True)
    kind: str
    aisle: int | None = None
    bay: int | None = None
    level: int | None = None
    pick_sequence: int = 0
    capacity: int = 0


class User(SQLModel, table=True):
    __tablename__ = "users"
    user_id: str = Field(primary_key=True)
    name: str
    role: str
    badge: str | None = Field(default=None, index=True)
    pin_hash: str | None = None
    """Encrypted (edge_sync.crypto): the scrypt hash of the PIN, as the service sent it."""


# --- documents --------------------------------------------------------------------------------


class PurchaseOrder(SQLModel, table=True):
    __tablename__ = "purchase_orders"
    po_id: str = Field(primary_key=True)
    number: str = Field(index=True)
    supplier: str
    status: str = "open"
    expected_at: dt.datetime | None = _ts(nullable=True)


class Asn(SQLModel, table=True):
    __tablename__ = "asns"
    asn_id: str = Field(primary_key=True)
    po_id: str | None = Field(default=None, index=True)
    number: str = Field(index=True)
    sscc: str | None = Field(default=None, index=True)
    status: str = "open"
    expected_at: dt.datetime | None = _ts(nullable=True)


class ExpectedLine(SQLModel, table=True):
    """An expected line of a PO (`doc_kind` "po") or an ASN (`doc_kind` "asn")."""

    __tablename__ = "expected_lines"
    doc_kind: str = Field(primary_key=True)
    doc_id: str = Field(primary_key=True)
    line_id: str = Field(primary_key=True)
    item_id: str | None = None
    gtin: str
    qty: int


class CustomerOrder(SQLModel, table=True):
    __tablename__ = "customer_orders"
    order_id: str = Field(primary_key=True)
    number: str = Field(index=True)
    kind: str
    allow_substitution: bool = False
    status: str = "open"
    due_at: dt.datetime | None = _ts(nullable=True)
    customer_name: str = ""
    """Encrypted (edge_sync.crypto)."""
    customer_phone: str = ""
    """Encrypted (edge_sync.crypto)."""


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_lines"
    order_id: str = Field(primary_key=True)
    line_id: str = Field(primary_key=True)
    item_id: str
    qty: int
    picked_qty: int = 0
    short_qty: int = 0
    substitute_item_id: str | None = None


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    task_id: str = Field(primary_key=True)
    type: str = Field(index=True)
    status: str = Field(index=True)
    priority: int = 3
    assignee_id: str | None = Field(default=None, index=True)
    due_at: dt.datetime | None = _ts(nullable=True)
    ref_id: str | None = None
    title: str = ""
    lease_holder_device_id: str | None = None
    lease_holder_user_id: str | None = None
    lease_until: dt.datetime | None = _ts(nullable=True)
    created_at: dt.datetime = _ts()


class TaskLine(SQLModel, table=True):
    __tablename__ = "task_lines"
    task_id: str = Field(primary_key=True)
    line_id: str = Field(primary_key=True)
    item_id: str | None = None
    location_id: str | None = None
    qty: int = 0
    done_qty: int = 0


class Receipt(SQLModel, table=True):
    """A receipt being worked on this device: against a PO, an ASN, or blind (both None)."""

    __tablename__ = "receipts"
    receipt_id: str = Field(primary_key=True)
    po_id: str | None = None
    asn_id: str | None = None
    dock_location_id: str
    status: str = "open"
    user_id: str
    opened_at: dt.datetime = _ts()
    closed_at: dt.datetime | None = _ts(nullable=True)


class ReceiptLine(SQLModel, table=True):
    """What has been counted in on a receipt, per GTIN and lot."""

    __tablename__ = "receipt_lines"
    __table_args__ = (
        UniqueConstraint("receipt_id", "gtin", "lot", name="uq_receipt_line"),
        Index("ix_receipt_lines_receipt_item", "receipt_id", "item_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    receipt_id: str
    gtin: str
    item_id: str | None = None
    lot: str = ""
    expiry: str | None = None
    expected_qty: int = 0
    received_qty: int = 0
    damaged_qty: int = 0


class Stock(SQLModel, table=True):
    """Local stock by (item, location, status): the last known balance plus this device's work."""

    __tablename__ = "stock"
    item_id: str = Field(primary_key=True)
    location_id: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    qty: int = 0


class ServerStock(SQLModel, table=True):
    """The service's balances as last pulled. `stock` = this + this device's unacknowledged moves."""

    __tablename__ = "server_stock"
    item_id: str = Field(primary_key=True)
    location_id: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    qty: int = 0


class LocalMove(SQLModel, table=True):
    """One stock movement this device made, tied to the op that carries it to the service."""

    __tablename__ = "local_moves"
    __table_args__ = (Index("ix_local_moves_key", "item_id", "location_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    seq: int | None = Field(default=None, index=True)
    """The outbox seq of the op; set when the unit of work commits."""
    item_id: str
    location_id: str
    status: str
    delta: int


class OpRef(SQLModel, table=True):
    """A task or order an op of this device changes, kept until the op is acknowledged."""

    __tablename__ = "op_refs"
    __table_args__ = {"sqlite_with_rowid": False}
    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, index=True)


class DeferredRecord(SQLModel, table=True):
    """A pulled record held back because this device's own unacknowledged ops change it."""

    __tablename__ = "deferred_records"
    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    data: dict[str, Any] = _json()


class Count(SQLModel, table=True):
    __tablename__ = "counts"
    count_id: str = Field(primary_key=True)
    task_id: str | None = Field(default=None, index=True)
    location_id: str
    item_id: str
    attempt: int = 1
    counted_qty: int
    expected_qty: int
    started_at: dt.datetime = _ts()
    counted_at: dt.datetime = _ts()
    status: str = "provisional"
    """provisional (sent, not yet posted), recount, pending_approval, posted."""
    approved_by: str | None = None


# --- sync machinery ---------------------------------------------------------------------------


class OutboxOp(SQLModel, table=True):
    """An op waiting to reach, or having reached, the central service. Never deleted."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_seq", "state", "seq"),)
    seq: int = Field(primary_key=True)
    op_id: str = Field(unique=True)
    type: str
    schema_version: int
    user_id: str
    session_id: str
    occurred_at: dt.datetime = _ts()
    clock_offset_ms: int = 0
    payload: dict[str, Any] = _json()
    state: str = "pending"
    """pending, applied, duplicate, parked (rejected, awaiting a person), dismissed, resent."""
    attempts: int = 0
    last_error: str | None = None
    result: dict[str, Any] | None = _json(nullable=True)
    command_id: str | None = None
    settled_at: dt.datetime | None = _ts(nullable=True)
    resolution: str | None = None
    """Why a parked op was dismissed, or the op_id that replaced it."""
    feed_seen: bool = False
    """The op's result came down the change feed: the pulled state includes whatever it did."""
    outcome: dict[str, Any] | None = _json(nullable=True)
    """What the command that queued this op answered (app.services.bus), for a repeat of it."""


class ProcessedCommand(SQLModel, table=True):
    """Command ids already handled, so a double tap or a retried scan does nothing twice."""

    __tablename__ = "processed_commands"
    __table_args__ = {"sqlite_with_rowid": False}  # one b-tree: one page less to write per scan
    command_id: str = Field(primary_key=True)
    seq: int | None = None
    """The last op the command queued: its outbox row holds the outcome (small rows, few splits)."""
    result: dict[str, Any] | None = _json(nullable=True)
    """The outcome, for a command that queued no op (and every row from before migration 0007)."""
    name: str | None = None
    at: dt.datetime | None = _ts(nullable=True)


class SyncState(SQLModel, table=True):
    """One row: who this device is and where its sync stands."""

    __tablename__ = "sync_state"
    id: int = Field(default=1, primary_key=True)
    store_id: str
    device_id: str
    next_seq: int = 1
    """The lowest seq the next op may take; appending does not write it (see edge_sync.outbox)."""
    cursor: str = ""
    clock_offset_ms: int = 0
    last_push_at: dt.datetime | None = _ts(nullable=True)
    last_pull_at: dt.datetime | None = _ts(nullable=True)
    last_error: str | None = None
    last_attempt_at: dt.datetime | None = _ts(nullable=True)
    last_success_at: dt.datetime | None = _ts(nullable=True)
    consecutive_failures: int = 0


class ScanLog(SQLModel, table=True):
    """Every scan the device read, what it was taken for, and what the associate was told."""

    __tablename__ = "scan_log"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _ts(index=True)
    source: str
    symbology: str = ""
    text: str
    kind: str = ""
    outcome: str = ""
    message: str = ""
    user_id: str | None = None


# --- people and keys --------------------------------------------------------------------------


class Session(SQLModel, table=True):
    """A person's session on this device, from sign-in to expiry or sign-out (app.services.people)."""

    __tablename__ = "sessions"
    session_id: str = Field(primary_key=True)
    user_id: str
    role: str
    device_id: str
    started_at: dt.datetime = _ts()
    expires_at: dt.datetime = _ts()
    started_online: bool
    ended_at: dt.datetime | None = _ts(nullable=True)


class SignInFailure(SQLModel, table=True):
    """Wrong PINs in a row per user, and until when PIN sign-in is locked."""

    __tablename__ = "sign_in_failures"
    user_id: str = Field(primary_key=True)
    failures: int
    locked_until: dt.datetime | None = _ts(nullable=True)


class CryptoKey(SQLModel, table=True):
    """The id of a keystore key this database's encrypted columns use; never the key itself."""

    __tablename__ = "crypto_keys"
    name: str = Field(primary_key=True)
    key_id: str


metadata = SQLModel.metadata
