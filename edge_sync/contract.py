"""The sync contract: the one module both ends import.

What a device sends (ops, in batches) and what the central service answers (op results, pages of
changes) is defined here once, as pydantic models. The device (`edge_sync`, `app`) and the server
(`server_stub`) both import this module; nothing else crosses the boundary. Changing a payload
means a new `schema_version` and an upgrade rule in `upgrade_payload`, never an edit in place:
devices in the field carry ops queued under older versions.

Layout:
    Op            the envelope: op_id, device, seq, type, who, when, payload
    *Payload      one model per op type, looked up in PAYLOADS
    OpResult      applied / duplicate / rejected / out_of_order, per op
    PushRequest / PushResponse
    *Record       master data and state sent down the change feed
    Change / ChangesPage
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

SCHEMA_VERSION: Final = 1
"""The payload schema version this build writes. Older versions are upgraded by `upgrade_payload`."""

MAX_BATCH: Final = 500
"""The most ops one push may carry."""

# What arrives here is hostile until checked: codes are plain ASCII (a look-alike letter from
# another script, or a fullwidth digit, would make a second SKU or location that reads the same as
# the real one), and free text carries no control characters, no text-direction overrides (they
# make text display differently from what it says) and no markup. The checks below run before the
# length and pattern constraints (a BeforeValidator after them in `Annotated`), so a refusal names
# the character and says what to do.

_CODE_CHARS: Final = "letters A-Z, digits 0-9 and . _ : -"
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKUP: Final = re.compile(r"<\s*[A-Za-z/!?]|&#?[A-Za-z0-9]+;")


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def _lookalike_hint(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value)
    if folded != value and re.fullmatch(r"[A-Za-z0-9._:\-]{1,64}", folded):
        return f" (it looks like {folded[:64]!r}: type it with plain keys)"
    return ""


def _plain_code(value: object) -> object:
    """Refuse a code (id, SKU, location code, GTIN) with a character outside plain ASCII."""
    if isinstance(value, str) and not value.isascii():
        odd = next(c for c in value if not c.isascii())
        raise ValueError(
            f"codes may only use {_CODE_CHARS}; {_describe(odd)} is not one of them{_lookalike_hint(value)}"
        )
    return value


def _plain_digits(value: object) -> object:
    """Refuse a GTIN with a digit from another script (a fullwidth or Arabic-Indic digit)."""
    if isinstance(value, str) and not value.isascii():
        odd = next(c for c in value if not c.isascii())
        raise ValueError(f"a GTIN is 14 digits 0-9; {_describe(odd)} is not one of them{_lookalike_hint(value)}")
    return value


def _plain_text(value: object) -> object:
    """Refuse free text with control characters, direction overrides, lone surrogates or markup."""
    if not isinstance(value, str):
        return value
    for char in value:
        code = ord(char)
        if char in "\t\n\r":
            continue
        if code < 0x20 or 0x7F <= code <= 0x9F:
            raise ValueError(f"text may not hold control characters; found {_describe(char)}")
        if 0xD800 <= code <= 0xDFFF:
            raise ValueError("text is not valid Unicode (a lone surrogate): send it as UTF-8")
        if char in _BIDI_CONTROLS:
            raise ValueError(
                f"text may not hold text-direction overrides ({_describe(char)}): they make it read "
                "differently from what it says"
            )
    if _MARKUP.search(value):
        raise ValueError("text may not hold markup (an HTML tag or entity): write it without < > and &...;")
    return value


Id = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$"), BeforeValidator(_plain_code)
]
"""Identifiers: store, device, item, location, task, order ids, SKUs and location codes. Plain
ASCII letters, digits and . _ : - only: no spaces, no markup, no look-alikes from other scripts."""

Text = Annotated[str, StringConstraints(max_length=500), BeforeValidator(_plain_text)]
"""Free text a person typed: reasons, notes. Any language; no control characters, direction
overrides or markup."""

Label = Annotated[str, StringConstraints(max_length=32), BeforeValidator(_plain_text)]
"""A short printable value shown on a screen: an app version, a unit, a phone number."""

Gtin = Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$"), BeforeValidator(_plain_digits)]
"""A GTIN normalised to 14 ASCII digits (the check digit is verified by the scanner layer)."""

Qty = Annotated[int, Field(ge=0, le=1_000_000)]
PositiveQty = Annotated[int, Field(gt=0, le=1_000_000)]


class _Strict(BaseModel):
    """Base for every contract model: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


class StockStatus(StrEnum):
    """Where a unit stands in its life in the store. Only AVAILABLE is promisable."""

    RECEIVED = "received"
    AVAILABLE = "available"
    PICKED = "picked"
    STAGED = "staged"
    DAMAGED = "damaged"
    QUARANTINED = "quarantined"
    RETURNED = "returned"
    IN_TRANSIT = "in_transit"


class LocationKind(StrEnum):
    DOCK = "dock"
    BACKROOM = "backroom"
    SHELF = "shelf"
    STAGING = "staging"


class TaskType(StrEnum):
    RECEIVE = "receive"
    PUTAWAY = "putaway"
    COUNT = "count"
    PICK = "pick"


class TaskStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Role(StrEnum):
    ASSOCIATE = "associate"
    MANAGER = "manager"
    ADMIN = "admin"


class OrderKind(StrEnum):
    PICKUP = "pickup"
    SHIP = "ship"


class Condition(StrEnum):
    GOOD = "good"
    DAMAGED = "damaged"


class OpType(StrEnum):
    """Every kind of op a device can send. The server has one applier per type."""

    RECEIPT_RECEIVE = "receipt.receive"
    RECEIPT_CLOSE = "receipt.close"
    PUTAWAY_CONFIRM = "putaway.confirm"
    COUNT_RECORD = "count.record"
    PICK_CONFIRM = "pick.confirm"
    PICK_SHORT = "pick.short"
    ORDER_STAGE = "order.stage"
    TASK_CREATE = "task.create"
    TASK_ASSIGN = "task.assign"
    TASK_REPRIORITISE = "task.reprioritise"
    TASK_CANCEL = "task.cancel"
    TASK_CLAIM = "task.claim"
    TASK_RELEASE = "task.release"
    TASK_COMPLETE = "task.complete"


# ---------------------------------------------------------------------------------------------
# Op payloads: one per OpType
# ---------------------------------------------------------------------------------------------


class ReceiptReceivePayload(_Strict):
    """Units of one item counted in on an open receipt (a scan, or a typed quantity).

    Progress only: stock enters the ledger when the receipt is closed.
    """

    receipt_id: Id
    po_id: Id | None = None
    asn_id: Id | None = None
    item_id: Id | None = None
    """None for an unknown item (GTIN not in the item master): recorded, raised as an exception."""
    gtin: Gtin
    qty: PositiveQty
    """Units (scans of `gtin` times its pack size), not packs."""
    condition: Condition = Condition.GOOD
    lot: Text | None = None
    expiry: dt.date | None = None
    serial: Text | None = None
    approved_by: Id | None = None
    """The manager who approved receiving past the over-receipt tolerance."""


class ReceiptLineTotal(_Strict):
    """One (GTIN, lot) line of a closed receipt, in units. Expected and received are compared per
    item across its lines: an expected line is often received as several lots, or as cases."""

    item_id: Id | None
    gtin: Gtin
    expected_qty: Qty
    received_qty: Qty
    """Every unit counted in, damaged ones included."""
    damaged_qty: Qty
    """The part of received_qty that arrived damaged."""
    lot: Text | None = None
    expiry: dt.date | None = None


class ReceiptClosePayload(_Strict):
    """A receipt closed: received units go to `received` (damaged ones to `damaged`) at the dock."""

    receipt_id: Id
    po_id: Id | None = None
    asn_id: Id | None = None
    dock_location_id: Id
    lines: list[ReceiptLineTotal] = Field(max_length=2000)


class PutawayConfirmPayload(_Strict):
    """Received units moved from the dock to a scanned location; they become `available`."""

    item_id: Id
    qty: PositiveQty
    from_location_id: Id
    to_location_id: Id
    suggested_location_id: Id | None = None
    override_reason: Text | None = None
    task_id: Id | None = None


class CountRecordPayload(_Strict):
    """An absolute count of one item at one location, tied to the moment it was counted."""

    count_id: Id
    task_id: Id | None = None
    location_id: Id
    item_id: Id
    counted_qty: Qty
    started_at: dt.datetime
    counted_at: dt.datetime
    expected_qty: Qty | None = None
    """What the device believed was there; None for a blind count."""
    attempt: int = Field(default=1, ge=1, le=10)
    approved_by: Id | None = None


class PickConfirmPayload(_Strict):
    """Units picked from a location for an order line: `available` there becomes `picked`."""

    task_id: Id
    order_id: Id
    line_id: Id
    item_id: Id
    location_id: Id
    qty: PositiveQty
    substitute_for_item_id: Id | None = None


class PickShortPayload(_Strict):
    """An order line could not be picked in full: the missing quantity and why."""

    task_id: Id
    order_id: Id
    line_id: Id
    item_id: Id
    location_id: Id | None = None
    short_qty: PositiveQty
    reason: Text


class StagedLine(_Strict):
    item_id: Id
    from_location_id: Id
    qty: PositiveQty


class OrderStagePayload(_Strict):
    """Picked units put at a staging location: the order is ready for pickup or shipping."""

    task_id: Id | None = None
    order_id: Id
    staging_location_id: Id
    lines: list[StagedLine] = Field(max_length=2000)


class TaskLineSpec(_Strict):
    line_id: Id
    item_id: Id | None = None
    location_id: Id | None = None
    qty: Qty = 0


class TaskCreatePayload(_Strict):
    task_id: Id
    type: TaskType
    priority: int = Field(default=3, ge=1, le=5)
    """1 is most urgent."""
    assignee_id: Id | None = None
    due_at: dt.datetime | None = None
    ref_id: Id | None = None
    """The PO, ASN, order, location or item the task is about."""
    title: Text = ""
    lines: list[TaskLineSpec] = Field(default_factory=list, max_length=2000)


class TaskAssignPayload(_Strict):
    task_id: Id
    assignee_id: Id | None


class TaskReprioritisePayload(_Strict):
    task_id: Id
    priority: int = Field(ge=1, le=5)


class TaskCancelPayload(_Strict):
    task_id: Id
    reason: Text


class TaskClaimPayload(_Strict):
    task_id: Id
    lease_until: dt.datetime


class TaskReleasePayload(_Strict):
    task_id: Id


class TaskCompletePayload(_Strict):
    task_id: Id


PAYLOADS: Final[dict[OpType, type[_Strict]]] = {
    OpType.RECEIPT_RECEIVE: ReceiptReceivePayload,
    OpType.RECEIPT_CLOSE: ReceiptClosePayload,
    OpType.PUTAWAY_CONFIRM: PutawayConfirmPayload,
    OpType.COUNT_RECORD: CountRecordPayload,
    OpType.PICK_CONFIRM: PickConfirmPayload,
    OpType.PICK_SHORT: PickShortPayload,
    OpType.ORDER_STAGE: OrderStagePayload,
    OpType.TASK_CREATE: TaskCreatePayload,
    OpType.TASK_ASSIGN: TaskAssignPayload,
    OpType.TASK_REPRIORITISE: TaskReprioritisePayload,
    OpType.TASK_CANCEL: TaskCancelPayload,
    OpType.TASK_CLAIM: TaskClaimPayload,
    OpType.TASK_RELEASE: TaskReleasePayload,
    OpType.TASK_COMPLETE: TaskCompletePayload,
}


def upgrade_payload(op_type: OpType, schema_version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Bring a payload written under an older schema_version up to SCHEMA_VERSION.

    Version 1 is the first; each later version adds one step here and keeps the older ones, so an
    op queued on a device before an upgrade still drains after it.
    """
    if schema_version < 1 or schema_version > SCHEMA_VERSION:
        raise ValueError(f"schema_version {schema_version} is not known to this build")
    return payload


def parse_payload(op_type: OpType, schema_version: int, payload: dict[str, Any]) -> _Strict:
    """Validate a payload for its op type, upgrading it first. Raises pydantic.ValidationError."""
    return PAYLOADS[op_type].model_validate(upgrade_payload(op_type, schema_version, payload))


# ---------------------------------------------------------------------------------------------
# Envelope, push
# ---------------------------------------------------------------------------------------------


class Op(_Strict):
    """One action taken on a device, as it travels to the central service."""

    op_id: UUID
    """UUIDv7, also the Idempotency-Key."""
    store_id: Id
    device_id: Id
    seq: int = Field(ge=1)
    """Per device, gap-free, increasing from 1."""
    type: OpType
    schema_version: int = Field(ge=1)
    user_id: Id
    session_id: Id
    occurred_at: dt.datetime
    """The device clock at the action, timezone-aware."""
    clock_offset_ms: int = 0
    """The device's last known (server − device) clock offset, to correct occurred_at."""
    payload: dict[str, Any]


class OpStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    """Refused for good: park it and show the reason. Never retried as is."""
    OUT_OF_ORDER = "out_of_order"
    """A seq gap before it: resend from `expected_seq`. Retried, not parked."""


class OpResult(_Strict):
    op_id: UUID
    seq: int
    status: OpStatus
    reason: Text | None = None
    """Words a person can act on, for rejected and out_of_order."""
    expected_seq: int | None = None
    result: dict[str, Any] = Field(default_factory=dict)
    """What the op produced (exception ids, adjustment posted, ...). Same on a duplicate."""
    server_time: dt.datetime | None = None


class DeviceStatusReport(_Strict):
    """What a device says of its own queue with each push, for the manager's device board."""

    pending: Qty = 0
    parked: Qty = 0
    oldest_pending_at: dt.datetime | None = None
    app_version: Label = ""


class PushRequest(_Strict):
    ops: list[Op] = Field(min_length=1, max_length=MAX_BATCH)
    device_status: DeviceStatusReport | None = None


class PushResponse(_Strict):
    results: list[OpResult]
    server_time: dt.datetime


# ---------------------------------------------------------------------------------------------
# Records sent down the change feed
# ---------------------------------------------------------------------------------------------


class ItemRecord(_Strict):
    item_id: Id
    sku: Id
    gtins: list[Gtin] = Field(min_length=1, max_length=20)
    description: Text
    unit: Annotated[str, StringConstraints(max_length=16), BeforeValidator(_plain_text)] = "each"
    pack_sizes: dict[Gtin, PositiveQty] = Field(default_factory=dict)
    """Units per scan for case-pack GTINs; a GTIN not listed here is one unit."""
    home_location_id: Id | None = None


class LocationRecord(_Strict):
    location_id: Id
    code: Id
    zone: Id
    kind: LocationKind
    aisle: int | None = None
    bay: int | None = None
    level: int | None = None
    pick_sequence: int = 0
    capacity: Qty = 0
    """Units the location holds; 0 means unlimited (docks, staging)."""


class ExpectedLine(_Strict):
    line_id: Id
    item_id: Id | None
    gtin: Gtin
    qty: PositiveQty


class PurchaseOrderRecord(_Strict):
    po_id: Id
    number: Id
    supplier: Text
    expected_at: dt.datetime | None = None
    status: Literal["open", "closed", "cancelled"] = "open"
    lines: list[ExpectedLine] = Field(max_length=2000)


class AsnRecord(_Strict):
    asn_id: Id
    po_id: Id | None
    number: Id
    sscc: Annotated[str, StringConstraints(pattern=r"^[0-9]{18}$")] | None = None
    expected_at: dt.datetime | None = None
    status: Literal["open", "closed", "cancelled"] = "open"
    lines: list[ExpectedLine] = Field(max_length=2000)


class OrderLine(_Strict):
    line_id: Id
    item_id: Id
    qty: PositiveQty


class CustomerOrderRecord(_Strict):
    order_id: Id
    number: Id
    kind: OrderKind
    allow_substitution: bool = False
    customer_name: Text = ""
    customer_phone: Label = ""
    status: Literal["open", "picking", "staged", "collected", "cancelled"] = "open"
    due_at: dt.datetime | None = None
    lines: list[OrderLine] = Field(max_length=500)


class TaskLineRecord(_Strict):
    line_id: Id
    item_id: Id | None = None
    location_id: Id | None = None
    qty: Qty = 0
    done_qty: Qty = 0


class TaskRecord(_Strict):
    task_id: Id
    type: TaskType
    status: TaskStatus
    priority: int = Field(ge=1, le=5)
    assignee_id: Id | None = None
    due_at: dt.datetime | None = None
    ref_id: Id | None = None
    title: Text = ""
    lease_holder_device_id: Id | None = None
    lease_holder_user_id: Id | None = None
    lease_until: dt.datetime | None = None
    created_at: dt.datetime
    lines: list[TaskLineRecord] = Field(default_factory=list)


class BalanceRecord(_Strict):
    item_id: Id
    location_id: Id
    status: StockStatus
    qty: int


class UserRecord(_Strict):
    user_id: Id
    name: Text
    role: Role
    badge: Id | None = None
    pin_hash: Annotated[str, StringConstraints(max_length=200)] | None = None
    """The PIN as `hash_pin` writes it (scrypt, salted); never the PIN. None: no PIN sign-in."""


class ExceptionRecord(_Strict):
    exception_id: Id
    kind: Id
    """over_receipt, unknown_item, receipt_discrepancy, double_pick, pick_short, location_full,
    count_moving_stock, count_variance, task_worked_twice, ..."""
    status: Literal["open", "resolved"]
    summary: Text
    details: dict[str, Any] = Field(default_factory=dict)
    op_id: UUID | None = None
    device_id: Id | None = None
    user_id: Id | None = None
    created_at: dt.datetime
    resolved_by: Id | None = None
    resolution_note: Text | None = None


class ChangeKind(StrEnum):
    ITEM = "item"
    LOCATION = "location"
    PURCHASE_ORDER = "purchase_order"
    ASN = "asn"
    ORDER = "order"
    TASK = "task"
    BALANCE = "balance"
    USER = "user"
    OP_RESULT = "op_result"
    EXCEPTION = "exception"


RECORDS: Final[dict[ChangeKind, type[_Strict]]] = {
    ChangeKind.ITEM: ItemRecord,
    ChangeKind.LOCATION: LocationRecord,
    ChangeKind.PURCHASE_ORDER: PurchaseOrderRecord,
    ChangeKind.ASN: AsnRecord,
    ChangeKind.ORDER: CustomerOrderRecord,
    ChangeKind.TASK: TaskRecord,
    ChangeKind.BALANCE: BalanceRecord,
    ChangeKind.USER: UserRecord,
    ChangeKind.OP_RESULT: OpResult,
    ChangeKind.EXCEPTION: ExceptionRecord,
}


class Change(_Strict):
    kind: ChangeKind
    key: str
    """The record's id; for a balance `item_id|location_id|status`."""
    data: dict[str, Any] | None
    """The record as its *Record model dumps it (JSON mode); None when deleted."""


class ChangesPage(_Strict):
    changes: list[Change]
    next_cursor: str
    has_more: bool
    server_time: dt.datetime


class MasterData(_Strict):
    """A store's master data and open documents, as the seed, the importers and the loader pass it."""

    store_id: Id
    items: list[ItemRecord] = Field(default_factory=list)
    locations: list[LocationRecord] = Field(default_factory=list)
    purchase_orders: list[PurchaseOrderRecord] = Field(default_factory=list)
    asns: list[AsnRecord] = Field(default_factory=list)
    orders: list[CustomerOrderRecord] = Field(default_factory=list)
    tasks: list[TaskRecord] = Field(default_factory=list)
    users: list[UserRecord] = Field(default_factory=list)
    opening_balances: list[BalanceRecord] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Store figures and stock waiting on the dock: what the manager's tablet reads
# ---------------------------------------------------------------------------------------------


class DwellBucket(_Strict):
    """Units put away within one band of time after they were received."""

    label: Text
    units: int


class DeviceLagRecord(_Strict):
    """One device's sync lag and queue, as it last reported them."""

    device_id: Id
    lag_seconds: float | None
    pending: int
    parked: int
    oldest_pending_age_seconds: float | None


class StoreFiguresRecord(_Strict):
    """A store's figures over a window, computed by the service from its ledger and ops."""

    store_id: Id
    window_start: dt.datetime
    window_end: dt.datetime
    putaway_units: int
    """Units put away in the window (each matched, first in first out, to when it was received)."""
    putaway_median_minutes: float | None
    putaway_p90_minutes: float | None
    putaway_buckets: list[DwellBucket]
    waiting_units: int
    """Units received and not yet put away at the end of the window."""
    counts: int
    """Counts that posted or went to a manager in the window (recount requests left out)."""
    counts_exact: int
    count_accuracy_pct: float | None
    picked_units: int
    short_units: int
    pick_fill_rate_pct: float | None
    synced_ops: int
    sync_lag_p50_seconds: float | None
    sync_lag_p95_seconds: float | None
    """From the moment an op happened (server-corrected) to when the service recorded it."""
    devices: list[DeviceLagRecord]


class WaitingPutawayRecord(_Strict):
    """Units received at a location that are still not put away after the threshold."""

    item_id: Id
    location_id: Id
    qty: int
    received_at: dt.datetime
    age_minutes: float


# ---------------------------------------------------------------------------------------------
# People: PIN hashes and sessions, as both ends understand them
# ---------------------------------------------------------------------------------------------

SESSION_TTL: Final = dt.timedelta(hours=12)
"""The offline policy, part 1. A session started online (the service saw the sign-in and recorded
the role the user had then) may record ops, with or without a network, for 12 hours from sign-in:
one shift. Ops it made in that window are accepted whenever they arrive, days later included, and
are authorised against the role and store the session was started with."""

OFFLINE_START_TTL: Final = dt.timedelta(hours=4)
"""The offline policy, part 2. A session started while the service could not be reached (badge or
PIN checked against the master data last pulled) may record ops for 4 hours from sign-in. The
service records it when its first op arrives, with the role the user has then in that store."""

CLOCK_SKEW: Final = dt.timedelta(minutes=5)
"""Leeway for device clocks (after the device's last known offset) at a session's start."""

SESSION_ID_PATTERN: Final = r"^s-(\d{8}T\d{6}Z)-([nf])-([0-9a-f]{16})$"
"""`s-<started_at UTC, YYYYMMDDTHHMMSSZ>-<n online | f offline>-<16 hex>`: every op carries its
session's start and how it started in `session_id`, so the service can apply the policy to ops
of sessions it never saw (started offline) without a change to the op envelope."""

PIN_SCRYPT_N: Final = 2**15
PIN_SCRYPT_R: Final = 8
PIN_SCRYPT_P: Final = 1
"""scrypt cost: about 0.14 s per hash on a 2-core store machine; 32 MiB of memory."""


def session_id_for(started_at: dt.datetime, *, online: bool, token: str) -> str:
    """The id of a session started at `started_at` (aware), online or not; `token` is 16 hex digits."""
    stamp = started_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"s-{stamp}-{'n' if online else 'f'}-{token}"


def parse_session_id(session_id: str) -> tuple[dt.datetime, bool] | None:
    """(started_at, started_online) named by a session id; None for an id of another form."""
    match = re.match(SESSION_ID_PATTERN, session_id)
    if match is None:
        return None
    started = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return started, match.group(2) == "n"


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=128 * n * r * p + 2**20)


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """A slow salted hash of a PIN: `scrypt$<log2 n>$<r>$<p>$<salt hex>$<hash hex>`.

    `salt` is random unless given (the deterministic demo seed gives one from its own generator).
    """
    salt = os.urandom(16) if salt is None else salt
    digest = _scrypt(pin, salt, PIN_SCRYPT_N, PIN_SCRYPT_R, PIN_SCRYPT_P)
    return f"scrypt${PIN_SCRYPT_N.bit_length() - 1}${PIN_SCRYPT_R}${PIN_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, pin_hash: str) -> bool:
    """True when `pin` hashes to `pin_hash` (constant-time compare); False for a malformed hash."""
    parts = pin_hash.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        log_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        return False
    if not (10 <= log_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
        return False
    return hmac.compare_digest(_scrypt(pin, salt, 2**log_n, r, p), expected)


class SessionStart(_Strict):
    """A device telling the service, at sign-in, that a person started a session on it."""

    session_id: Id
    user_id: Id
    device_id: Id
    started_at: dt.datetime


class SessionRecord(_Strict):
    """A session as the service recorded it: the role it authorises ops against, until when."""

    session_id: Id
    user_id: Id
    device_id: Id
    role: Role
    started_at: dt.datetime
    expires_at: dt.datetime
    started_online: bool
