"""The filed handover receipts, for fixity checks and master-key rotation (archive/core/sealed_files.py)."""
from __future__ import annotations

from ..core.sealed_files import SealedFiles
from .models import Handover

_receipts = SealedFiles(Handover, "receipt", "receipt of handover {number}")
sealed_with, reseal, verify_blobs = _receipts.sealed_with, _receipts.reseal, _receipts.verify_blobs
