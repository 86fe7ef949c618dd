"""Encrypted blob storage: backends, envelope encryption and the master keyring.

Typical use::

    keyring = Keyring.from_file(instance_path / KEY_FILE_NAME)
    store = EnvelopeStore(LocalFileBackend(storage_dir / "blobs"), keyring)
    sealed = store.put(upload_stream, max_size=200 << 20)   # store every field of sealed
    for chunk in store.iter_plaintext(sealed.blob_id, sealed.key_id, sealed.wrapped_key): ...
"""
from .backends import BlobBackend, LocalFileBackend, PutResult, new_blob_id, validate_blob_id
from .envelope import DEFAULT_SEGMENT_SIZE, EnvelopeStore, SealedBlob, VerifyResult, VerifyStatus, key_binding
from .errors import (
    BlobIntegrityError,
    BlobNotFound,
    BlobTooLarge,
    InsecureKeyFile,
    InvalidBlobId,
    KeyFileMissing,
    KeyringError,
    MalformedKey,
    StorageError,
    UnknownKeyId,
    WrongKey,
)
from .keyring import ENV_VAR, KEY_FILE_NAME, Keyring, key_id_for

__all__ = [
    "BlobBackend",
    "BlobIntegrityError",
    "BlobNotFound",
    "BlobTooLarge",
    "DEFAULT_SEGMENT_SIZE",
    "ENV_VAR",
    "EnvelopeStore",
    "InsecureKeyFile",
    "InvalidBlobId",
    "KEY_FILE_NAME",
    "KeyFileMissing",
    "Keyring",
    "KeyringError",
    "LocalFileBackend",
    "MalformedKey",
    "PutResult",
    "SealedBlob",
    "StorageError",
    "UnknownKeyId",
    "VerifyResult",
    "VerifyStatus",
    "WrongKey",
    "key_binding",
    "key_id_for",
    "new_blob_id",
    "validate_blob_id",
]
