"""Ticket merges and incidents: a merged ticket points at the ticket it was merged into, a child ticket
at its parent incident (issue 21). Expand only: two nullable columns and their indexes.

Revision ID: e5a7c3d9b214
Revises: f3b8d2a6c714
Create Date: 2026-11-29 19:50:00
"""

from alembic import op
import sqlalchemy as sa

from supportdesk.core.migrating import create_index_concurrently


revision = 'e5a7c3d9b214'
down_revision = 'f3b8d2a6c714'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign keys: SQLite cannot add one to an existing table in place (as sla_policy_id).
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
    create_index_concurrently(
        'ix_tickets_merged_into_id',
        'tickets',
        ['merged_into_id'],
        postgresql_where=sa.text('merged_into_id IS NOT NULL'),
        sqlite_where=sa.text('merged_into_id IS NOT NULL'),
    )
    create_index_concurrently(
        'ix_tickets_parent_id',
        'tickets',
        ['parent_id'],
        postgresql_where=sa.text('parent_id IS NOT NULL'),
        sqlite_where=sa.text('parent_id IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_tickets_parent_id', table_name='tickets')
    op.drop_index('ix_tickets_merged_into_id', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('parent_id')
        batch.drop_column('merged_into_id')
