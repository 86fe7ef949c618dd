"""The queue for real: `archive worker` processes on the SQLite queue and on Redis, killed mid-task."""
from __future__ import annotations

import logging
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from archive.documents.models import Document
from archive.extensions import db
from archive.search import textstore
from archive.search.models import ExtractedText, TextStatus
from archive.search.queue import huey
from tests.conftest import make_app, ready_archive
from tests.factories import Factory
from tests.search.conftest import running_worker
from tests.search.test_text import scanned_pdf

LEASE = 3  # seconds; a dead worker's work is taken over this long after its last sign of life


def _row(version_id: int) -> ExtractedText:
    """A fresh look at the row, detached: no transaction stays open (on SQLite it would hold the write lock)."""
    db.session.remove()
    row = db.session.get(ExtractedText, version_id)
    db.session.expunge(row)
    db.session.remove()
    return row


def _waiting_tasks() -> list[str]:
    names = [type(task).__name__ for task in huey.pending()]
    db.session.remove()
    return names


def _wait_for(version_id: int, status: TextStatus, worker, timeout: float) -> ExtractedText:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _row(version_id)
        if row.status is status:
            return row
        assert worker.poll() is None, "the worker stopped"
        time.sleep(0.1)
    raise AssertionError(f"the text did not become {status.value} within {timeout} s (it is {row.status.value})")


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_a_worker_killed_mid_task_loses_nothing(queue, request, database_url, tmp_path):
    settings = {"TEXT_LEASE_SECONDS": LEASE}
    if queue == "redis":
        settings["QUEUE_URL"] = request.getfixturevalue("redis_url")
    app = make_app(database_url, tmp_path / "storage", **settings)
    with app.app_context():
        ready_archive()
        factory = Factory(app)
        # Four scanned pages, about a second of OCR each: slow enough to be caught in the middle.
        scan = scanned_pdf(*[("商品房买卖合同（预售）", f"房号 3栋2单元150{n} 押金 5000元") for n in range(1, 5)])
        doc = factory.document(factory.dossier(), content=scan)
        doc_id, version_id = doc.id, doc.current_version.id
        assert _row(version_id).status is TextStatus.PENDING and _waiting_tasks() == ["extract_text"]

        with running_worker(app, **settings) as first:
            _wait_for(version_id, TextStatus.RUNNING, first, timeout=60)
            first.send_signal(signal.SIGKILL)
            first.wait()

        killed = _row(version_id)
        assert (killed.status, killed.attempts, killed.blob_id) == (TextStatus.RUNNING, 1, None)
        assert "extract_text" not in _waiting_tasks()  # the message went with the worker: the database remembers
        time.sleep(LEASE)

        with running_worker(app, workers=2, **settings) as second:
            done = _wait_for(version_id, TextStatus.DONE, second, timeout=90)

        assert (done.attempts, done.method, done.page_count, done.error) == (2, "ocr", 4, "")
        pages = textstore.document_pages(db.session.get(Document, doc_id))
        assert [f"3栋2单元150{n}" in page and "押金" in page for n, page in enumerate(pages, 1)] == [True] * 4
        blobs = [p for p in (Path(app.config["STORAGE_DIR"]) / "blobs").rglob("*") if p.is_file()]
        assert len(blobs) == 2  # the scan and one text: the killed attempt left nothing behind
        db.session.remove()
        db.engine.dispose()


def test_filing_goes_through_while_the_queue_is_down_and_the_work_is_sent_once_it_is_back(
        database_url, tmp_path, caplog):
    down = make_app(database_url, tmp_path / "storage", QUEUE_URL="redis://127.0.0.1:1/0")
    with down.app_context(), caplog.at_level(logging.WARNING, logger="archive.search.textstore"):
        ready_archive()
        factory = Factory(down)
        version_id = factory.document(factory.dossier()).current_version.id
        assert "could not queue the text extraction" in caplog.text
        assert _row(version_id).status is TextStatus.PENDING
        db.session.remove()
        db.engine.dispose()

    back = make_app(database_url, tmp_path / "storage")  # the SQLite queue, which works
    with back.app_context():
        result = back.test_cli_runner().invoke(args=["text", "requeue", "--stale"])

        assert result.exit_code == 0, result.output
        assert "1 whose queue message was lost" in result.output
        assert _waiting_tasks() == ["extract_text"]
        assert db.session.scalar(sa.select(ExtractedText.status)) is TextStatus.PENDING
        db.session.remove()
        db.engine.dispose()
