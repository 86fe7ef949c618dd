"""classification changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('classification_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'cancelled', name='changestatus', native_enum=False, length=20), nullable=False),
    sa.Column('old_level', sa.Enum('C', 'B', 'A', name='level', native_enum=False, length=1), nullable=False),
    sa.Column('new_level', sa.Enum('C', 'B', 'A', name='level', native_enum=False, length=1), nullable=False),
    sa.Column('period', sa.Enum('date', 'long_term', 'until_published', name='levelperiod', native_enum=False, length=20), nullable=True),
    sa.Column('period_until', sa.Date(), nullable=True),
    sa.Column('scope_department_ids', sa.JSON(), nullable=False),
    sa.Column('scope_user_ids', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('department_head_id', sa.Integer(), nullable=True),
    sa.Column('department_head_at', sa.DateTime(), nullable=True),
    sa.Column('archive_head_id', sa.Integer(), nullable=True),
    sa.Column('archive_head_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('rejection_reason', sa.String(length=1000), nullable=False),
    sa.CheckConstraint('old_level <> new_level', name=op.f('ck_classification_changes_level_changes')),
    sa.ForeignKeyConstraint(['archive_head_id'], ['users.id'], name=op.f('fk_classification_changes_archive_head_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_classification_changes_closed_by_id_users')),
    sa.ForeignKeyConstraint(['department_head_id'], ['users.id'], name=op.f('fk_classification_changes_department_head_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_classification_changes_document_id_documents')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_classification_changes_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classification_changes')),
    sa.UniqueConstraint('number', name=op.f('uq_classification_changes_number'))
    )
    with op.batch_alter_table('classification_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classification_changes_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_classification_changes_status'), ['status'], unique=False)
        batch_op.create_index('ix_classification_changes_open_document', ['document_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level_period', sa.Enum('date', 'long_term', 'until_published', name='levelperiod', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('level_until', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_level_until'), ['level_until'], unique=False)

    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_reason', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('suspended_reason')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_level_until'))
        batch_op.drop_column('level_until')
        batch_op.drop_column('level_period')

    with op.batch_alter_table('classification_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_classification_changes_open_document')
        batch_op.drop_index(batch_op.f('ix_classification_changes_status'))
        batch_op.drop_index(batch_op.f('ix_classification_changes_document_id'))

    op.drop_table('classification_changes')
