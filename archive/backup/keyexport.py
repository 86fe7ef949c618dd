"""`archive keys export|import`: the keyring sealed under a passphrase, to keep apart from the backups.

File format (JSON): {"format", "kdf": {"name": "scrypt", "n", "r", "p", "salt"}, "nonce", "ciphertext"}; the
ciphertext is AES-256-GCM of the key file's JSON under the scrypt-derived key, with the format name as
associated data. Everything but the ciphertext is public; a wrong passphrase fails the GCM tag.
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from flask import current_app

from ..audit import services as audit
from ..auth.services import SYSTEM
from ..core.keys import key_file, keyring
from ..core.uow import unit_of_work
from ..storage import Keyring, KeyringError

FORMAT = "property-archive sealed keyring 1"
# scrypt at N=2^16, r=8: 64 MiB and a few tenths of a second per try, for each guess at the passphrase.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 16, 8, 1
MIN_PASSPHRASE = 12


class KeyExportError(RuntimeError):
    """The export or import cannot be done; the message says why (never with key material)."""


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def export_keys(target: Path, passphrase: str) -> list[str]:
    """Write the configured keyring sealed under the passphrase (0600, never over an existing file)."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyExportError(f"The passphrase must have at least {MIN_PASSPHRASE} characters.")
    if target.exists():
        raise KeyExportError(f"{target} already exists; choose a new file name.")
    ring = keyring()
    salt, nonce = os.urandom(16), os.urandom(12)
    plaintext = json.dumps(ring.export_document()).encode("utf-8")
    sealed = AESGCM(_derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, plaintext, FORMAT.encode())
    document = {
        "format": FORMAT,
        "key_ids": list(ring.key_ids),
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                "salt": base64.b64encode(salt).decode("ascii")},
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
    }
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyExportError(f"{target} already exists; choose a new file name.") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(document, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    with unit_of_work():
        audit.record("keys.export", actor=SYSTEM, key_ids=list(ring.key_ids))
    return list(ring.key_ids)


def open_export(source: Path, passphrase: str) -> dict:
    """The keyring document inside an export; a wrong passphrase or an altered file is refused."""
    try:
        document = json.loads(source.read_text("utf-8"))
        kdf = document["kdf"]
        if document["format"] != FORMAT or kdf["name"] != "scrypt":
            raise ValueError
        key = _derive(passphrase, base64.b64decode(kdf["salt"]), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        nonce, sealed = base64.b64decode(document["nonce"]), base64.b64decode(document["ciphertext"])
    except (OSError, ValueError, KeyError, TypeError):
        raise KeyExportError(f"{source} is not a keyring exported by `archive keys export`.") from None
    try:
        return json.loads(AESGCM(key).decrypt(nonce, sealed, FORMAT.encode()))
    except InvalidTag:
        raise KeyExportError("Wrong passphrase (or the export file was altered). Nothing was imported.") from None


def import_keys(source: Path, passphrase: str) -> list[str]:
    """Create this instance's key file from an export: for restoring onto a new machine."""
    if current_app.config.get("MASTER_KEY"):
        raise KeyExportError("The keys come from ARCHIVE_MASTER_KEY here: unset it to import into "
                             f"{key_file(current_app)}, or put the keys into that variable yourself.")
    target = key_file(current_app)
    if target.exists():
        raise KeyExportError(f"{target} already exists; the import never replaces a key file.")
    document = open_export(source, passphrase)
    try:
        ring = Keyring.import_file(target, document)
    except KeyringError as exc:
        raise KeyExportError(f"The imported keyring cannot be used: {exc}") from None
    return list(ring.key_ids)
