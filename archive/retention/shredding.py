"""Crypto-shredding of disposed documents, crash-safe.

Inside the disposal's transaction (`shred`): every file version's data key is destroyed (wrapped key and key id
emptied, `shredded_at` set), the extracted-text rows are deleted, and every blob id so orphaned is recorded in
`shredded_blobs`. Nothing outside the database changes before the commit. After it, the blob files are deleted
and the documents leave the search index. A crash between the commit and the deletions leaves blob files that
nobody can decrypt any more (their keys are gone) and whose ids are in `shredded_blobs`:
`purge_shredded_blobs` (run by `archive verify --repair`) deletes them at once, without a grace period.
"""
from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa

from ..core.keys import blob_store
from ..core.uow import UnitOfWork
from ..documents.models import Document, FileVersion
from ..extensions import db
from ..search.indexing import schedule_index
from ..search.models import ExtractedText
from ..storage import BlobNotFound
from .models import Disposal, ShreddedBlob

log = logging.getLogger(__name__)


def shred(uow: UnitOfWork, disposal: Disposal, documents: list[Document], now: datetime) -> int:
    """Mark the documents disposed and destroy their data keys in the current transaction; delete the blobs and
    the index entries once it commits. Returns the number of blobs shredded."""
    document_ids = [d.id for d in documents]
    for document in documents:
        document.disposed_at, document.disposal_id = now, disposal.id
    versions = db.session.scalars(sa.select(FileVersion).where(
        FileVersion.document_id.in_(document_ids), FileVersion.shredded_at.is_(None))).all()
    texts = db.session.scalars(sa.select(ExtractedText).where(ExtractedText.document_id.in_(document_ids))).all()
    shredded = [(v.blob_id, "file") for v in versions] + [(t.blob_id, "text") for t in texts if t.blob_id]
    for version in versions:
        version.wrapped_key, version.key_id, version.shredded_at = b"", "", now
    for text in texts:
        db.session.delete(text)
    db.session.add_all(ShreddedBlob(blob_id=blob_id, disposal_id=disposal.id, kind=kind, shredded_at=now)
                       for blob_id, kind in shredded)
    blob_ids = [blob_id for blob_id, _kind in shredded]
    uow.after_commit(lambda: _delete_blobs(blob_ids))
    uow.after_commit(lambda: [schedule_index(doc_id) for doc_id in document_ids])
    return len(shredded)


def _delete_blobs(blob_ids: list[str]) -> int:
    store, deleted = blob_store(), 0
    for blob_id in blob_ids:
        try:
            store.delete(blob_id)
            deleted += 1
        except BlobNotFound:  # deleted already (by an earlier attempt, or by the repair)
            pass
        except OSError:  # stays for `archive verify --repair`, which knows it is shredded
            log.exception("could not delete the shredded blob %s", blob_id)
    return deleted


def purge_shredded_blobs(batch: int = 1000) -> int:
    """Delete every blob a disposal shredded that is still stored; returns how many were deleted."""
    store, deleted, last = blob_store(), 0, ""
    while True:
        ids = list(db.session.scalars(sa.select(ShreddedBlob.blob_id).where(ShreddedBlob.blob_id > last)
                                      .order_by(ShreddedBlob.blob_id).limit(batch)))
        if not ids:
            return deleted
        deleted += _delete_blobs([blob_id for blob_id in ids if store.exists(blob_id)])
        last = ids[-1]
