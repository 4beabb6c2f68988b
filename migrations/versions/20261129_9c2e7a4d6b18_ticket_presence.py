"""ticket_presence: who has a ticket open right now, and whether they are typing (issue 15).

Revision ID: 9c2e7a4d6b18
Revises: 4b6d2f8e1a37
Create Date: 2026-11-29 13:50:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = '9c2e7a4d6b18'
down_revision = '4b6d2f8e1a37'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_presence',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('typing_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_presence_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_presence_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'user_id', name=op.f('pk_ticket_presence'))
    )


def downgrade() -> None:
    op.drop_table('ticket_presence')
