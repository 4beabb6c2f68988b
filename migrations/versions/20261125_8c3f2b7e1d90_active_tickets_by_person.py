"""Partial indexes of active tickets per requester and per assignee, newest first.

Revision ID: 8c3f2b7e1d90
Revises: 5d1e0c7a9b42
Create Date: 2026-11-25 23:35:00
"""

from alembic import op
import sqlalchemy as sa


revision = '8c3f2b7e1d90'
down_revision = '5d1e0c7a9b42'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('new', 'on_hold', 'open', 'pending')")
INDEXES = {
    'ix_tickets_active_requester_updated_at': ['requester_id', 'updated_at'],
    'ix_tickets_active_assignee_updated_at': ['assignee_id', 'updated_at'],
}


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False, postgresql_where=ACTIVE, sqlite_where=ACTIVE)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
