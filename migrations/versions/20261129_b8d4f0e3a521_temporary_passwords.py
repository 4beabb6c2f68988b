"""temporary passwords: users.must_change_password, set with a password an admin chose (issue 15).

Expand only: a new column with a server default, which the previous release never reads.

Revision ID: b8d4f0e3a521
Revises: b5d1e7c3a9f2
Create Date: 2026-11-29 16:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'b8d4f0e3a521'
down_revision = 'b5d1e7c3a9f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
