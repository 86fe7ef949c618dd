"""The instance's master keys and encrypted blob store, as the Flask app sees them."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from ..extensions import db
from ..storage import EnvelopeStore, Keyring, KeyringError, LocalFileBackend
from .models import Setting

KEY_FILE = "master.keys"
KEY_CHECK = "master_key_check"
KEY_CHECK_PLAINTEXT = "property-archive master key check"


class MasterKeyError(RuntimeError):
    """Start-up cannot go on: the master key is missing or does not fit this archive."""


def key_file(app: Flask) -> Path:
    return Path(app.instance_path) / KEY_FILE


def load_keyring(app: Flask) -> Keyring:
    """The configured keys; any problem with them (malformed, unsafe file mode) stops start-up clearly."""
    try:
        if app.config.get("MASTER_KEY"):
            return Keyring.from_env_value(app.config["MASTER_KEY"])
        path = key_file(app)
        if not path.exists():
            raise MasterKeyError(
                f"No master key: {path} does not exist and ARCHIVE_MASTER_KEY is not set. "
                "Run `archive init` for a new archive, or restore the key of this one."
            )
        return Keyring.from_file(path)
    except KeyringError as exc:  # its messages never contain key material
        raise MasterKeyError(f"The master key cannot be used: {exc}") from None


def keyring() -> Keyring:
    ext = current_app.extensions
    if "archive_keyring" not in ext:
        ext["archive_keyring"] = load_keyring(current_app)
    return ext["archive_keyring"]


def blob_store() -> EnvelopeStore:
    ext = current_app.extensions
    if "archive_store" not in ext:
        root = Path(current_app.config["STORAGE_DIR"]) / "blobs"
        root.mkdir(parents=True, exist_ok=True)
        ext["archive_store"] = EnvelopeStore(LocalFileBackend(root), keyring())
    return ext["archive_store"]


def reset_cached_keys(app: Flask) -> None:
    """Forget the loaded keyring (after rotation) so the next use reads the new one."""
    app.extensions.pop("archive_keyring", None)
    app.extensions.pop("archive_store", None)


def write_key_check() -> None:
    """Seal a known value under the current master key; start-up opens it to prove the key is right."""
    token = keyring().seal_value(KEY_CHECK_PLAINTEXT, KEY_CHECK)
    setting = db.session.get(Setting, KEY_CHECK)
    if setting is None:
        db.session.add(Setting(key=KEY_CHECK, value=token))
    else:
        setting.value = token


def check_master_key() -> None:
    """Stop start-up with a clear message when the key is missing or is not this archive's key."""
    ring = keyring()
    setting = db.session.get(Setting, KEY_CHECK)
    if setting is None:
        return  # a new, empty archive: `archive init` writes the check value
    try:
        ok = ring.open_value(setting.value, KEY_CHECK) == KEY_CHECK_PLAINTEXT
    except Exception:
        ok = False
    if not ok:
        raise MasterKeyError(
            "The master key does not fit this archive's data (wrong ARCHIVE_MASTER_KEY or "
            f"{key_file(current_app)}). Nothing was changed; restore the right key and start again."
        )

