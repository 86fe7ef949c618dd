"""Index tasks: every write to the index goes through the queue, one writer at a time.

A writer waits for Whoosh's lock (index.WRITE_LOCK_TIMEOUT) and, failing that, the task is retried. Tasks are
idempotent: indexing a document again rebuilds its entry from the database and the stored text.
"""
from __future__ import annotations

from . import indexing
from .queue import huey

RETRIES = 5
RETRY_DELAY = 15  # seconds


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def index_document(document_id: int) -> None:
    indexing.index_now(document_id)


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def index_unit(unit_id: int) -> None:
    indexing.index_unit_now(unit_id)


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def delete_document(document_id: int) -> None:
    indexing.backend().delete([document_id])


@huey.task(retries=RETRIES, retry_delay=RETRY_DELAY)
def rebuild_index() -> None:
    indexing.rebuild()
