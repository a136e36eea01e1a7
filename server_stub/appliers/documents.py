"""Reads and status changes of POs, ASNs and customer orders, shared by the appliers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from edge_sync.contract import ChangeKind
from server_stub import tables as t
from server_stub.txn import StoreTx

_DOCS: dict[str, tuple[sa.Table, str, ChangeKind]] = {
    "po": (t.purchase_orders, "po_id", ChangeKind.PURCHASE_ORDER),
    "asn": (t.asns, "asn_id", ChangeKind.ASN),
    "order": (t.orders, "order_id", ChangeKind.ORDER),
}


def document(tx: StoreTx, kind: str, doc_id: str | None) -> dict[str, Any] | None:
    """The stored record (as the contract dumps it) of a PO, ASN or order, or None."""
    if doc_id is None:
        return None
    table, key, _ = _DOCS[kind]
    data = tx.conn.execute(
        sa.select(table.c.data).where(table.c.store_id == tx.store_id, table.c[key] == doc_id)
    ).scalar_one_or_none()
    return None if data is None else dict(data)


def set_status(tx: StoreTx, kind: str, doc_id: str, status: str) -> None:
    """Change a document's status and put it on the change feed (no-op if unknown or unchanged)."""
    record = document(tx, kind, doc_id)
    if record is None or record.get("status") == status:
        return
    table, key, change_kind = _DOCS[kind]
    record["status"] = status
    tx.conn.execute(
        table.update()
        .where(table.c.store_id == tx.store_id, table.c[key] == doc_id)
        .values(status=status, data=record, updated_at=tx.now)
    )
    tx.change(change_kind, doc_id, record)


def expected_lines(tx: StoreTx, po_id: str | None, asn_id: str | None) -> list[dict[str, Any]] | None:
    """The lines a receipt is expected to bring: the ASN's if there is one, else the PO's."""
    for kind, doc_id in (("asn", asn_id), ("po", po_id)):
        record = document(tx, kind, doc_id)
        if record is not None:
            return list(record.get("lines", []))
    return None
