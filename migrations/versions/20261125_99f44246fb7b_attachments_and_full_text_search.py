"""Attachments, and full-text search over tickets (FTS5 on SQLite, GIN over tsvector on PostgreSQL).

Revision ID: 99f44246fb7b
Revises: db2c5d75161d
Create Date: 2026-11-25 19:47:50.937995
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = '99f44246fb7b'
down_revision = 'db2c5d75161d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_search',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('public_text', sa.Text(), nullable=False),
    sa.Column('internal_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_search_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_search'))
    )
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=160), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_attachments_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_attachments_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_attachments_uploader_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachments_storage_key'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_ticket_id'), ['ticket_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # Queries use these exact expressions (supportdesk/search/service.py), so the planner uses them.
        op.execute(
            "CREATE INDEX ix_ticket_search_public_fts ON ticket_search "
            "USING gin (to_tsvector('english', public_text))"
        )
        op.execute(
            "CREATE INDEX ix_ticket_search_all_fts ON ticket_search "
            "USING gin (to_tsvector('english', public_text || ' ' || internal_text))"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE ticket_fts USING fts5(public_text, internal_text, content='ticket_search', "
            "content_rowid='ticket_id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER ticket_search_ai AFTER INSERT ON ticket_search BEGIN "
            "INSERT INTO ticket_fts(rowid, public_text, internal_text) "
            "VALUES (new.ticket_id, new.public_text, new.internal_text); END"
        )
        op.execute(
            "CREATE TRIGGER ticket_search_ad AFTER DELETE ON ticket_search BEGIN "
            "INSERT INTO ticket_fts(ticket_fts, rowid, public_text, internal_text) "
            "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text); END"
        )
        op.execute(
            "CREATE TRIGGER ticket_search_au AFTER UPDATE ON ticket_search BEGIN "
            "INSERT INTO ticket_fts(ticket_fts, rowid, public_text, internal_text) "
            "VALUES ('delete', old.ticket_id, old.public_text, old.internal_text); "
            "INSERT INTO ticket_fts(rowid, public_text, internal_text) "
            "VALUES (new.ticket_id, new.public_text, new.internal_text); END"
        )
    _backfill_search_text()


def _backfill_search_text() -> None:
    """Tickets that exist before this migration get their search text too."""
    postgres = op.get_bind().dialect.name == "postgresql"
    nl = "chr(10)" if postgres else "char(10)"
    joined = f"string_agg(body, {nl} ORDER BY id)" if postgres else f"group_concat(body, {nl})"
    op.execute(f"""
        INSERT INTO ticket_search (ticket_id, public_text, internal_text)
        SELECT t.id,
               t.subject || {nl} || t.description || coalesce({nl} || pub.text, ''),
               coalesce(priv.text, '')
        FROM tickets t
        LEFT JOIN (SELECT ticket_id, {joined} AS text FROM comments WHERE NOT internal GROUP BY ticket_id) pub
               ON pub.ticket_id = t.id
        LEFT JOIN (SELECT ticket_id, {joined} AS text FROM comments WHERE internal GROUP BY ticket_id) priv
               ON priv.ticket_id = t.id
    """)

def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_ticket_search_all_fts")
        op.execute("DROP INDEX IF EXISTS ix_ticket_search_public_fts")
    else:
        for trigger in ("ticket_search_ai", "ticket_search_ad", "ticket_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS ticket_fts")
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_attachments_comment_id'))

    op.drop_table('attachments')
    op.drop_table('ticket_search')
