"""Each store names the version of its master data (items, locations, users) it holds.

`stores.master_version` is a random token written by every load of master data, in the same
transaction; a worker keeps the items, locations and users it has read under the token it read
them with, and uses them again only while the store still holds that token
(server_stub.lookups). Existing stores start with no version, which caches nothing until their
next load.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('stores', sa.Column('master_version', sa.String(length=32), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('stores') as batch:
        batch.drop_column('master_version')
