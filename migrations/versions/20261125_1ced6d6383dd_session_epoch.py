"""users.session_epoch: raising it ends all of a user's sessions (sign-out, password change).

Revision ID: 1ced6d6383dd
Revises: 7a5bf509860c
Create Date: 2026-11-25 20:44:01.588985
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = '1ced6d6383dd'
down_revision = '7a5bf509860c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')

