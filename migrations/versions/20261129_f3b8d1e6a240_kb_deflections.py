"""knowledge base: deflections, an article that answered a ticket before it was raised (issue 21).

Revision ID: f3b8d1e6a240
Revises: e4a1c7b9d2f5
Create Date: 2026-11-29 20:00:00
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = 'f3b8d1e6a240'
down_revision = 'e4a1c7b9d2f5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_deflections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('created_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_deflections_article_id_kb_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_kb_deflections_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kb_deflections_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_deflections'))
    )
    with op.batch_alter_table('kb_deflections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_deflections_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_deflections_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_kb_deflections_created_at_article_id', ['created_at', 'article_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kb_deflections', schema=None) as batch_op:
        batch_op.drop_index('ix_kb_deflections_created_at_article_id')
        batch_op.drop_index(batch_op.f('ix_kb_deflections_user_id'))
        batch_op.drop_index(batch_op.f('ix_kb_deflections_article_id'))
    op.drop_table('kb_deflections')
