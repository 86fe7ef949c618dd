"""What consultations keep encrypted (the letter scans and the officers' ID numbers), for fixity checks and
master-key rotation: `archive verify` and `archive keys rotate|retire` cover them like document files."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.keys import blob_store
from ..core.uow import unit_of_work
from ..extensions import db
from ..storage import Keyring
from .models import Consultation

OFFICER_IDS_CONTEXT = "consultation.officer_ids"


def sealed_with(key_id: str) -> int:
    """Letter data keys and officers' ID numbers still sealed by this master key."""
    letters = db.session.scalar(sa.select(sa.func.count()).where(Consultation.letter_key_id == key_id)) or 0
    ids = db.session.scalar(
        sa.select(sa.func.count()).where(Consultation.officer_ids_sealed.contains(f".{key_id}."))
    ) or 0
    return letters + ids


def reseal(ring: Keyring) -> int:
    """Re-seal letter data keys and ID numbers under the current master key; no letter is rewritten."""
    store, count = blob_store(), 0
    with unit_of_work():
        for consultation in db.session.scalars(sa.select(Consultation)):
            if consultation.letter_blob_id and consultation.letter_key_id != ring.current_key_id:
                consultation.letter_key_id, consultation.letter_wrapped_key = store.rewrap(
                    consultation.letter_blob_id, consultation.letter_key_id, consultation.letter_wrapped_key
                )
                count += 1
            resealed = ring.reseal_value(consultation.officer_ids_sealed, OFFICER_IDS_CONTEXT)
            if resealed != consultation.officer_ids_sealed:
                consultation.officer_ids_sealed = resealed
                count += 1
    return count


def verify_blobs(*, decrypt: bool) -> tuple[set[str], list[str]]:
    """(blob ids of every letter, problems found): letters are not orphans, and are checked too."""
    store, referenced, problems = blob_store(), set(), []
    rows = db.session.execute(
        sa.select(Consultation.number, Consultation.letter_blob_id, Consultation.letter_key_id,
                  Consultation.letter_wrapped_key, Consultation.letter_plain_sha256, Consultation.letter_cipher_sha256)
        .where(Consultation.letter_blob_id.is_not(None))
    )
    for number, blob_id, key_id, wrapped_key, plain_sha256, cipher_sha256 in rows:
        referenced.add(blob_id)
        result = store.verify(blob_id, key_id, wrapped_key, plain_sha256 if decrypt else None, cipher_sha256)
        if not result.ok:
            problems.append(f"{blob_id} (letter of consultation {number}): {result}")
    return referenced, problems
