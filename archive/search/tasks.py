"""Background tasks: reading the text of each file version, and finding work a dead worker left behind.

The database row (ExtractedText) is the source of truth, not the queue:

1. A task claims its row in one short transaction: pending, or running with an expired lease. The claim
   counts an attempt and takes a lease (a token and an expiry). Any other state means someone else has it or
   it is done: the task ends.
2. The file is decrypted in memory and read page by page, outside any transaction; after each page the lease
   is renewed, and a task that finds its lease taken over stops.
3. The pages are sealed into a new blob, and the row points at it in one commit, only while the lease is
   still this task's (else the new blob is deleted again); the previous blob is deleted after that commit.
   Running a task twice is harmless.

A failed attempt keeps its reason on the row and is retried after TEXT_RETRY_DELAY seconds; after
TEXT_MAX_ATTEMPTS the row is failed. A worker killed mid-task leaves a lease that expires: the periodic
`requeue_stale_texts` (every minute, and at every worker start) queues the row again.
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from huey import crontab
from huey.exceptions import RetryTask

from ..core.db import refresh_planner_statistics
from ..core.errors import ArchiveError
from ..core.keys import blob_store
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..documents.models import FileVersion
from ..extensions import db
from ..storage import StorageError
from . import index_tasks  # noqa: F401  (registers the index tasks with the consumer)
from . import textstore
from .extract import Extraction, OcrSettings, extract
from .indexing import schedule_index
from .models import ExtractedText, TextStatus
from ..integrity.services import check_at_filing
from .queue import huey

log = logging.getLogger(__name__)


@huey.task()
def extract_text(file_version_id: int) -> None:
    """Read the text of one file version; idempotent, and a no-op unless the row can be claimed."""
    run_extraction(file_version_id)


@huey.periodic_task(crontab(minute="*"))
def requeue_stale_texts() -> None:
    requeue_stale()


@huey.periodic_task(crontab(minute="17"))
def refresh_planner_statistics_hourly() -> None:
    """Searches plan their permission pass from these statistics; filing changes them all day."""
    with unit_of_work():
        refresh_planner_statistics(db.session.connection())


class LeaseLost(Exception):
    """Another claim (a re-queue, or a take-over after this lease expired) owns the row now."""


@dataclass(frozen=True)
class Claim:
    file_version_id: int
    document_id: int
    token: str
    attempt: int
    media_type: str
    blob: tuple[str, str, bytes]  # the file's blob id, key id, wrapped key


def _lease_seconds() -> float:
    return current_app.config["TEXT_LEASE_SECONDS"]


def run_extraction(file_version_id: int) -> None:
    claim = _claim(file_version_id)
    if claim is None:
        return
    ocr = OcrSettings(lang=current_app.config["OCR_LANG"], tesseract=current_app.config["TESSERACT_CMD"])
    renew_every, renewed_at = _lease_seconds() / 10, time.monotonic()

    def progress(page: int) -> None:
        nonlocal renewed_at
        if time.monotonic() - renewed_at >= renew_every:
            _renew(claim)
            renewed_at = time.monotonic()

    try:
        try:
            with blob_store().open(*claim.blob) as stream:
                data = stream.read()
        except StorageError:
            log.warning("file version %s: the stored file could not be decrypted", file_version_id, exc_info=True)
            raise ArchiveError("The stored file could not be decrypted, so its text cannot be read.") from None
        extraction = extract(data, claim.media_type, ocr, progress)
        _store(claim, extraction)
        failure = None
    except LeaseLost:
        log.info("file version %s: the lease was taken over; this attempt's result is dropped", file_version_id)
        return
    except ArchiveError as exc:
        failure = exc
    except Exception:
        log.exception("file version %s: text extraction failed", file_version_id)
        failure = ArchiveError("An unexpected error stopped the text extraction; the worker's log has the details.")
    check_at_filing(file_version_id)  # whether or not the text could be read: a damaged file is what it finds
    if failure is not None:
        _fail(claim, failure)  # may ask the queue to retry
        return
    log.info("file version %s: %s page(s) read (%s)", file_version_id, len(extraction.pages), extraction.method)
    schedule_index(claim.document_id)


def _claim(file_version_id: int) -> Claim | None:
    with unit_of_work():
        row = db.session.get(ExtractedText, file_version_id, with_for_update=True)
        now = utcnow()
        if row is None or not (
            row.status is TextStatus.PENDING
            or (row.status is TextStatus.RUNNING and row.lease_expires_at is not None and row.lease_expires_at < now)
        ):
            return None
        version = db.session.get(FileVersion, file_version_id)
        row.status, row.attempts, row.started_at = TextStatus.RUNNING, row.attempts + 1, now
        row.lease_token = secrets.token_hex(16)
        row.lease_expires_at = now + timedelta(seconds=_lease_seconds())
        return Claim(row.file_version_id, row.document_id, row.lease_token, row.attempts, version.media_type,
                     (version.blob_id, version.key_id, version.wrapped_key))


def _held(claim: Claim):
    return sa.and_(ExtractedText.file_version_id == claim.file_version_id,
                   ExtractedText.status == TextStatus.RUNNING, ExtractedText.lease_token == claim.token)


def _renew(claim: Claim) -> None:
    with unit_of_work():
        renewed = db.session.execute(
            sa.update(ExtractedText).where(_held(claim))
            .values(lease_expires_at=utcnow() + timedelta(seconds=_lease_seconds()))
        ).rowcount
    if not renewed:
        raise LeaseLost()


def _store(claim: Claim, extraction: Extraction) -> None:
    """Swap the new pages in atomically; the old blob goes only after the commit, the new one on a rollback."""
    sealed = textstore.seal_pages(extraction.pages)
    with unit_of_work() as uow:
        uow.on_rollback(lambda: blob_store().delete(sealed.blob_id))
        row = db.session.scalar(sa.select(ExtractedText).where(_held(claim)).with_for_update())
        if row is None:
            raise LeaseLost()
        previous = row.blob_id
        row.blob_id, row.key_id, row.wrapped_key = sealed.blob_id, sealed.key_id, sealed.wrapped_key
        row.plain_sha256, row.cipher_sha256 = sealed.plain_sha256, sealed.cipher_sha256
        row.status, row.method, row.page_count, row.error = TextStatus.DONE, extraction.method, len(extraction.pages), ""
        row.finished_at, row.lease_token, row.lease_expires_at = utcnow(), None, None
        if previous:
            uow.after_commit(lambda: blob_store().delete(previous))


def _fail(claim: Claim, reason: ArchiveError) -> None:
    """Keep the reason; try again later, or give up after the attempts allowed."""
    final = claim.attempt >= current_app.config["TEXT_MAX_ATTEMPTS"]
    with unit_of_work():
        row = db.session.scalar(sa.select(ExtractedText).where(_held(claim)).with_for_update())
        if row is None:
            return
        row.error, row.lease_token, row.lease_expires_at = reason.message[:500], None, None
        if final:
            row.status, row.finished_at = TextStatus.FAILED, utcnow()
        else:
            row.status, row.queued_at = TextStatus.PENDING, utcnow()
    log.warning("file version %s: attempt %s failed%s: %s", claim.file_version_id, claim.attempt,
                "; giving up" if final else "; it will be retried", reason.message)
    if not final:
        delay = current_app.config["TEXT_RETRY_DELAY"]
        raise RetryTask(delay=delay or None)  # Huey runs the task again; the row says whether it may


@dataclass(frozen=True)
class Requeued:
    expired: int  # running rows whose worker died, queued again
    failed: int  # of those, given up: interrupted too often
    lost: int  # pending rows whose message was lost (e.g. the queue was emptied), queued again


def requeue_stale(pending_grace: float | None = None) -> Requeued:
    """Find the work no worker holds any more and queue it again.

    A running row whose lease expired lost its worker. A pending row queued more than `pending_grace` seconds
    ago (default: one lease) while the queue holds no waiting message lost its message: the queue storage was
    emptied or replaced, the process stopped between commit and queueing, or the row predates the queue. A
    worker starting on an empty queue passes 0. A message sent twice is harmless: the second finds no row to
    claim.
    """
    now, max_attempts = utcnow(), current_app.config["TEXT_MAX_ATTEMPTS"]
    queue_empty = huey.pending_count() == 0
    expired = failed = lost = 0
    with unit_of_work() as uow:
        stale = sa.and_(ExtractedText.status == TextStatus.RUNNING, ExtractedText.lease_expires_at < now)
        if queue_empty:
            grace = _lease_seconds() if pending_grace is None else pending_grace
            old_enough = now - timedelta(seconds=grace)
            stale = sa.or_(stale, sa.and_(ExtractedText.status == TextStatus.PENDING,
                                          ExtractedText.queued_at <= old_enough))
        for row in db.session.scalars(sa.select(ExtractedText).where(stale).with_for_update()):
            if row.status is TextStatus.RUNNING:
                expired += 1
                row.lease_token = row.lease_expires_at = None
                if row.attempts >= max_attempts:
                    row.status, row.finished_at = TextStatus.FAILED, now
                    row.error = ArchiveError("The worker stopped during the text extraction too many times.").message
                    failed += 1
                    continue
            else:
                lost += 1
            row.status, row.queued_at = TextStatus.PENDING, now
            version_id = row.file_version_id
            uow.after_commit(lambda version_id=version_id: textstore.enqueue(version_id))
    if expired or lost:
        log.warning("requeued the text of %s file version(s) left by a stopped worker and %s whose queue message "
                    "was lost; %s gave up after %s attempts", expired - failed, lost, failed, max_attempts)
    return Requeued(expired, failed, lost)
