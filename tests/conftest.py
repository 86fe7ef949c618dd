"""Fixtures: a fresh migrated database per test (SQLite file copy, or PostgreSQL truncation), real keys,
real encrypted storage, and factory functions that go through the real services.

Set ARCHIVE_TEST_DATABASE_URL to a PostgreSQL URL to run the suite there (scripts/test does).
"""
from __future__ import annotations

import base64
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

os.environ.setdefault("ARCHIVE_INSTANCE_PATH", "/nonexistent-instance-for-tests")

from archive import create_app  # noqa: E402
from archive.extensions import db  # noqa: E402

TEST_MASTER_KEY = base64.b64encode(b"k" * 32).decode()
POSTGRES_URL = os.environ.get("ARCHIVE_TEST_DATABASE_URL", "")


def _worker_suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_database_url() -> str:
    """A database of its own for each xdist worker, created (empty) on the given server."""
    url = sa.make_url(POSTGRES_URL)
    name = f"{url.database or 'archive_test'}_{_worker_suffix()}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _config(database_url: str, storage: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_DIR": str(storage),
        "MASTER_KEY": TEST_MASTER_KEY,
        "SECRET_KEY": "test-secret-key",
        "SERVER_NAME": "localhost",
        "PREFERRED_URL_SCHEME": "https",
        "PASSWORD_HASH_PROFILE": "CHEAPEST",  # real Argon2id at test cost; the default is tested on its own
    }


class BrowserLikeClient(FlaskClient):
    """Requests as under a real server: HTTPS (secure cookies), a same-site Referer (Flask-WTF's strict
    CSRF check on HTTPS wants one), and each request in an application context of its own.

    The app fixture keeps one context open for the whole test; a request pushed inside it would share
    its `g` (where Flask-WTF caches the CSRF token, stale after log-in clears the session, and Flask-Login
    its user) and its database session (whose identity map would hide the queries a page really makes).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_REFERER"] = "https://localhost/"

    def open(self, *args, **kwargs):
        # End the test's own transaction first: on SQLite every transaction holds the write lock.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(database_url: str, storage: Path, **overrides):
    app = create_app({**_config(database_url, storage), **overrides})
    app.test_client_class = BrowserLikeClient
    return app


def ready_archive() -> None:
    """What `archive init` leaves in a new archive: the key check value and the default departments."""
    from archive.auth.services import ensure_default_departments
    from archive.core.keys import write_key_check

    write_key_check()
    db.session.commit()
    ensure_default_departments()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """Run the migrations once; each test then starts from this schema."""
    if POSTGRES_URL:
        url = _postgres_database_url()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    app = create_app(_config(url, tmp_path_factory.mktemp("template-storage")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return url


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in db.metadata.sorted_tables]
        conn.execute(sa.text("SET session_replication_role = replica"))  # lets the cleanup pass the audit guard
        conn.execute(sa.text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    engine.dispose()


def fresh_database(migrated_database: str, directory: Path) -> str:
    """An empty database at the newest schema: a copy of the SQLite template, or the PostgreSQL one emptied."""
    if POSTGRES_URL:
        _reset_postgres(migrated_database)
        return migrated_database
    copy = directory / "archive.db"
    shutil.copyfile(sa.make_url(migrated_database).database, copy)
    return f"sqlite:///{copy}"


@contextmanager
def running(app):
    """The app's context for a test: a ready archive on entry, connections closed on exit."""
    with app.app_context():
        ready_archive()
        yield app
        db.session.remove()
        db.engine.dispose()


@contextmanager
def keyfile_instance(database_url: str, tmp_path: Path, monkeypatch, **overrides):
    """A ready archive whose master key is a file in its instance folder, not ARCHIVE_MASTER_KEY: what key
    rotation writes to."""
    monkeypatch.setenv("ARCHIVE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("ARCHIVE_MASTER_KEY", raising=False)
    from archive.core.keys import key_file
    from archive.storage import Keyring

    app = make_app(database_url, tmp_path / "storage", MASTER_KEY=None, **overrides)
    Keyring.create_file(key_file(app))
    with running(app):
        yield app


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    return fresh_database(migrated_database, tmp_path)


@pytest.fixture
def app(database_url, tmp_path):
    with running(make_app(database_url, tmp_path / "storage")) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factory(app):
    from tests.factories import Factory

    return Factory(app)
