"""Op results and balances are read into the change feed from their own rows.

An op's result and a touched balance used to be copied into `changes` (three rows for a putaway, the
op's result twice over); each now carries its place in the feed, `change_seq`, from the store's one
counter, so the feed merges `changes`, `ops` and `balances` by that seq (server_stub.feeds).

Rows written before this migration keep `change_seq` 0 and their old `changes` rows, which the feed
still serves in order: nothing a device has not read yet is lost, and nothing is sent twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('ops', 'balances'):
        op.add_column(table, sa.Column('change_seq', sa.BigInteger(), nullable=False, server_default='0'))
        op.create_index(f'ix_{table}_store_id_change_seq', table, ['store_id', 'change_seq'], unique=False)


def downgrade() -> None:
    for table in ('ops', 'balances'):
        op.drop_index(f'ix_{table}_store_id_change_seq', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column('change_seq')
