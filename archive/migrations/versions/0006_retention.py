"""retention schedules, disposals, legal holds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('disposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'approved', 'completed', 'cancelled', name='disposalstatus', native_enum=False, length=20), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('register_blob_id', sa.String(length=64), nullable=True),
    sa.Column('register_key_id', sa.String(length=40), nullable=True),
    sa.Column('register_wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('register_plain_sha256', sa.String(length=64), nullable=True),
    sa.Column('register_cipher_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_disposals_approved_by_id_users')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_disposals_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_disposals_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposals')),
    sa.UniqueConstraint('number', name=op.f('uq_disposals_number')),
    sa.UniqueConstraint('register_blob_id', name=op.f('uq_disposals_register_blob_id'))
    )
    with op.batch_alter_table('disposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposals_register_key_id'), ['register_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposals_status'), ['status'], unique=False)

    op.create_table('retention_schedules',
    sa.Column('category', sa.Enum('XS', 'QY', 'BZ', 'RH', 'WX', 'PF', 'SS', 'ZL', 'QT', name='category', native_enum=False), nullable=False),
    sa.Column('retention', sa.Enum('Y', 'D30', 'D10', name='retention', native_enum=False, length=4), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_retention_schedules_updated_by_id_users')),
    sa.PrimaryKeyConstraint('category', name=op.f('pk_retention_schedules'))
    )
    op.create_table('disposal_witnesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['disposal_id'], ['disposals.id'], name=op.f('fk_disposal_witnesses_disposal_id_disposals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_disposal_witnesses_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_witnesses')),
    sa.UniqueConstraint('disposal_id', 'user_id', name=op.f('uq_disposal_witnesses_disposal_id'))
    )
    with op.batch_alter_table('disposal_witnesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_witnesses_disposal_id'), ['disposal_id'], unique=False)

    op.create_table('shredded_blobs',
    sa.Column('blob_id', sa.String(length=64), nullable=False),
    sa.Column('disposal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('shredded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['disposal_id'], ['disposals.id'], name=op.f('fk_shredded_blobs_disposal_id_disposals')),
    sa.PrimaryKeyConstraint('blob_id', name=op.f('pk_shredded_blobs'))
    )
    with op.batch_alter_table('shredded_blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shredded_blobs_disposal_id'), ['disposal_id'], unique=False)

    op.create_table('disposal_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('disposal_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('remarks', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['disposal_id'], ['disposals.id'], name=op.f('fk_disposal_items_disposal_id_disposals')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_disposal_items_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_items')),
    sa.UniqueConstraint('disposal_id', 'document_id', name=op.f('uq_disposal_items_disposal_id'))
    )
    with op.batch_alter_table('disposal_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disposal_items_disposal_id'), ['disposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disposal_items_document_id'), ['document_id'], unique=False)

    op.create_table('legal_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=False),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_legal_holds_document_id_documents')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_legal_holds_lifted_by_id_users')),
    sa.ForeignKeyConstraint(['placed_by_id'], ['users.id'], name=op.f('fk_legal_holds_placed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_document_id'), ['document_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keep_until_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('disposed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('disposal_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_disposal_id'), ['disposal_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_documents_disposal_id_disposals'), 'disposals', ['disposal_id'], ['id'])

    with op.batch_alter_table('file_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shredded_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('file_versions', schema=None) as batch_op:
        batch_op.drop_column('shredded_at')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_disposal_id_disposals'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_documents_disposal_id'))
        batch_op.drop_column('disposal_id')
        batch_op.drop_column('disposed_at')
        batch_op.drop_column('keep_until_year')

    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_document_id'))

    op.drop_table('legal_holds')
    with op.batch_alter_table('disposal_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_items_document_id'))
        batch_op.drop_index(batch_op.f('ix_disposal_items_disposal_id'))

    op.drop_table('disposal_items')
    with op.batch_alter_table('shredded_blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shredded_blobs_disposal_id'))

    op.drop_table('shredded_blobs')
    with op.batch_alter_table('disposal_witnesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposal_witnesses_disposal_id'))

    op.drop_table('disposal_witnesses')
    op.drop_table('retention_schedules')
    with op.batch_alter_table('disposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disposals_status'))
        batch_op.drop_index(batch_op.f('ix_disposals_register_key_id'))

    op.drop_table('disposals')
