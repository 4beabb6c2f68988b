"""A covering partial index for the queue counts (status, assignee, team of active tickets).

Revision ID: b71d4e2a6c15
Revises: 8c3f2b7e1d90
Create Date: 2026-11-25 23:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'b71d4e2a6c15'
down_revision = '8c3f2b7e1d90'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('new', 'on_hold', 'open', 'pending')")


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(
            'ix_tickets_active_counts', ['status', 'assignee_id', 'team_id'], unique=False,
            postgresql_where=ACTIVE, sqlite_where=ACTIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_active_counts')
