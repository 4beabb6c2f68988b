"""PostgreSQL: one stored tsvector per ticket instead of two expression indexes.

The text is parsed once per change (and once per row while loading), not once per index; internal
notes carry weight D and public text weight A, so requester searches restrict themselves to A.
SQLite keeps its FTS5 table and is untouched.

Revision ID: 5d1e0c7a9b42
Revises: 17f098514a0e
Create Date: 2026-11-25 22:50:00
"""

from alembic import op


revision = '5d1e0c7a9b42'
down_revision = '17f098514a0e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE ticket_search ADD COLUMN search_document tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', public_text), 'A') || "
        "setweight(to_tsvector('english', internal_text), 'D')) STORED"
    )
    op.execute("CREATE INDEX ix_ticket_search_document ON ticket_search USING gin (search_document)")
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_all_fts")
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_public_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_ticket_search_public_fts ON ticket_search "
        "USING gin (to_tsvector('english', public_text))"
    )
    op.execute(
        "CREATE INDEX ix_ticket_search_all_fts ON ticket_search "
        "USING gin (to_tsvector('english', public_text || ' ' || internal_text))"
    )
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_document")
    op.execute("ALTER TABLE ticket_search DROP COLUMN search_document")
