"""Initial schema: stores, master data, tasks, devices and ops, ledger and balances, feeds.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('asns',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('asn_id', sa.String(length=64), nullable=False),
    sa.Column('po_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'asn_id', name=op.f('pk_asns'))
    )
    op.create_table('balances',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('qty', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'item_id', 'location_id', 'status', name=op.f('pk_balances'))
    )
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balances_store_id_location_id'), ['store_id', 'location_id'], unique=False)

    op.create_table('changes',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('change_seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'change_seq', name=op.f('pk_changes'))
    )
    op.create_table('count_reviews',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('approval_id', sa.String(length=64), nullable=False),
    sa.Column('count_id', sa.String(length=64), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('counted_qty', sa.Integer(), nullable=False),
    sa.Column('balance_qty', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('exception_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('posted_qty', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('store_id', 'approval_id', name=op.f('pk_count_reviews'))
    )
    with op.batch_alter_table('count_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_count_reviews_store_id_status'), ['store_id', 'status'], unique=False)

    op.create_table('devices',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_op_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lag_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_user_id', sa.String(length=64), nullable=True),
    sa.Column('pending', sa.Integer(), server_default='0', nullable=False),
    sa.Column('parked', sa.Integer(), server_default='0', nullable=False),
    sa.Column('oldest_pending_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('app_version', sa.String(length=32), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'device_id', name=op.f('pk_devices'))
    )
    op.create_table('erp_events',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'event_seq', name=op.f('pk_erp_events'))
    )
    op.create_table('exceptions',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('exception_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution_note', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('store_id', 'exception_id', name=op.f('pk_exceptions'))
    )
    with op.batch_alter_table('exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exceptions_store_id_status_kind'), ['store_id', 'status', 'kind'], unique=False)

    op.create_table('item_gtins',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('pack_qty', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'gtin', name=op.f('pk_item_gtins'))
    )
    with op.batch_alter_table('item_gtins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_gtins_store_id_item_id'), ['store_id', 'item_id'], unique=False)

    op.create_table('items',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'item_id', name=op.f('pk_items'))
    )
    op.create_table('ledger',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('entry_seq', sa.BigInteger(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('store_id', 'entry_seq', name=op.f('pk_ledger'))
    )
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_store_id_item_id_location_id_effective_at'), ['store_id', 'item_id', 'location_id', 'effective_at'], unique=False)

    op.create_table('locations',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), server_default='0', nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'location_id', name=op.f('pk_locations'))
    )
    op.create_table('ops',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('op_id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'op_id', name=op.f('pk_ops')),
    sa.UniqueConstraint('store_id', 'device_id', 'seq', name=op.f('uq_ops_store_id_device_id_seq'))
    )
    op.create_table('order_lines',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('picked_qty', sa.Integer(), server_default='0', nullable=False),
    sa.Column('short_qty', sa.Integer(), server_default='0', nullable=False),
    sa.Column('staged_qty', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_picked_device_id', sa.String(length=64), nullable=True),
    sa.Column('last_picked_user_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('store_id', 'order_id', 'line_id', name=op.f('pk_order_lines'))
    )
    op.create_table('orders',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('allow_substitution', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'order_id', name=op.f('pk_orders'))
    )
    op.create_table('purchase_orders',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('po_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'po_id', name=op.f('pk_purchase_orders'))
    )
    op.create_table('receipt_lines',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('receipt_id', sa.String(length=64), nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=True),
    sa.Column('received_qty', sa.Integer(), server_default='0', nullable=False),
    sa.Column('damaged_qty', sa.Integer(), server_default='0', nullable=False),
    sa.Column('over_receipt_exception_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('store_id', 'receipt_id', 'gtin', name=op.f('pk_receipt_lines'))
    )
    op.create_table('receipts',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('receipt_id', sa.String(length=64), nullable=False),
    sa.Column('po_id', sa.String(length=64), nullable=True),
    sa.Column('asn_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_op_id', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('store_id', 'receipt_id', name=op.f('pk_receipts'))
    )
    op.create_table('stores',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('change_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('erp_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('ledger_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('exception_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('approval_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_stores'))
    )
    op.create_table('tasks',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.String(length=64), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ref_id', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=500), server_default='', nullable=False),
    sa.Column('lease_device_id', sa.String(length=64), nullable=True),
    sa.Column('lease_user_id', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_device_id', sa.String(length=64), nullable=True),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'task_id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_store_id_status_priority'), ['store_id', 'status', 'priority'], unique=False)

    op.create_table('users',
    sa.Column('store_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'user_id', name=op.f('pk_users'))
    )


def downgrade() -> None:
    op.drop_table('users')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_store_id_status_priority'))

    op.drop_table('tasks')
    op.drop_table('stores')
    op.drop_table('receipts')
    op.drop_table('receipt_lines')
    op.drop_table('purchase_orders')
    op.drop_table('orders')
    op.drop_table('order_lines')
    op.drop_table('ops')
    op.drop_table('locations')
    with op.batch_alter_table('ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_store_id_item_id_location_id_effective_at'))

    op.drop_table('ledger')
    op.drop_table('items')
    with op.batch_alter_table('item_gtins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_gtins_store_id_item_id'))

    op.drop_table('item_gtins')
    with op.batch_alter_table('exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exceptions_store_id_status_kind'))

    op.drop_table('exceptions')
    op.drop_table('erp_events')
    op.drop_table('devices')
    with op.batch_alter_table('count_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_count_reviews_store_id_status'))

    op.drop_table('count_reviews')
    op.drop_table('changes')
    with op.batch_alter_table('balances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_balances_store_id_location_id'))

    op.drop_table('balances')
    op.drop_table('asns')
