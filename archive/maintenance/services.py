"""Integrity checks, key rotation and shell exports."""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import current_app

from ..audit import services as audit
from ..auth.models import User
from ..auth.services import SYSTEM
from ..core.errors import AccessDenied, NotFound
from ..core.keys import blob_store, key_file, keyring, reset_cached_keys, write_key_check
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..documents import services as documents
from ..documents.models import FileVersion
from ..extensions import db
from ..handovers import sealed as receipts
from ..loans import sealed as consultations
from ..retention import sealed as registers
from ..retention.shredding import purge_shredded_blobs
from ..search import textstore
from ..storage import BlobNotFound, Keyring
from ..units.models import Customer

COPY_BUFFER = 1024 * 1024
CUSTOMER_SEALED = (("id_number_sealed", "customer.id_number"), ("phone_sealed", "customer.phone"))


def verify_audit_chain():
    return audit.verify_chain()


@dataclass
class BlobReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def verify_blobs(*, decrypt: bool, progress: Callable[[int], None], batch: int = 500) -> BlobReport:
    """Re-hash every stored ciphertext (and optionally decrypt); record each result on its version."""
    store, report, last_id = blob_store(), BlobReport(), 0
    referenced: set[str] = set()
    while True:
        versions = db.session.scalars(
            sa.select(FileVersion).where(FileVersion.id > last_id, FileVersion.shredded_at.is_(None))
            .order_by(FileVersion.id).limit(batch)
        ).all()
        if not versions:
            break
        with unit_of_work():
            for version in versions:
                referenced.add(version.blob_id)
                result = store.verify(
                    version.blob_id, version.key_id, version.wrapped_key,
                    version.plain_sha256 if decrypt else None, version.cipher_sha256,
                )
                version.last_fixity_at, version.last_fixity_ok = utcnow(), result.ok
                if not result.ok:
                    report.problems.append(
                        f"{version.blob_id} (document {version.document_id} version {version.version}): {result}"
                    )
                report.checked += 1
            progress(report.checked)
        last_id = versions[-1].id
    for kept in (textstore, consultations, receipts, registers):
        kept_ids, kept_problems = kept.verify_blobs(decrypt=decrypt)
        referenced |= kept_ids
        report.problems += kept_problems
    report.orphans = [blob_id for blob_id in store.backend.iter_ids() if blob_id not in referenced]
    with unit_of_work():
        audit.record("verify.fixity", actor=SYSTEM, checked=report.checked, failed=len(report.problems),
                     orphans=len(report.orphans), decrypted=decrypt)
    return report


@dataclass
class RepairReport:
    shredded_deleted: int = 0  # blobs of crypto-shredded versions and texts (a disposal interrupted after its commit)
    orphans_deleted: list[str] = field(default_factory=list)  # unreferenced and older than the grace period
    orphans_kept: list[str] = field(default_factory=list)  # unreferenced but younger: perhaps a filing in progress


def repair_blobs(report: BlobReport, grace_seconds: float | None = None) -> RepairReport:
    """Delete the blobs `verify_blobs` found unreferenced, once older than the grace period, and every blob of a
    crypto-shredded row at once. Rows whose blob is missing stay in `report.problems`: nothing can repair them.

    A filing writes its blob before it commits its row, so a young unreferenced blob may be about to be used:
    the grace period (ORPHAN_GRACE_SECONDS) leaves it alone. An older one was left by a crash or a rollback.
    """
    grace = current_app.config["ORPHAN_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    store, repair = blob_store(), RepairReport(shredded_deleted=purge_shredded_blobs())
    cutoff = time.time() - grace
    for blob_id in report.orphans:
        try:
            written = store.backend.stat(blob_id).modified_at
        except BlobNotFound:  # a shredded blob purged just now, or deleted since the listing
            continue
        if written > cutoff:
            repair.orphans_kept.append(blob_id)
            continue
        store.delete(blob_id)
        repair.orphans_deleted.append(blob_id)
    with unit_of_work():
        audit.record("verify.repair", actor=SYSTEM, shredded_deleted=repair.shredded_deleted,
                     orphans_deleted=len(repair.orphans_deleted), orphans_kept=len(repair.orphans_kept),
                     grace_seconds=grace, unrepairable=len(report.problems))
    return repair


class RotationImpossible(RuntimeError):
    pass


def _sealed_with(key_id: str) -> int:
    """Data keys (of files, texts, letters, receipts) and sealed values (customers' and officers' ID numbers,
    phones) still under this master key."""
    data_keys = db.session.scalar(sa.select(sa.func.count()).where(FileVersion.key_id == key_id))
    values = sum(
        db.session.scalar(sa.select(sa.func.count()).where(getattr(Customer, column).contains(f".{key_id}.")))
        for column, _context in CUSTOMER_SEALED
    )
    kept_elsewhere = sum(kept.sealed_with(key_id) for kept in (textstore, consultations, receipts, registers))
    return data_keys + values + kept_elsewhere


def key_usage() -> list[tuple[str, bool, int]]:
    ring = keyring()
    return [(key_id, key_id == ring.current_key_id, _sealed_with(key_id)) for key_id in ring.key_ids]


def rotate_master_key() -> tuple[str, int]:
    """Add a new current key to the key file, then re-seal data keys and sealed values in batches.

    Content is never rewritten. Interrupted half-way, it is simply run again: old keys stay readable.
    """
    if current_app.config.get("MASTER_KEY"):
        raise RotationImpossible(
            "The master key comes from ARCHIVE_MASTER_KEY: put a new key first in that list "
            "(`python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())'`), "
            "restart, and run `archive keys rotate` again to re-seal."
        )
    path = key_file(current_app)
    Keyring.rotate_file(path)
    reset_cached_keys(current_app)
    return keyring().current_key_id, reseal_all()


def reseal_all(batch: int = 500) -> int:
    """Re-seal every data key and sealed value that is not yet under the current master key."""
    ring, store, count = keyring(), blob_store(), 0
    while True:
        versions = db.session.scalars(
            sa.select(FileVersion).where(FileVersion.key_id != ring.current_key_id, FileVersion.shredded_at.is_(None))
            .limit(batch)
        ).all()
        if not versions:
            break
        with unit_of_work():
            for version in versions:
                version.key_id, version.wrapped_key = store.rewrap(version.blob_id, version.key_id, version.wrapped_key)
                count += 1
    count += textstore.reseal(ring.current_key_id)
    count += consultations.reseal(ring)
    count += receipts.reseal(ring)
    count += registers.reseal(ring)
    with unit_of_work():
        for customer in db.session.scalars(sa.select(Customer)):
            for column, context in CUSTOMER_SEALED:
                token = getattr(customer, column)
                if token:
                    resealed = ring.reseal_value(token, context)
                    if resealed != token:
                        setattr(customer, column, resealed)
                        count += 1
            if customer.id_number_sealed:
                number = ring.open_value(customer.id_number_sealed, "customer.id_number")
                customer.id_number_index = ring.blind_index(number, "customer.id_number")
        write_key_check()
        audit.record("keys.rotate", actor=SYSTEM, current_key=ring.current_key_id, resealed=count)
    return count


def retire_master_key(key_id: str) -> None:
    ring = keyring()
    if key_id == ring.current_key_id:
        raise RotationImpossible(f"{key_id} is the current key; rotate first.")
    still_used = _sealed_with(key_id)
    if still_used:
        raise RotationImpossible(f"{key_id} still seals {still_used} items: run `archive keys rotate`.")
    if current_app.config.get("MASTER_KEY"):
        raise RotationImpossible("The keys come from ARCHIVE_MASTER_KEY: remove the old key from that list instead.")
    ring.retire(key_id)
    reset_cached_keys(current_app)
    with unit_of_work():
        audit.record("keys.retire", actor=SYSTEM, key=key_id)


class NotVisible(Exception):
    pass


def export_document(username: str, archive_number: str, output: Path, version_no: int | None) -> int:
    """The shell's download: the same policy and audit as the web page, as the named user."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    try:
        doc = documents.get_document_by_number(user, archive_number)
        to_send = documents.open_file(user, doc.id, version_no, purpose="export")
    except (AccessDenied, NotFound):
        with unit_of_work():
            audit.record("access.denied", actor=user, object_type="document", object_id=archive_number,
                         outcome=audit.DENIED, attempted="export")
        raise NotVisible(archive_number) from None
    tmp = output.with_name(output.name + ".part")
    with to_send.stream as source, open(tmp, "wb") as fh:
        shutil.copyfileobj(source, fh, COPY_BUFFER)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(output)
    return to_send.size
