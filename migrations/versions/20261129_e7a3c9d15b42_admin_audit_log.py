"""admin audit log: append-only entries of admins' changes and sign-in method changes (issue 20).

Revision ID: e7a3c9d15b42
Revises: 286134d4ce09
Create Date: 2026-11-29 19:50:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'e7a3c9d15b42'
down_revision = '286134d4ce09'
branch_labels = None
depends_on = None

# On PostgreSQL the database itself refuses to change or remove an entry (TRUNCATE, for a test's or an
# operator's wipe of everything, stays possible).
_REFUSE = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
"""


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=24), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('target_label', sa.String(length=254), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action_id', ['action', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_actor_id_id', ['actor_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_entries_target', ['target_type', 'target_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(_REFUSE)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_entries_append_only ON audit_entries')
        op.execute('DROP FUNCTION audit_entries_append_only()')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_target')
        batch_op.drop_index(batch_op.f('ix_audit_entries_created_at'))
        batch_op.drop_index('ix_audit_entries_actor_id_id')
        batch_op.drop_index('ix_audit_entries_action_id')
    op.drop_table('audit_entries')
