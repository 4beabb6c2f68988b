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
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the users table, which
    # every other table points at.
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+), for the same reason.
    op.drop_column('users', 'must_change_password')
