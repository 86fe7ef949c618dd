"""Keeping the index: rebuilt when missing or damaged, one writer at a time, reindex and verify."""
from __future__ import annotations

import json
import shutil
import threading
import time

import pytest

from archive.core.enums import Role
from archive.extensions import db
from archive.search import indexing
from archive.search.index import WRITE_LOCK_TIMEOUT
from tests.factories import make_pdf

# Long enough for the PDF's text layer to be used (a page with a few characters only is read by OCR).
FILLER = "本文件由置业公司档案室归档保存，仅供经授权的人员在工作需要时查阅使用。"


@pytest.fixture
def filed(factory):
    dossier = factory.dossier()
    return [factory.document(dossier, title=f"维修工单{i}",
                             content=make_pdf(f"卫生间漏水 工单WX-2024-{i:04d}", FILLER)) for i in range(3)]


def _search(app, text: str, username: str = "reader") -> int:
    result = app.test_cli_runner().invoke(args=["search", text, "--user", username, "--json"])
    assert result.exit_code == 0, result.output


    return json.loads(result.output)["total"]


def test_a_damaged_index_is_rebuilt_not_fatal(app, factory, filed):
    factory.user("reader", roles=(Role.ARCHIVIST,), department="GMO")
    assert _search(app, "漏水") == 3
    index_dir = indexing.backend().path
    for segment in index_dir.glob("*.seg"):
        segment.write_bytes(b"\0garbage" * 10)
    for toc in index_dir.glob("_MAIN_*.toc"):
        toc.write_bytes(b"not a table of contents")
    # The damaged index is set aside and rebuilt from the database and the text store (at once: the
    # queue runs immediately here); the search answers without an error.
    assert _search(app, "漏水") in (0, 3)
    assert _search(app, "漏水") == 3
    assert list(index_dir.parent.glob("index.damaged-*"))


def test_a_missing_index_is_rebuilt(app, factory, filed):
    factory.user("reader", roles=(Role.ARCHIVIST,), department="GMO")
    shutil.rmtree(indexing.backend().path)
    _search(app, "漏水")
    assert _search(app, "WX-2024-0002") == 1


def test_one_writer_at_a_time_the_second_waits(app, factory, filed):
    factory.user("reader", roles=(Role.ARCHIVIST,), department="GMO")
    document_id = filed[0].id
    db.session.commit()  # SQLite: the other thread's transaction must not wait for this one
    holder = indexing.backend().open().writer()
    done = threading.Event()

    def write_in_another_thread():
        with app.app_context():
            indexing.index_now(document_id)
        done.set()

    worker = threading.Thread(target=write_in_another_thread)
    worker.start()
    time.sleep(0.6)
    assert not done.is_set(), "a second writer must wait for the lock"
    holder.commit()
    assert done.wait(WRITE_LOCK_TIMEOUT)
    worker.join()
    assert _search(app, "漏水") == 3


def test_reindex_and_verify(app, factory, filed):
    factory.user("reader", roles=(Role.ARCHIVIST,), department="GMO")
    runner = app.test_cli_runner()
    indexing.backend().delete([filed[0].id])
    filed[1].title = "维修回访记录"  # changed behind the index's back
    db.session.commit()
    report = runner.invoke(args=["verify", "--no-fixity", "--no-audit"])
    assert f"1 documents missing from the index: {filed[0].id}" in report.output
    assert f"1 documents stale in the index: {filed[1].id}" in report.output
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 documents." in result.output
    assert "every document is indexed and current" in runner.invoke(
        args=["verify", "--no-fixity", "--no-audit"]).output
    assert _search(app, "回访") == 1
