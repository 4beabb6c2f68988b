"""A partial index of active tickets by update time, for the desk's queue views.

Revision ID: 17f098514a0e
Revises: 1ced6d6383dd
Create Date: 2026-11-25 21:11:28.495686
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = '17f098514a0e'
down_revision = '1ced6d6383dd'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_active_updated_at', ['updated_at'], unique=False, postgresql_where=sa.text("status IN ('new', 'on_hold', 'open', 'pending')"), sqlite_where=sa.text("status IN ('new', 'on_hold', 'open', 'pending')"))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_active_updated_at', postgresql_where=sa.text("status IN ('new', 'on_hold', 'open', 'pending')"), sqlite_where=sa.text("status IN ('new', 'on_hold', 'open', 'pending')"))

