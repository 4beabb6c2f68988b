"""user imports: CSV files of people staged between their preview and their application (issue 20).

Revision ID: f3b8d2a6c714
Revises: f3b8d1e6a240
Create Date: 2026-11-29 20:10:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'f3b8d2a6c714'
down_revision = 'f3b8d1e6a240'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('update_existing', sa.Boolean(), nullable=False),
    sa.Column('invite', sa.Boolean(), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['users.id'], name=op.f('fk_user_imports_admin_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_imports'))
    )
    with op.batch_alter_table('user_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_imports_admin_id'), ['admin_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_imports_admin_id'))
    op.drop_table('user_imports')
