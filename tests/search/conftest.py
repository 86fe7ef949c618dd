"""Fixtures for search tests: an app whose tasks run at once, a real worker process, the test Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archive.extensions import db
from tests.conftest import make_app, running

# One Redis database per pytest-xdist worker (15, 14, …), so parallel runs never empty each other's queue.
REDIS_BASE_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def app(database_url, tmp_path):
    """The app of tests/conftest.py, with every task (text extraction, indexing) run at once where it is queued."""
    with running(make_app(database_url, tmp_path / "storage", QUEUE_IMMEDIATE=True)) as app:
        yield app


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An emptied Redis database for this test. Unreachable Redis skips the test, or fails it when CI=true."""
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = f"{REDIS_BASE_URL}/{15 - int(worker.removeprefix('gw') or 0)}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis at {url} is not reachable: {exc}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@contextmanager
def running_worker(app, *, workers: int = 1, **settings: str) -> Iterator[subprocess.Popen]:
    """`archive worker` in a process of its own, on the test's database, storage, keys and queue.

    `settings` are ARCHIVE_* variables for it (e.g. QUEUE_URL, TEXT_LEASE_SECONDS). Stopped (SIGTERM) on exit
    unless the test has already killed it; its log is printed when the test fails.
    """
    env = {
        **os.environ,
        "ARCHIVE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "ARCHIVE_STORAGE_DIR": app.config["STORAGE_DIR"],
        "ARCHIVE_MASTER_KEY": app.config["MASTER_KEY"],
        "ARCHIVE_SECRET_KEY": app.config["SECRET_KEY"],
        **{f"ARCHIVE_{name}": str(value) for name, value in settings.items()},
    }
    log = Path(app.config["STORAGE_DIR"]).parent / f"worker-{os.urandom(4).hex()}.log"
    command = [str(Path(sys.executable).parent / "archive"), "worker", "--workers", str(workers), "--verbose"]
    db.session.remove()  # on SQLite an open transaction would hold the write lock the worker needs
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        sys.stderr.write(f"--- worker log ({' '.join(command[1:])}) ---\n{log.read_text(errors='replace')}")
