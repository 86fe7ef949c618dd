"""Exceptions raised by the storage layer.

Messages name blobs, segments and key ids but never key material or plaintext.
"""
from __future__ import annotations


class StorageError(Exception):
    """Base class for every error raised by archive.storage."""


class InvalidBlobId(StorageError, ValueError):
    """A blob id that is not one the storage layer could have issued."""

    def __init__(self, blob_id: object) -> None:
        super().__init__(f"invalid blob id {str(blob_id)[:80]!r}: expected 32 lowercase hex digits")


class BlobNotFound(StorageError, FileNotFoundError):
    """The backend holds no blob with this id."""

    def __init__(self, blob_id: str) -> None:
        super().__init__(f"blob {blob_id} not found")
        self.blob_id = blob_id


class BlobTooLarge(StorageError):
    """The stream given to put() exceeded max_size; nothing was stored."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"content exceeds the maximum size of {max_size} bytes; nothing was stored")
        self.max_size = max_size


class BlobIntegrityError(StorageError):
    """Stored content failed authentication: altered, truncated, reordered or sealed with another key.

    segment is the index of the failing segment, or None when the header or the wrapped key failed.
    """

    def __init__(self, blob_id: str, segment: int | None, reason: str) -> None:
        where = "header" if segment is None else f"segment {segment}"
        super().__init__(f"blob {blob_id} failed integrity check at {where}: {reason}")
        self.blob_id = blob_id
        self.segment = segment
        self.reason = reason


class KeyringError(StorageError):
    """Base class for master key problems."""


class KeyFileMissing(KeyringError):
    """The key file does not exist."""


class InsecureKeyFile(KeyringError):
    """The key file is accessible to group or others."""


class MalformedKey(KeyringError):
    """A key file, key value, wrapped key or sealed token is not in the expected format."""


class UnknownKeyId(KeyringError):
    """Data was sealed with a master key that the keyring does not hold."""

    def __init__(self, key_id: str, *, sealed: str = "blob", retired: bool = False) -> None:
        note = " (it was retired)" if retired else ""
        super().__init__(f"{sealed} sealed with key {key_id} which is not in the keyring{note}")
        self.key_id = key_id


class WrongKey(KeyringError):
    """Authentication failed while unwrapping or opening with a master key."""
