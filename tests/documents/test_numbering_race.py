"""Archive numbers stay unique and gap-free when filings race, even when one of them fails midway."""
from __future__ import annotations

import io
import threading
from datetime import date

import sqlalchemy as sa

from archive.auth.models import User
from archive.core.enums import Category
from archive.documents import services as documents
from archive.documents.models import Document, FileVersion
from archive.extensions import db
from tests.documents.conftest import blob_files
from tests.factories import make_image

THREADS = 8
FILINGS_PER_THREAD = 3


class DropsWhileStored(io.BytesIO):
    """An upload whose connection breaks while it is being stored, after it passed the checks.

    The checks read it with read(); the blob store reads it with readinto(), which fails here as a
    client disconnect does: the filing has by then taken its archive number.
    """

    def readinto(self, buffer) -> int:
        raise ConnectionResetError("the client went away during the upload")


def test_racing_filings_get_unique_gap_free_numbers(app, factory):
    dossier_id = factory.dossier().id
    filer_id = factory.archivist.id
    department_id = factory.archivist.department_id
    db.session.commit()  # SQLite: a transaction open here would hold the write lock the threads need
    scan = make_image("PNG", size=(20, 28))
    meta = documents.DocumentMetadata(category=Category.XS, title="认购书", responsible_party="丽景苑置业有限公司",
                                      doc_date=date(2023, 5, 8), department_id=department_id)
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []
    broken: list[BaseException] = []

    def file_many(thread_no: int) -> None:
        with app.app_context():
            try:
                filer = db.session.get(User, filer_id)
                db.session.commit()
                start.wait(timeout=30)
                for n in range(FILINGS_PER_THREAD):
                    uploads = [documents.Upload(f"{thread_no}-{n}.png", io.BytesIO(scan))]
                    if thread_no == 0 and n == 1:
                        # The good file takes a number and is stored, then the second upload breaks.
                        uploads.append(documents.Upload("断线.png", DropsWhileStored(scan)))
                        try:
                            documents.file_documents(filer, dossier_id, meta, uploads)
                        except ConnectionResetError as exc:
                            broken.append(exc)
                        continue
                    documents.file_documents(filer, dossier_id, meta, uploads)
            except BaseException as exc:  # reported to the test below
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=file_many, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures
    assert len(broken) == 1
    filed = THREADS * FILINGS_PER_THREAD - 1
    rows = db.session.execute(
        sa.select(Document.seq, Document.archive_number).where(Document.dossier_id == dossier_id).order_by(Document.seq)
    ).all()
    dossier_number = rows[0].archive_number.rsplit("-", 2)[0]
    assert [r.seq for r in rows] == list(range(1, filed + 1))
    assert [r.archive_number for r in rows] == [f"{dossier_number}-XS-{n:04d}" for n in range(1, filed + 1)]
    # The broken filing left nothing behind: one stored blob per filed version, no more.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FileVersion)) == filed
    assert len(blob_files(app)) == filed
