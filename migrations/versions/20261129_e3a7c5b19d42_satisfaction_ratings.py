"""satisfaction ratings: the requester's good or bad (and comment) for each resolution of a ticket
(issue 21). A new table only: the previous release runs on this schema unchanged.

Revision ID: e3a7c5b19d42
Revises: e5a7c3d9b214
Create Date: 2026-11-29 19:32:05
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'e3a7c5b19d42'
down_revision = 'e5a7c3d9b214'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('resolution_event_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('resolved_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_ratings_requester_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolution_event_id'], ['ticket_events.id'], name=op.f('fk_ratings_resolution_event_id_ticket_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ratings_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('resolution_event_id', name=op.f('uq_ratings_resolution_event_id'))
    )
    op.create_index(op.f('ix_ratings_requester_id'), 'ratings', ['requester_id'], unique=False)
    op.create_index('ix_ratings_resolved_at', 'ratings', ['resolved_at'], unique=False)
    op.create_index(op.f('ix_ratings_ticket_id'), 'ratings', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ratings_ticket_id'), table_name='ratings')
    op.drop_index('ix_ratings_resolved_at', table_name='ratings')
    op.drop_index(op.f('ix_ratings_requester_id'), table_name='ratings')
    op.drop_table('ratings')
