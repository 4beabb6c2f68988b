"""Indexes for the reports: tickets by creation and resolution time, creations and status changes by time.

Revision ID: 3e8a1f0c5b27
Revises: b71d4e2a6c15
Create Date: 2026-11-29 13:20:00
"""

from alembic import op

from supportdesk.core.migrating import create_index_concurrently


revision = '3e8a1f0c5b27'
down_revision = 'b71d4e2a6c15'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_index_concurrently('ix_tickets_created_at', 'tickets', ['created_at'])
    create_index_concurrently('ix_tickets_resolved_at', 'tickets', ['resolved_at'])
    create_index_concurrently('ix_ticket_events_kind_created_at', 'ticket_events', ['kind', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_ticket_events_kind_created_at', table_name='ticket_events')
    op.drop_index('ix_tickets_resolved_at', table_name='tickets')
    op.drop_index('ix_tickets_created_at', table_name='tickets')
