"""Service levels: business calendars, policies, and each ticket's due times.

Expand only: two new tables and nullable (or defaulted) ticket columns, so the previous release runs
on this schema; the due-time index is built concurrently on PostgreSQL.

Revision ID: c4e8a1f2d3b7
Revises: 54d38b95275f
Create Date: 2026-11-29 13:00:00
"""

from alembic import op
import sqlalchemy as sa

import supportdesk.core.db

from supportdesk.core.migrating import create_index_concurrently


revision = 'c4e8a1f2d3b7'
down_revision = '54d38b95275f'
branch_labels = None
depends_on = None

DUE = sa.text("status IN ('new', 'on_hold', 'open', 'pending') AND next_due_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        'sla_calendars',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('weekly', sa.JSON(), nullable=False),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'sla_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('priority', sa.String(length=16), nullable=True),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('calendar_id', sa.Integer(), nullable=False),
        sa.Column('first_response_minutes', sa.Integer(), nullable=True),
        sa.Column('resolution_minutes', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'sla_recompute_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_through_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # No foreign key: SQLite cannot add one to a table in place (a copy of a million tickets would);
    # deleting a policy recomputes its tickets instead (sla.admin).
    op.add_column('tickets', sa.Column('sla_policy_id', sa.Integer(), nullable=True))
    op.add_column('tickets', sa.Column('first_response_due_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('first_response_breached', sa.Boolean(), nullable=True))
    op.add_column('tickets', sa.Column('resolution_due_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('resolution_breached', sa.Boolean(), nullable=True))
    op.add_column('tickets', sa.Column('sla_worked_seconds', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('tickets', sa.Column('sla_clock_since', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('next_due_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True))
    create_index_concurrently(
        'ix_tickets_active_next_due_at', 'tickets', ['next_due_at'],
        postgresql_where=DUE, sqlite_where=DUE,
    )


def downgrade() -> None:
    op.drop_index('ix_tickets_active_next_due_at', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for column in (
            'next_due_at', 'sla_clock_since', 'sla_worked_seconds', 'resolution_breached', 'resolution_due_at',
            'first_response_breached', 'first_response_due_at', 'sla_policy_id',
        ):
            batch_op.drop_column(column)
    op.drop_table('sla_recompute_requests')
    op.drop_table('sla_policies')
    op.drop_table('sla_calendars')
