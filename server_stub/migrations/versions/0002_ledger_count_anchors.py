"""A partial index of the ledger's count entries (available stock), for the count-anchor lookup.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = "reason = 'count' AND status = 'available'"


def upgrade() -> None:
    op.create_index(
        'ix_ledger_count_anchors', 'ledger', ['store_id', 'item_id', 'location_id', 'effective_at'], unique=False,
        sqlite_where=sa.text(_WHERE), postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index('ix_ledger_count_anchors', table_name='ledger')
