"""The filed destruction registers, for fixity checks and master-key rotation (archive/core/sealed_files.py)."""
from __future__ import annotations

from ..core.sealed_files import SealedFiles
from .models import Disposal

_registers = SealedFiles(Disposal, "register", "destruction register {number}")
sealed_with, reseal, verify_blobs = _registers.sealed_with, _registers.reseal, _registers.verify_blobs
