"""Each location's occupancy kept in a row of its own.

A putaway is checked against the capacity of the location it goes to, which used to be summed from
all the location's balances for every batch that touched it (a bulk location with hundreds of
items cost hundreds of rows each time). `occupancy` holds that sum, kept in step with `balances`
in the same transaction; here it is filled from the balances as they stand.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('occupancy',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'location_id', name=op.f('pk_occupancy'))
    )
    op.execute(
        "INSERT INTO occupancy (store_id, location_id, qty) "
        "SELECT store_id, location_id, SUM(qty) FROM balances WHERE status <> 'in_transit' GROUP BY store_id, location_id"
    )


def downgrade() -> None:
    op.drop_table('occupancy')
