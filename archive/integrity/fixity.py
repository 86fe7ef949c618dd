"""The periodic fixity run: every stored blob is re-hashed once per FIXITY_CYCLE_DAYS, a batch each hour.

A run re-hashes the stored bytes of each blob against the ciphertext checksum recorded when it was sealed
(EnvelopeStore.verify without the plaintext checksum). That needs no key and reads each file once: AES-GCM
ciphertext covers every plaintext byte, so any change to a stored file shows, whatever its cause. Decrypting
and opening each file is the four-property check's work (`archive check --all`, filing, handover).

The batch follows from the size of the archive: ceil(blobs × run interval / cycle), so the whole archive is
covered every cycle. Document files are taken oldest check first (never-checked first), by
FileVersion.last_fixity_at, which handover checks and `archive verify` also set. The other sealed records
(extracted texts, handover receipts, consultation letters, destruction registers) keep no check time of their own: they are taken
round-robin from where the last run stopped, which is the same order (least recently checked first).

Each run is one FixityRun summary row; each failure raises an IntegrityAlert (one per blob while it is open)
and the archive heads are notified once per run that raised any.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app

from ..audit import services as audit
from ..auth.models import User, UserRole
from ..auth.services import SYSTEM
from ..core.enums import Role
from ..core.keys import blob_store
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..documents.models import Document, FileVersion
from ..extensions import db
from ..handovers.models import Handover
from ..loans.models import Consultation
from ..notifications.services import notify
from ..retention.models import Disposal
from ..search.models import ExtractedText
from ..storage import VerifyResult
from .models import AlertStatus, FixityRun, IntegrityAlert

RUN_INTERVAL = timedelta(hours=1)  # the worker's schedule for `periodic_fixity` (archive/integrity/tasks.py)
FILE = "file"


def N_(message: str) -> str:
    return message


ALERT_MESSAGE = N_("The integrity check found %(count)s damaged or missing stored file(s). See Integrity checks.")


@dataclass(frozen=True)
class SealedItem:
    """One stored blob to re-hash, and what to call it in an alert."""

    kind: str
    key: int  # the row's id: files are recorded on their row, the others advance the run's cursor
    blob_id: str
    cipher_sha256: str
    subject: str
    document_id: int | None


@dataclass(frozen=True)
class RoundRobinKind:
    """Sealed records without a check time of their own: a query of (key, blob id, checksum, subject, document)."""

    kind: str
    key: Any
    select: Callable[[], sa.Select]


ROUND_ROBIN = (
    RoundRobinKind("text", ExtractedText.file_version_id, lambda: (
        sa.select(ExtractedText.file_version_id, ExtractedText.blob_id, ExtractedText.cipher_sha256,
                  Document.archive_number, ExtractedText.document_id)
        .join(Document, Document.id == ExtractedText.document_id).where(ExtractedText.blob_id.is_not(None)))),
    RoundRobinKind("receipt", Handover.id, lambda: (
        sa.select(Handover.id, Handover.receipt_blob_id, Handover.receipt_cipher_sha256, Handover.number,
                  sa.null()).where(Handover.receipt_blob_id.is_not(None)))),
    RoundRobinKind("letter", Consultation.id, lambda: (
        sa.select(Consultation.id, Consultation.letter_blob_id, Consultation.letter_cipher_sha256,
                  Consultation.number, sa.null()).where(Consultation.letter_blob_id.is_not(None)))),
    RoundRobinKind("register", Disposal.id, lambda: (
        sa.select(Disposal.id, Disposal.register_blob_id, Disposal.register_cipher_sha256, Disposal.number,
                  sa.null()).where(Disposal.register_blob_id.is_not(None)))),
)


def live_versions() -> sa.ColumnElement[bool]:
    """File versions whose content is kept (a disposal crypto-shreds the others and deletes their blobs)."""
    return FileVersion.shredded_at.is_(None)


def batch_size(count: int) -> int:
    """How many of `count` blobs one run checks so that all are checked within the cycle."""
    runs_per_cycle = timedelta(days=current_app.config["FIXITY_CYCLE_DAYS"]) / RUN_INTERVAL
    return math.ceil(count / runs_per_cycle) if count else 0


def run_fixity(batch: int | None = None) -> FixityRun:
    """One periodic run: re-hash the next batch of every kind of sealed blob, keep the results, raise alerts.

    `batch` overrides the size computed from the cycle for every kind (the benchmark times a given amount).
    Runs in transactions of its own; the hashing happens outside them, so writers are not held up.
    """
    started, clock = utcnow(), time.perf_counter()
    previous = db.session.scalar(sa.select(FixityRun).order_by(FixityRun.id.desc()).limit(1))
    cursor = dict(previous.cursor) if previous is not None else {}
    items = _next_files(batch)
    for kind in ROUND_ROBIN:
        taken = _next_round_robin(kind, cursor.get(kind.kind, 0), batch)
        items += taken
        if taken:
            cursor[kind.kind] = taken[-1].key
    db.session.commit()  # ends the reading transaction (on SQLite it holds the write lock) before hashing
    store = blob_store()
    results, size = [], 0
    for item in items:
        result = store.verify(item.blob_id, "", b"", None, item.cipher_sha256)
        results.append((item, result))
        if result.ok:
            size += store.backend.stat(item.blob_id).size
    with unit_of_work():
        run = FixityRun(started_at=started, finished_at=utcnow(), checked=len(results), bytes_checked=size,
                        failed=sum(not result.ok for _item, result in results), cursor=cursor)
        db.session.add(run)
        db.session.flush()
        _record_file_results(results, run.finished_at)
        raised = raise_alerts(run, [(item, result) for item, result in results if not result.ok])
        audit.record("integrity.fixity_run", actor=SYSTEM, obj=run, checked=run.checked, failed=run.failed,
                     alerts=len(raised), bytes=size, seconds=round(time.perf_counter() - clock, 3))
    return run


def _next_files(batch: int | None) -> list[SealedItem]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(FileVersion).where(live_versions()))
    never_checked_first = sa.case((FileVersion.last_fixity_at.is_(None), 0), else_=1)
    rows = db.session.execute(
        sa.select(FileVersion.id, FileVersion.blob_id, FileVersion.cipher_sha256, Document.archive_number,
                  FileVersion.version, FileVersion.document_id)
        .join(Document, Document.id == FileVersion.document_id).where(live_versions())
        .order_by(never_checked_first, FileVersion.last_fixity_at, FileVersion.id)
        .limit(batch if batch is not None else batch_size(total))
    )
    return [SealedItem(FILE, key, blob_id, sha, f"{number} v{version}", document_id)
            for key, blob_id, sha, number, version, document_id in rows]


def _next_round_robin(kind: RoundRobinKind, after: int, batch: int | None) -> list[SealedItem]:
    """The next records after the cursor, wrapping round to the first ones at the end of the table."""
    query = kind.select()
    if batch is None:
        batch = batch_size(db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())))
    rows = list(db.session.execute(query.where(kind.key > after).order_by(kind.key).limit(batch)))
    if len(rows) < batch and after:
        rows += db.session.execute(query.where(kind.key <= after).order_by(kind.key).limit(batch - len(rows)))
    return [SealedItem(kind.kind, *row) for row in rows]


def _record_file_results(results: list[tuple[SealedItem, VerifyResult]], checked_at) -> None:
    outcomes = {item.key: result.ok for item, result in results if item.kind == FILE}
    for ok in (True, False):
        ids = [key for key, passed in outcomes.items() if passed is ok]
        for chunk in range(0, len(ids), 500):
            db.session.execute(sa.update(FileVersion).where(FileVersion.id.in_(ids[chunk:chunk + 500]))
                               .values(last_fixity_at=checked_at, last_fixity_ok=ok))


def raise_alerts(run: FixityRun | None, failures: list[tuple[SealedItem, VerifyResult]]) -> list[IntegrityAlert]:
    """An alert for each failed blob that has no open alert yet; the archive heads are told once.

    Inside the caller's unit of work. An acknowledged alert does not silence the blob: if it still fails at its
    next check, a new alert is raised (acknowledging is not repairing).
    """
    if not failures:
        return []
    already = set(db.session.scalars(sa.select(IntegrityAlert.blob_id).where(
        IntegrityAlert.status == AlertStatus.OPEN,
        IntegrityAlert.blob_id.in_([item.blob_id for item, _result in failures]))))
    raised = []
    for item, result in failures:
        if item.blob_id in already:
            continue
        already.add(item.blob_id)
        alert = IntegrityAlert(run_id=run.id if run else None, kind=item.kind, subject=item.subject[:200],
                               document_id=item.document_id, blob_id=item.blob_id, problem=result.status.value,
                               detail=result.detail[:500], raised_at=utcnow())
        db.session.add(alert)
        raised.append(alert)
    if raised:
        db.session.flush()
        for alert in raised:
            audit.record("integrity.alert", actor=SYSTEM, obj=alert, kind=alert.kind, subject=alert.subject,
                         blob=alert.blob_id, problem=alert.problem)
        notify(archive_heads(), "integrity.alert", ALERT_MESSAGE, "/integrity/", count=len(raised))
    return raised


def archive_heads() -> list[User]:
    return list(db.session.scalars(
        sa.select(User).where(User.active.is_(True),
                              User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role.ARCHIVE_HEAD)))
        .order_by(User.id)))

