"""The reports' open tickets breached now: a partial index of the few active tickets past a target.

Revision ID: 7a3c9e1d2f45
Revises: 980ebb2864d6
Create Date: 2026-11-29 16:10:00
"""

from alembic import op
import sqlalchemy as sa

from supportdesk.core.migrating import create_index_concurrently


revision = '7a3c9e1d2f45'
down_revision = '980ebb2864d6'
branch_labels = None
depends_on = None

BREACHED = (
    "status IN ('new', 'on_hold', 'open', 'pending') AND (first_response_breached OR resolution_breached)"
)


def upgrade() -> None:
    create_index_concurrently(
        'ix_tickets_active_breached',
        'tickets',
        ['team_id'],
        postgresql_where=sa.text(BREACHED),
        sqlite_where=sa.text(BREACHED),
    )


def downgrade() -> None:
    op.drop_index('ix_tickets_active_breached', table_name='tickets')
