"""Records that keep one sealed file beside their row (a handover receipt, a destruction register, a
consultation letter), for fixity checks and master-key rotation: `archive verify` and `archive keys
rotate|retire` (archive/maintenance/services.py) cover them like document files.

The columns follow one naming rule: <prefix>_blob_id, _key_id, _wrapped_key, _plain_sha256, _cipher_sha256.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..storage import Keyring
from .keys import blob_store
from .uow import unit_of_work


class SealedFiles:
    def __init__(self, model: Any, prefix: str, label: str) -> None:
        """`label` names one record in a problem report, e.g. "receipt of handover {number}"."""
        self.model, self.prefix, self.label = model, prefix, label

    def _column(self, name: str) -> Any:
        return getattr(self.model, f"{self.prefix}_{name}")

    def sealed_with(self, key_id: str) -> int:
        """Data keys still sealed by this master key."""
        return db.session.scalar(sa.select(sa.func.count()).where(self._column("key_id") == key_id)) or 0

    def reseal(self, ring: Keyring) -> int:
        """Re-seal the data keys under the current master key; no file is rewritten."""
        store, count = blob_store(), 0
        blob_id, key_id, wrapped_key = (f"{self.prefix}_{name}" for name in ("blob_id", "key_id", "wrapped_key"))
        with unit_of_work():
            for record in db.session.scalars(sa.select(self.model).where(
                    self._column("blob_id").is_not(None), self._column("key_id") != ring.current_key_id)):
                new_key_id, new_wrapped_key = store.rewrap(
                    getattr(record, blob_id), getattr(record, key_id), getattr(record, wrapped_key))
                setattr(record, key_id, new_key_id)
                setattr(record, wrapped_key, new_wrapped_key)
                count += 1
        return count

    def verify_blobs(self, *, decrypt: bool) -> tuple[set[str], list[str]]:
        """(blob ids of every record's file, problems found): they are not orphans, and are checked too."""
        store, referenced, problems = blob_store(), set(), []
        rows = db.session.execute(
            sa.select(self.model.number, *(self._column(name) for name in
                                           ("blob_id", "key_id", "wrapped_key", "plain_sha256", "cipher_sha256")))
            .where(self._column("blob_id").is_not(None))
        )
        for number, blob_id, key_id, wrapped_key, plain_sha256, cipher_sha256 in rows:
            referenced.add(blob_id)
            result = store.verify(blob_id, key_id, wrapped_key, plain_sha256 if decrypt else None, cipher_sha256)
            if not result.ok:
                problems.append(f"{blob_id} ({self.label.format(number=number)}): {result}")
        return referenced, problems
