"""Receipts and their lines on the device, and the POs and ASNs they are worked against."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from edge_sync.db import driver
from edge_sync.repositories.master import asns_t, expected_t, items_t, locations_t, pos_t
from edge_sync.tables import Receipt, ReceiptLine

receipts_t = Receipt.__table__  # type: ignore[attr-defined]
receipt_lines_t = ReceiptLine.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A PO or an ASN header."""

    doc_id: str
    number: str
    status: str
    po_id: str | None


@dataclass(frozen=True, slots=True)
class AsnListRow:
    """An open ASN as a pick list shows it: numbers, supplier, when, and how much is coming."""

    asn_id: str
    number: str
    po_id: str | None
    po_number: str | None
    supplier: str | None
    expected_at: dt.datetime | None
    lines: int
    units: int


@dataclass(frozen=True, slots=True)
class ExpectedRow:
    """One expected line of a PO or an ASN."""

    line_id: str
    item_id: str | None
    gtin: str
    qty: int


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    """A receipt header."""

    receipt_id: str
    po_id: str | None
    asn_id: str | None
    dock_location_id: str
    status: str
    user_id: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ReceiptLineRow:
    """One (GTIN, lot) line of a receipt, with the item's description when the item is known."""

    gtin: str
    item_id: str | None
    lot: str
    expiry: str | None
    expected_qty: int
    received_qty: int
    damaged_qty: int
    description: str | None


@dataclass(frozen=True, slots=True)
class ReceiptHeader:
    """A receipt with the numbers and codes a screen shows."""

    receipt: ReceiptRow
    po_number: str | None
    asn_number: str | None
    dock_code: str


def _receipt(m: object) -> ReceiptRow:
    r = m._mapping  # type: ignore[attr-defined]
    return ReceiptRow(r["receipt_id"], r["po_id"], r["asn_id"], r["dock_location_id"], r["status"], r["user_id"],
                      r["opened_at"], r["closed_at"])


_RECEIPT_SQL = (
    "SELECT receipt_id, po_id, asn_id, dock_location_id, status, user_id, opened_at, closed_at"
    " FROM receipts WHERE receipt_id = ?"
)
_LINE_COLUMNS = (
    "SELECT l.gtin, l.item_id, l.lot, l.expiry, l.expected_qty, l.received_qty, l.damaged_qty, i.description"
    " FROM receipt_lines l LEFT JOIN items i ON i.item_id = l.item_id"
)
_LINES_OF_ITEM_SQL = _LINE_COLUMNS + " WHERE l.receipt_id = ? AND l.item_id = ? ORDER BY l.id"
_LINES_OF_UNKNOWN_GTIN_SQL = _LINE_COLUMNS + " WHERE l.receipt_id = ? AND l.item_id IS NULL AND l.gtin = ? ORDER BY l.id"
_ADD_TO_LINE_START = (
    "INSERT INTO receipt_lines (receipt_id, gtin, lot, item_id, expiry, expected_qty, received_qty, damaged_qty)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (receipt_id, gtin, lot) DO UPDATE SET"
    " expected_qty = expected_qty + excluded.expected_qty,"
    " received_qty = received_qty + excluded.received_qty,"
    " damaged_qty = damaged_qty + excluded.damaged_qty,"
)
_ADD_TO_LINE_SQL = (
    _ADD_TO_LINE_START + " item_id = coalesce(item_id, excluded.item_id), expiry = coalesce(expiry, excluded.expiry)"
)
_ADD_TO_LINE_KEEPING_ITEM_SQL = _ADD_TO_LINE_START + " expiry = coalesce(expiry, excluded.expiry)"
"""The same upsert for a line whose item id cannot change: SQLite rewrites the entry of every index
on a column an UPDATE sets, equal or not, and (receipt_id, item_id) is indexed: one page less to
write and sync on every repeat scan of a line."""


class ReceivingRepository:
    """The SQL of the receiving workflow."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def purchase_order(self, po_id: str) -> DocumentRow | None:
        """A PO header by id."""
        r = self.conn.execute(select(pos_t).where(pos_t.c.po_id == po_id)).first()
        return None if r is None else DocumentRow(r.po_id, r.number, r.status, r.po_id)

    def asn(self, asn_id: str) -> DocumentRow | None:
        """An ASN header by id."""
        r = self.conn.execute(select(asns_t).where(asns_t.c.asn_id == asn_id)).first()
        return None if r is None else DocumentRow(r.asn_id, r.number, r.status, r.po_id)

    def open_asns(self) -> list[AsnListRow]:
        """Open ASNs with their PO, supplier and expected lines and units, soonest expected first.

        An ASN whose receipt was closed on this device is left out before the service marks it.
        """
        totals = (
            select(expected_t.c.doc_id, func.count().label("lines"), func.sum(expected_t.c.qty).label("units"))
            .where(expected_t.c.doc_kind == "asn")
            .group_by(expected_t.c.doc_id)
            .subquery()
        )
        closed_here = select(receipts_t.c.asn_id).where(
            receipts_t.c.status == "closed", receipts_t.c.asn_id.is_not(None))
        rows = self.conn.execute(
            select(asns_t, pos_t.c.number.label("po_number"), pos_t.c.supplier, totals.c.lines, totals.c.units)
            .outerjoin(pos_t, pos_t.c.po_id == asns_t.c.po_id)
            .outerjoin(totals, totals.c.doc_id == asns_t.c.asn_id)
            .where(asns_t.c.status == "open", asns_t.c.asn_id.not_in(closed_here))
            .order_by(asns_t.c.expected_at, asns_t.c.number)
        )
        return [AsnListRow(r.asn_id, r.number, r.po_id, r.po_number, r.supplier, r.expected_at,
                           int(r.lines or 0), int(r.units or 0)) for r in rows]

    def expected_lines(self, doc_kind: str, doc_id: str) -> list[ExpectedRow]:
        """The expected lines of a PO ("po") or an ASN ("asn"), in line order."""
        rows = self.conn.execute(
            select(expected_t)
            .where(expected_t.c.doc_kind == doc_kind, expected_t.c.doc_id == doc_id)
            .order_by(expected_t.c.line_id)
        )
        return [ExpectedRow(r.line_id, r.item_id, r.gtin, int(r.qty)) for r in rows]

    def first_dock(self) -> str | None:
        """The id of the store's first dock, in pick-sequence order."""
        return self.conn.execute(
            select(locations_t.c.location_id)
            .where(locations_t.c.kind == "dock")
            .order_by(locations_t.c.pick_sequence, locations_t.c.code)
            .limit(1)
        ).scalar()

    def receipt(self, receipt_id: str) -> ReceiptRow | None:
        """A receipt by id."""
        # sqlite3 directly: this runs on every receive scan (see edge_sync.db.driver).
        r = driver(self.conn).execute(_RECEIPT_SQL, (receipt_id,)).fetchone()
        if r is None:
            return None
        return ReceiptRow(r[0], r[1], r[2], r[3], r[4], r[5], dt.datetime.fromisoformat(r[6]),
                          None if r[7] is None else dt.datetime.fromisoformat(r[7]))

    def header(self, receipt_id: str) -> ReceiptHeader | None:
        """A receipt with its PO and ASN numbers and its dock's code."""
        r = self.conn.execute(
            select(receipts_t, pos_t.c.number.label("po_number"), asns_t.c.number.label("asn_number"),
                   locations_t.c.code.label("dock_code"))
            .outerjoin(pos_t, pos_t.c.po_id == receipts_t.c.po_id)
            .outerjoin(asns_t, asns_t.c.asn_id == receipts_t.c.asn_id)
            .outerjoin(locations_t, locations_t.c.location_id == receipts_t.c.dock_location_id)
            .where(receipts_t.c.receipt_id == receipt_id)
        ).first()
        if r is None:
            return None
        return ReceiptHeader(_receipt(r), r.po_number, r.asn_number, r.dock_code or r.dock_location_id)

    def open_receipts(self) -> list[ReceiptRow]:
        """Receipts still open on this device, oldest first."""
        rows = self.conn.execute(
            select(receipts_t).where(receipts_t.c.status == "open").order_by(receipts_t.c.opened_at)
        )
        return [_receipt(r) for r in rows]

    def open_receipt_for(self, *, po_id: str | None, asn_id: str | None) -> str | None:
        """The id of an open receipt already worked against this ASN (or this PO without ASN)."""
        if asn_id is not None:
            cond = receipts_t.c.asn_id == asn_id
        elif po_id is not None:
            cond = and_(receipts_t.c.po_id == po_id, receipts_t.c.asn_id.is_(None))
        else:
            return None
        return self.conn.execute(
            select(receipts_t.c.receipt_id).where(cond, receipts_t.c.status == "open").limit(1)
        ).scalar()

    def add_receipt(self, row: ReceiptRow) -> None:
        """Insert a receipt header."""
        self.conn.execute(insert(receipts_t).values(
            receipt_id=row.receipt_id, po_id=row.po_id, asn_id=row.asn_id, dock_location_id=row.dock_location_id,
            status=row.status, user_id=row.user_id, opened_at=row.opened_at, closed_at=row.closed_at,
        ))

    def add_expected(self, receipt_id: str, lines: list[ExpectedRow]) -> None:
        """Seed a receipt with its expected lines (several document lines of one GTIN add up)."""
        for ln in lines:
            self.add_to_line(receipt_id, gtin=ln.gtin, lot="", item_id=ln.item_id, expected=ln.qty)

    def lines(self, receipt_id: str) -> list[ReceiptLineRow]:
        """A receipt's lines in the order they were first seen, with item descriptions."""
        t = receipt_lines_t
        rows = self.conn.execute(
            select(t, items_t.c.description)
            .outerjoin(items_t, items_t.c.item_id == t.c.item_id)
            .where(t.c.receipt_id == receipt_id)
            .order_by(t.c.id)
        )
        return [
            ReceiptLineRow(r.gtin, r.item_id, r.lot, r.expiry, int(r.expected_qty), int(r.received_qty),
                           int(r.damaged_qty), r.description)
            for r in rows
        ]

    def lines_of_item(self, receipt_id: str, item_id: str | None, gtin: str) -> list[ReceiptLineRow]:
        """The lines of one item on a receipt (of one GTIN when the item is unknown): a scan's context."""
        if item_id is not None:
            rows = driver(self.conn).execute(_LINES_OF_ITEM_SQL, (receipt_id, item_id))
        else:
            rows = driver(self.conn).execute(_LINES_OF_UNKNOWN_GTIN_SQL, (receipt_id, gtin))
        return [ReceiptLineRow(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), r[7]) for r in rows]

    def add_to_line(
        self,
        receipt_id: str,
        *,
        gtin: str,
        lot: str,
        item_id: str | None,
        expected: int = 0,
        received: int = 0,
        damaged: int = 0,
        expiry: str | None = None,
        item_on_line: bool = False,
    ) -> None:
        """Add units to a (GTIN, lot) line, creating it; the first expiry seen for a lot is kept.

        The first item id given for a line is kept too; `item_on_line` says the caller saw this
        line already carrying one (nothing to fill in), which spares an index write.
        """
        sql = _ADD_TO_LINE_KEEPING_ITEM_SQL if item_on_line or item_id is None else _ADD_TO_LINE_SQL
        driver(self.conn).execute(sql, (receipt_id, gtin, lot, item_id, expiry, expected, received, damaged))

    def close(self, receipt_id: str, at: dt.datetime) -> None:
        """Mark a receipt closed."""
        self.conn.execute(
            update(receipts_t).where(receipts_t.c.receipt_id == receipt_id).values(status="closed", closed_at=at)
        )
