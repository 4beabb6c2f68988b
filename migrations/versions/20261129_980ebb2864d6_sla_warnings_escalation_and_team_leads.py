"""Service levels: each policy's warning time and escalation; team leads.

Expand only: new columns with server defaults (or nullable) on two small tables, so the previous
release runs on this schema. SQLite copies sla_policies to add its foreign key (nothing refers to it).

Revision ID: 980ebb2864d6
Revises: 6780e33d1ecc
Create Date: 2026-11-29 15:50:32.268784
"""

from alembic import op
import sqlalchemy as sa


revision = '980ebb2864d6'
down_revision = '6780e33d1ecc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warning_minutes', sa.Integer(), server_default=sa.text('60'), nullable=False))
        batch_op.add_column(sa.Column('escalate_priority', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('escalate_to_team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sla_policies_escalate_to_team_id_teams'), 'teams', ['escalate_to_team_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_lead', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_column('is_lead')

    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sla_policies_escalate_to_team_id_teams'), type_='foreignkey')
        batch_op.drop_column('escalate_to_team_id')
        batch_op.drop_column('escalate_priority')
        batch_op.drop_column('warning_minutes')

