"""ticket_exports: ticket lists too long to stream, written by a job for the one who asked; the
notification that tells them (notifications.export_id).

Revision ID: b5d1e7c3a9f2
Revises: a7c3e9d2f410
Create Date: 2026-11-29 16:45:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'b5d1e7c3a9f2'
down_revision = 'a7c3e9d2f410'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('query', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'ready', 'failed', name='exportstatus', native_enum=False, create_constraint=False, length=16), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('file_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_exports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_exports'))
    )
    op.create_index(op.f('ix_ticket_exports_created_at'), 'ticket_exports', ['created_at'], unique=False)
    op.create_index(op.f('ix_ticket_exports_user_id'), 'ticket_exports', ['user_id'], unique=False)
    op.add_column('notifications', sa.Column('export_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('notifications', 'export_id')
    op.drop_index(op.f('ix_ticket_exports_user_id'), table_name='ticket_exports')
    op.drop_index(op.f('ix_ticket_exports_created_at'), table_name='ticket_exports')
    op.drop_table('ticket_exports')
