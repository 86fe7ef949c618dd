"""Initialising an instance and checking it before serving."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade

from .auth import services as auth
from .auth.models import User
from .core.enums import Level, Role
from .core.keys import (
    KEY_CHECK,
    MasterKeyError,
    check_master_key,
    key_file,
    keyring,
    write_key_check,
)
from .core.models import Setting
from .extensions import db
from .handovers.deadlines import ensure_default_rules
from .retention.services import ensure_default_schedule
from .storage import Keyring


def _database_has_archive() -> bool:
    inspector = sa.inspect(db.engine)
    return inspector.has_table("settings") and db.session.get(Setting, KEY_CHECK) is not None


def initialise(app: Flask, admin_login: str = "admin") -> Iterator[str]:
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("MASTER_KEY") and not key_file(app).exists():
        if _database_has_archive():
            raise MasterKeyError(
                f"This database holds an archive but {key_file(app)} is missing. Restore the master key; "
                "a new key would make every stored file unreadable."
            )
        Keyring.create_file(key_file(app))
        yield f"Created the master key {key_file(app)} (mode 0600). Back it up apart from storage/."
    upgrade(directory=app.extensions["migrate"].directory)
    yield "Database is at the newest schema."
    check_master_key()
    write_key_check()
    db.session.commit()
    auth.ensure_default_departments()
    ensure_default_rules()
    ensure_default_schedule()
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        admin, admin_password = auth.create_user(
            auth.SYSTEM, username=admin_login, display_name="系统管理员", department_code="GMO",
            roles={Role.ADMIN}, clearance=Level.C,
        )
        archivist, archivist_password = auth.create_user(
            auth.SYSTEM, username="archivist", display_name="档案员", department_code="GMO",
            roles={Role.ARCHIVIST}, clearance=Level.B,
        )
        yield "First log-ins (shown once; change them under My account):"
        yield f"  administrator  login: {admin.username:<10} password: {admin_password}"
        yield f"  archivist      login: {archivist.username:<10} password: {archivist_password}"
    else:
        yield "Existing users kept."


def startup_checks(app: Flask) -> None:
    """Refuse to serve with a missing or wrong master key, an un-migrated database or an unfinished restore."""
    from .backup.services import RESTORE_MARKER

    if (Path(app.config["STORAGE_DIR"]) / RESTORE_MARKER).exists():
        raise RuntimeError("A restore into this instance did not finish: run `archive restore` again.")
    keyring()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory(app.extensions["migrate"].directory).get_current_head()
    if current != head:
        raise RuntimeError(f"The database is at revision {current}, not {head}: run `archive init` first.")
    check_master_key()
