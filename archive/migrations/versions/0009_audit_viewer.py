"""audit viewer: the actor's department recorded on each event

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, never batch mode: SQLite's batch mode copies the table and would lose the triggers
# that keep audit_events append-only. Neither statement rewrites existing rows, so the triggers do not fire.
def upgrade():
    op.add_column('audit_events', sa.Column('actor_department', sa.String(length=20), server_default='',
                                            nullable=False))
    op.create_index(op.f('ix_audit_events_actor_department'), 'audit_events', ['actor_department'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_audit_events_actor_department'), table_name='audit_events')
    op.drop_column('audit_events', 'actor_department')
