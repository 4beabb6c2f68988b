"""directory accounts: which users the company directory (LDAP / Active Directory) owns (issue 20).

Expand only: a new table; the previous release never reads it.

Revision ID: 286134d4ce09
Revises: d2f7a9c41e63
Create Date: 2026-11-29 19:45:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = '286134d4ce09'
down_revision = 'd2f7a9c41e63'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('directory_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('server', sa.String(length=255), nullable=False),
    sa.Column('entry_id', sa.String(length=255), nullable=False),
    sa.Column('dn', sa.String(length=1024), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('synced_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_directory_accounts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_directory_accounts')),
    sa.UniqueConstraint('server', 'entry_id', name=op.f('uq_directory_accounts_server'))
    )


def downgrade() -> None:
    op.drop_table('directory_accounts')
