"""What consultations keep encrypted (the letter scans and the officers' ID numbers), for fixity checks and
master-key rotation: `archive verify` and `archive keys rotate|retire` cover them like document files."""
from __future__ import annotations

import sqlalchemy as sa

from ..core.sealed_files import SealedFiles
from ..core.uow import unit_of_work
from ..extensions import db
from ..storage import Keyring
from .models import Consultation

OFFICER_IDS_CONTEXT = "consultation.officer_ids"


_letters = SealedFiles(Consultation, "letter", "letter of consultation {number}")
verify_blobs = _letters.verify_blobs


def sealed_with(key_id: str) -> int:
    """Letter data keys and officers' ID numbers still sealed by this master key."""
    ids = db.session.scalar(
        sa.select(sa.func.count()).where(Consultation.officer_ids_sealed.contains(f".{key_id}."))
    ) or 0
    return _letters.sealed_with(key_id) + ids


def reseal(ring: Keyring) -> int:
    """Re-seal letter data keys and ID numbers under the current master key; no letter is rewritten."""
    count = _letters.reseal(ring)
    with unit_of_work():
        for consultation in db.session.scalars(sa.select(Consultation)):
            resealed = ring.reseal_value(consultation.officer_ids_sealed, OFFICER_IDS_CONTEXT)
            if resealed != consultation.officer_ids_sealed:
                consultation.officer_ids_sealed = resealed
                count += 1
    return count
