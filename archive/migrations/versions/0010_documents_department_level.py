"""documents: one index on (department, level) for the permission clause, replacing the department index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_department_id')
        batch_op.create_index('ix_documents_department_level', ['department_id', 'level'], unique=False)


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_department_level')
        batch_op.create_index('ix_documents_department_id', ['department_id'], unique=False)
