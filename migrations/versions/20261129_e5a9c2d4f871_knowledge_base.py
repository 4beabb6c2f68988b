"""knowledge base: articles, their versions, and full-text search over them (issue 21).

SQLite: the FTS5 table kb_fts over title, tags and body (external content, kept by triggers).
PostgreSQL: a generated, weighted tsvector (title A, tags B, body D) under a GIN index.

Revision ID: e5a9c2d4f871
Revises: e7a3c9d15b42
Create Date: 2026-11-29 19:45:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'e5a9c2d4f871'
down_revision = 'e7a3c9d15b42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=310), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'published', name='articlestate', native_enum=False, length=16), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'internal', name='visibility', native_enum=False, length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_kb_articles_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_kb_articles_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_kb_articles_updated_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles'))
    )
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_articles_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_articles_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_kb_articles_state_visibility_title', ['state', 'visibility', 'title'], unique=False)

    op.create_table('kb_article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('tags', sa.String(length=310), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'published', name='articlestate', native_enum=False, length=16), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'internal', name='visibility', native_enum=False, length=16), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=200), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_article_versions_article_id_kb_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_kb_article_versions_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['editor_id'], ['users.id'], name=op.f('fk_kb_article_versions_editor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_article_versions')),
    sa.UniqueConstraint('article_id', 'number', name=op.f('uq_kb_article_versions_article_id'))
    )
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_article_versions_editor_id'), ['editor_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # The query side (supportdesk/kb/search.py) matches and ranks on this exact column.
        op.execute(
            "ALTER TABLE kb_articles ADD COLUMN search_document tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', title), 'A') || "
            "setweight(to_tsvector('english', tags), 'B') || "
            "setweight(to_tsvector('english', body), 'D')) STORED"
        )
        op.execute("CREATE INDEX ix_kb_articles_search_document ON kb_articles USING gin (search_document)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE kb_fts USING fts5(title, tags, body, content='kb_articles', "
            "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER kb_articles_ai AFTER INSERT ON kb_articles BEGIN "
            "INSERT INTO kb_fts(rowid, title, tags, body) VALUES (new.id, new.title, new.tags, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER kb_articles_ad AFTER DELETE ON kb_articles BEGIN "
            "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body) "
            "VALUES ('delete', old.id, old.title, old.tags, old.body); END"
        )
        # Only when the searched text changes: publishing or a new version number leaves the index alone.
        op.execute(
            "CREATE TRIGGER kb_articles_au AFTER UPDATE OF title, tags, body ON kb_articles BEGIN "
            "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body) "
            "VALUES ('delete', old.id, old.title, old.tags, old.body); "
            "INSERT INTO kb_fts(rowid, title, tags, body) VALUES (new.id, new.title, new.tags, new.body); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kb_articles_search_document")
    else:
        for trigger in ("kb_articles_ai", "kb_articles_ad", "kb_articles_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS kb_fts")
    with op.batch_alter_table('kb_article_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_article_versions_editor_id'))
    op.drop_table('kb_article_versions')
    with op.batch_alter_table('kb_articles', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_articles_state_visibility_title')
        batch_op.drop_index(batch_op.f('ix_kb_articles_category_id'))
        batch_op.drop_index(batch_op.f('ix_kb_articles_author_id'))
    op.drop_table('kb_articles')
