"""The extracted text of every file version: queued at filing, kept encrypted, read back page by page.

The pages of one file version are one blob in the encrypted blob store (a UTF-8 JSON list of strings), so
the text is protected like the scan it comes from; the database row (ExtractedText) holds only the sealed
blob's id and key, the status of the work and its reason when it failed.
"""
from __future__ import annotations

import io
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..audit import services as audit
from ..auth.services import SYSTEM
from ..core.errors import NotFound
from ..core.keys import blob_store
from ..core.permissions import policy
from ..core.types import utcnow
from ..core.uow import UnitOfWork, unit_of_work
from ..documents.models import Document, FileVersion
from ..extensions import db
from ..storage import BlobNotFound, EnvelopeStore, SealedBlob
from .models import ExtractedText, TextStatus

log = logging.getLogger(__name__)


def queue_extraction(uow: UnitOfWork, version: FileVersion) -> None:
    """Within the filing's unit of work: a pending text row for the new version, queued once committed."""
    db.session.add(ExtractedText(
        file_version_id=version.id, document_id=version.document_id, status=TextStatus.PENDING, queued_at=utcnow(),
    ))
    version_id = version.id
    uow.after_commit(lambda: enqueue(version_id))


def enqueue(file_version_id: int) -> None:
    """Put the extraction on the queue. A queue that cannot be reached loses nothing: the row stays pending
    and the periodic requeue (or `archive text requeue --stale`) sends it again."""
    from .tasks import extract_text

    try:
        extract_text(file_version_id)
    except Exception as exc:  # the filing is committed; it must not fail because the queue is down
        log.warning("could not queue the text extraction of file version %s (%s); it stays pending",
                    file_version_id, type(exc).__name__)


# --- the pages ----------------------------------------------------------------------------------------------

# A reader allocates buffers of the blob's segment size (the default is 1 MiB, made for scans): text is small,
# and the search page decrypts the text of every result it shows.
TEXT_SEGMENT_SIZE = 64 * 1024


def seal_pages(pages: list[str]) -> SealedBlob:
    payload = json.dumps(pages, ensure_ascii=False).encode("utf-8")
    store = blob_store()
    return EnvelopeStore(store.backend, store.keyring, TEXT_SEGMENT_SIZE).put(io.BytesIO(payload))


def read_pages(row: ExtractedText) -> list[str]:
    with blob_store().open(row.blob_id, row.key_id, row.wrapped_key) as stream:
        return json.loads(stream.read().decode("utf-8"))


def document_pages(document: Document) -> list[str] | None:
    """The decrypted text of each page of the document's current version; None while there is none.

    Once a version has been read, its text stays available while it is read again (after a re-queue) and
    if that fails: the last good text is kept until a new one replaces it.
    """
    return pages_of([document.id]).get(document.id)


@dataclass(frozen=True)
class CurrentText:
    """A document's current file version, and its text row if it has one."""

    version_id: int
    row: ExtractedText | None


def current_texts(document_ids: list[int]) -> dict[int, CurrentText]:
    """document id -> its current version (the highest version number) and text row, in one query."""
    if not document_ids:
        return {}
    latest = (sa.select(FileVersion.document_id, sa.func.max(FileVersion.version).label("version"))
              .where(FileVersion.document_id.in_(document_ids)).group_by(FileVersion.document_id).subquery())
    rows = db.session.execute(
        sa.select(FileVersion.document_id, FileVersion.id, ExtractedText)
        .join(latest, sa.and_(FileVersion.document_id == latest.c.document_id, FileVersion.version == latest.c.version))
        .outerjoin(ExtractedText, ExtractedText.file_version_id == FileVersion.id)
    )
    return {document_id: CurrentText(version_id, row) for document_id, version_id, row in rows}


def pages_of(document_ids: list[int], texts: dict[int, CurrentText] | None = None) -> dict[int, list[str]]:
    """The decrypted pages of each document that has text (as `document_pages`), one query for them all."""
    texts = current_texts(document_ids) if texts is None else texts
    pages = {}
    for document_id in document_ids:
        current = texts.get(document_id)
        if current is None or current.row is None or current.row.blob_id is None:
            continue
        try:
            pages[document_id] = read_pages(current.row)
        except BlobNotFound:  # replaced by a new reading since the row was loaded: read the new one
            db.session.refresh(current.row)
            pages[document_id] = read_pages(current.row)
    return pages


# --- status and re-queueing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TextState:
    """What the document page shows about the text of the current version."""

    status: TextStatus
    method: str
    page_count: int | None
    error: str  # untranslated; the page translates it
    attempts: int
    queued_at: datetime
    finished_at: datetime | None
    can_requeue: bool


def text_state(identity, document: Document) -> TextState | None:
    """The text status of the document page (whose service fetched `document`); None for a document with no file."""
    policy.require(identity, "read", document)
    version = document.current_version
    row = db.session.get(ExtractedText, version.id) if version else None
    if row is None:
        return None
    return TextState(row.status, row.method, row.page_count, row.error, row.attempts, row.queued_at,
                     row.finished_at, policy.can(identity, "edit", document))


def requeue_document(identity, document_id: int) -> None:
    """Read the current version's text again (a person who may edit the document asks for it)."""
    document = policy.fetch(identity, "read", Document, document_id)
    policy.require(identity, "edit", document)
    _requeue(identity, [_current_row(document)])


def requeue_by_number(archive_number: str) -> None:
    """The shell's re-queue (`archive text requeue NUMBER`): an operator's action on derived data."""
    document = db.session.scalar(sa.select(Document).where(Document.archive_number == archive_number.strip()))
    if document is None:
        raise NotFound("No document has the archive number %(number)s.", number=archive_number.strip())
    _requeue(SYSTEM, [_current_row(document)])


def requeue_failed() -> int:
    """Queue again every file version whose text failed (e.g. once Tesseract is installed)."""
    rows = list(db.session.scalars(sa.select(ExtractedText).where(ExtractedText.status == TextStatus.FAILED)))
    _requeue(SYSTEM, rows)
    return len(rows)


def _current_row(document: Document) -> ExtractedText:
    version = document.current_version
    row = db.session.get(ExtractedText, version.id) if version else None
    if row is None:
        raise NotFound("This document has no stored file to read text from.")
    return row


def _requeue(identity, rows: list[ExtractedText]) -> None:
    """Pending again with a fresh count of attempts; a worker still holding a lease loses it (its result is
    not written) and the queued task starts over. One document is audited as itself, a batch as a count."""
    if not rows:
        return
    with unit_of_work() as uow:
        now = utcnow()
        for row in rows:
            row.status, row.queued_at, row.attempts = TextStatus.PENDING, now, 0
            row.started_at = row.lease_expires_at = row.lease_token = None
            version_id = row.file_version_id
            uow.after_commit(lambda version_id=version_id: enqueue(version_id))
        if len(rows) == 1:
            audit.record("text.requeue", actor=identity, object_type="document", object_id=str(rows[0].document_id),
                         file_version=rows[0].file_version_id)
        else:
            audit.record("text.requeue", actor=identity, file_versions=len(rows))


def status_counts() -> Counter[TextStatus]:
    rows = db.session.execute(sa.select(ExtractedText.status, sa.func.count()).group_by(ExtractedText.status))
    return Counter({status: count for status, count in rows})


def failures(limit: int = 50) -> list[tuple[ExtractedText, str]]:
    """Failed rows, newest first, with their document's archive number."""
    return [(row, number) for row, number in db.session.execute(
        sa.select(ExtractedText, Document.archive_number).join(Document, Document.id == ExtractedText.document_id)
        .where(ExtractedText.status == TextStatus.FAILED).order_by(ExtractedText.finished_at.desc()).limit(limit)
    )]


# --- keys and fixity, for `archive keys` and `archive verify` ----------------------------------------------

def sealed_with(key_id: str) -> int:
    """Text blobs whose data key is sealed by this master key."""
    return db.session.scalar(sa.select(sa.func.count()).where(ExtractedText.key_id == key_id)) or 0


def reseal(current_key_id: str, batch: int = 500) -> int:
    """Re-seal every text blob's data key under the current master key; the content is not rewritten."""
    store, count = blob_store(), 0
    while True:
        rows = db.session.scalars(
            sa.select(ExtractedText).where(ExtractedText.key_id.is_not(None), ExtractedText.key_id != current_key_id)
            .limit(batch)
        ).all()
        if not rows:
            return count
        with unit_of_work():
            for row in rows:
                row.key_id, row.wrapped_key = store.rewrap(row.blob_id, row.key_id, row.wrapped_key)
                count += 1


def verify_blobs(*, decrypt: bool) -> tuple[set[str], list[str]]:
    """(blob ids of every stored text, problems found): the text blobs are not orphans, and are checked too."""
    store, referenced, problems = blob_store(), set(), []
    rows = db.session.execute(
        sa.select(ExtractedText.blob_id, ExtractedText.key_id, ExtractedText.wrapped_key, ExtractedText.plain_sha256,
                  ExtractedText.cipher_sha256, ExtractedText.document_id, ExtractedText.file_version_id)
        .where(ExtractedText.blob_id.is_not(None))
    )
    for blob_id, key_id, wrapped_key, plain_sha256, cipher_sha256, document_id, version_id in rows:
        referenced.add(blob_id)
        result = store.verify(blob_id, key_id, wrapped_key, plain_sha256 if decrypt else None, cipher_sha256)
        if not result.ok:
            problems.append(f"{blob_id} (text of document {document_id}, file version {version_id}): {result}")
    return referenced, problems
