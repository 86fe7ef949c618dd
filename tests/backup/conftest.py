"""Fixtures for backup tests: an archive whose texts are read at once, and empty instances to restore into."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.extensions import db
from tests.conftest import POSTGRES_URL, make_app, running


@pytest.fixture
def app(database_url, tmp_path):
    """The suite's app with every task (text extraction, indexing) run at once, so the texts exist to back up."""
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app


def _admin(url: sa.URL, *statements: str) -> None:
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


@contextmanager
def empty_instance(source_url: str, directory: Path, **overrides):
    """A new instance nobody has initialised: an empty SQLite file's place, or a new PostgreSQL database on the
    suite's server (dropped afterwards), and an empty storage folder. Use it inside `with app.app_context()`."""
    if POSTGRES_URL:
        url = sa.make_url(source_url)
        name = f"{url.database}_target"
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        target_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        directory.mkdir(parents=True, exist_ok=True)
        target_url = f"sqlite:///{directory / 'archive.db'}"
    app = make_app(target_url, directory / "storage", QUEUE_IMMEDIATE=True, **overrides)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if POSTGRES_URL:
            _admin(sa.make_url(source_url), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target(database_url, tmp_path):
    with empty_instance(database_url, tmp_path / "target") as target_app:
        yield target_app
