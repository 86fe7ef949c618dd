"""The task queue: Huey, with its storage taken from the Flask app that uses it.

Tasks are declared once on the module-level `huey` (``@huey.task()``); where they are queued and whether
they run at once follow the configuration of the app in use: the current app context, else the app the
worker bound with `bind` (the consumer's threads have no app context of their own).

- QUEUE_URL unset: an SQLite queue at <STORAGE_DIR>/queue.db, no server needed.
- QUEUE_URL ``redis://host:port/db``: Redis.
- QUEUE_IMMEDIATE: each task runs at once where it is queued (tests; a consumer refuses to start).

Every task runs inside an app context (`ArchiveHuey.execute`), so tasks use the database and the blob
store as services do. Huey acknowledges nothing: a task lost with a killed worker is found again through
the database (see archive/search/models.py), never through the queue.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import BaseStorage, MemoryStorage, RedisStorage, SqliteStorage

QUEUE_NAME = "archive"
QUEUE_FILE = "queue.db"
_EXTENSION = "archive_queue"
_creating = threading.Lock()


@dataclass(frozen=True)
class AppQueue:
    storage: BaseStorage
    immediate: bool
    description: str  # where the queue is, without credentials


def _build(app: Flask) -> AppQueue:
    if app.config["QUEUE_IMMEDIATE"]:
        return AppQueue(MemoryStorage(QUEUE_NAME), True, "immediate (in the process that queues)")
    url = app.config["QUEUE_URL"]
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise RuntimeError("ARCHIVE_QUEUE_URL must be a redis:// URL (or be unset for the SQLite queue).")
        from redis.connection import parse_url

        place = parse_url(url)
        where = f"redis {place.get('host', place.get('path', ''))}:{place.get('port', 6379)}/{place.get('db', 0)}"
        return AppQueue(RedisStorage(QUEUE_NAME, url=url), False, where)
    path = Path(app.config["STORAGE_DIR"]) / QUEUE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return AppQueue(SqliteStorage(QUEUE_NAME, filename=str(path), timeout=30), False, f"sqlite {path}")


def app_queue(app: Flask) -> AppQueue:
    queue = app.extensions.get(_EXTENSION)
    if queue is None:
        with _creating:
            queue = app.extensions.get(_EXTENSION)
            if queue is None:
                queue = app.extensions[_EXTENSION] = _build(app)
    return queue


class _AppStorage:
    """Stands in for Huey's storage: every call goes to the storage of the app in use."""

    def __init__(self, huey: ArchiveHuey) -> None:
        self._huey = huey

    def __getattr__(self, name: str) -> Any:
        return getattr(app_queue(self._huey.app()).storage, name)


class ArchiveHuey(Huey):
    def __init__(self) -> None:
        self._bound_app: Flask | None = None
        super().__init__(QUEUE_NAME, results=False, utc=True)

    def create_storage(self) -> _AppStorage:
        return _AppStorage(self)

    @property
    def _immediate(self) -> bool:  # Huey reads this to decide whether a task runs at once
        return app_queue(self.app()).immediate

    @_immediate.setter
    def _immediate(self, value: bool) -> None:
        if value:
            raise ValueError("Set QUEUE_IMMEDIATE in the app's configuration instead.")

    def bind(self, app: Flask | None) -> None:
        """The app a consumer's threads work for (they have no app context); None unbinds."""
        self._bound_app = app

    def app(self) -> Flask:
        if has_app_context():
            return current_app._get_current_object()
        if self._bound_app is None:
            raise RuntimeError("The task queue is used outside an app context and no app is bound to it.")
        return self._bound_app

    def execute(self, task, timestamp=None):
        if has_app_context():
            return super().execute(task, timestamp)
        with self.app().app_context():
            return super().execute(task, timestamp)


huey = ArchiveHuey()
