"""fixity runs and integrity alerts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fixity_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('checked', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('bytes_checked', sa.BigInteger(), nullable=False),
    sa.Column('cursor', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fixity_runs'))
    )
    with op.batch_alter_table('fixity_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fixity_runs_started_at'), ['started_at'], unique=False)

    op.create_table('integrity_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('blob_id', sa.String(length=64), nullable=False),
    sa.Column('problem', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', name='alertstatus', native_enum=False, length=20), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_integrity_alerts_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_integrity_alerts_document_id_documents')),
    sa.ForeignKeyConstraint(['run_id'], ['fixity_runs.id'], name=op.f('fk_integrity_alerts_run_id_fixity_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_alerts'))
    )
    with op.batch_alter_table('integrity_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integrity_alerts_blob_id'), ['blob_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_alerts_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('integrity_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_integrity_alerts_blob_id'))

    op.drop_table('integrity_alerts')
    with op.batch_alter_table('fixity_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fixity_runs_started_at'))

    op.drop_table('fixity_runs')
