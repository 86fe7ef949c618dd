"""Upgrading an empty database gives exactly the models' schema, on SQLite and PostgreSQL."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from archive.extensions import db


def _schema_drift():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def test_upgraded_schema_matches_models(app):
    assert _schema_drift() == []


def test_downgrade_then_upgrade_round_trips(app):
    directory = app.extensions["migrate"].directory
    db.session.remove()
    downgrade(directory=directory, revision="base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(directory=directory)
    assert _schema_drift() == []


def test_audit_chain_head_is_seeded(app):
    from archive.audit.models import AuditHead

    head = db.session.get(AuditHead, 1)
    assert head is not None and head.last_hash == "0" * 64
