"""Integrity tests: an app whose tasks run at once, so every filed file has its sealed text blob too."""
from __future__ import annotations

import pytest

from tests.conftest import make_app, running


@pytest.fixture
def app(database_url, tmp_path):
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app
