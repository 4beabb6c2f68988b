"""two-factor sign-in: TOTP secrets (encrypted) and one-time recovery codes (hashed) (issue 20).

Revision ID: d2f7a9c41e63
Revises: b8d4f0e3a521
Create Date: 2026-11-29 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'd2f7a9c41e63'
down_revision = 'b8d4f0e3a521'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('two_factor',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=255), nullable=False),
    sa.Column('enabled_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_two_factor_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_two_factor'))
    )
    op.create_table('two_factor_recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_two_factor_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_two_factor_recovery_codes'))
    )
    with op.batch_alter_table('two_factor_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_two_factor_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('two_factor_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_two_factor_recovery_codes_user_id'))
    op.drop_table('two_factor_recovery_codes')
    op.drop_table('two_factor')
