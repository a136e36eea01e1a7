"""Each store keeps the effective time of its latest count.

A movement that arrives after a count but took effect before it is rebased on that count
(StoreTx._rebase_on_counts), which meant reading the count anchors of every batch's items and
locations. A movement at or after the store's latest count cannot precede any count, so the read
is skipped; here the time is filled from the counts already in the ledger.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('stores', sa.Column('last_count_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE stores SET last_count_at = (SELECT MAX(l.effective_at) FROM ledger l "
        "WHERE l.store_id = stores.store_id AND l.reason = 'count' AND l.status = 'available')"
    )


def downgrade() -> None:
    with op.batch_alter_table('stores') as batch:
        batch.drop_column('last_count_at')
