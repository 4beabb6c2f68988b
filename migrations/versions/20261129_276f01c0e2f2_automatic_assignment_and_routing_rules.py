"""Automatic assignment per team, technicians' availability, routing rules.

Expand only: three new tables.

Revision ID: 276f01c0e2f2
Revises: 7a3c9e1d2f45
Create Date: 2026-11-29 16:12:54.064395
"""

from alembic import op
import sqlalchemy as sa
import supportdesk.core.db


revision = '276f01c0e2f2'
down_revision = '7a3c9e1d2f45'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('team_assignment',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('off', 'round_robin', 'least_loaded', name='assignmentmode', native_enum=False, length=16), nullable=False),
    sa.Column('max_open', sa.Integer(), nullable=True),
    sa.Column('last_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_assignment_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_team_assignment'))
    )
    op.create_table('technician_availability',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('changed_at', supportdesk.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_technician_availability_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_technician_availability'))
    )
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('keywords', sa.String(length=500), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_routing_rules_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_routing_rules_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_routing_rules_name'))
    )


def downgrade() -> None:
    op.drop_table('routing_rules')
    op.drop_table('technician_availability')
    op.drop_table('team_assignment')
