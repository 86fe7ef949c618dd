"""The filed handover receipts, for fixity checks and master-key rotation: `archive verify` and
`archive keys rotate|retire` must cover them like document files (archive/maintenance/services.py)."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.keys import blob_store
from ..core.uow import unit_of_work
from ..extensions import db
from ..storage import Keyring
from .models import Handover


def sealed_with(key_id: str) -> int:
    """Receipt data keys still sealed by this master key."""
    return db.session.scalar(sa.select(sa.func.count()).where(Handover.receipt_key_id == key_id)) or 0


def reseal(ring: Keyring) -> int:
    """Re-seal receipt data keys under the current master key; no receipt is rewritten."""
    store, count = blob_store(), 0
    with unit_of_work():
        for handover in db.session.scalars(
                sa.select(Handover).where(Handover.receipt_blob_id.is_not(None),
                                          Handover.receipt_key_id != ring.current_key_id)):
            handover.receipt_key_id, handover.receipt_wrapped_key = store.rewrap(
                handover.receipt_blob_id, handover.receipt_key_id, handover.receipt_wrapped_key)
            count += 1
    return count


def verify_blobs(*, decrypt: bool) -> tuple[set[str], list[str]]:
    """(blob ids of every receipt, problems found): receipts are not orphans, and are checked too."""
    store, referenced, problems = blob_store(), set(), []
    rows = db.session.execute(
        sa.select(Handover.number, Handover.receipt_blob_id, Handover.receipt_key_id, Handover.receipt_wrapped_key,
                  Handover.receipt_plain_sha256, Handover.receipt_cipher_sha256)
        .where(Handover.receipt_blob_id.is_not(None))
    )
    for number, blob_id, key_id, wrapped_key, plain_sha256, cipher_sha256 in rows:
        referenced.add(blob_id)
        result = store.verify(blob_id, key_id, wrapped_key, plain_sha256 if decrypt else None, cipher_sha256)
        if not result.ok:
            problems.append(f"{blob_id} (receipt of handover {number}): {result}")
    return referenced, problems
