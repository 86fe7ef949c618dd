"""Master keys: loading, rotation, data-key wrapping, and field-level sealing of short values.

A master key is 32 random bytes; its id ("mk-" + 12 hex digits) is derived from the key, so an id
always names the same key.  Each use gets its own HKDF subkey (wrapping, field sealing, blind
index) so that no two purposes ever share key material.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ._files import fsync_directory
from .errors import InsecureKeyFile, KeyFileMissing, KeyringError, MalformedKey, UnknownKeyId, WrongKey

KEY_SIZE = 32
ENV_VAR = "ARCHIVE_MASTER_KEY"
KEY_FILE_NAME = "master.keys"

_ID_LABEL = b"property-archive master key id v1\x00"
_WRAP_INFO = b"property-archive data-key wrap v1"
_FIELD_INFO = b"property-archive field seal v1"
_INDEX_INFO = b"property-archive blind index v1"
_WRAP_VERSION = b"\x01"
_NONCE_SIZE = 12
_TAG_SIZE = 16
_WRAPPED_SIZE = len(_WRAP_VERSION) + _NONCE_SIZE + KEY_SIZE + _TAG_SIZE
_TOKEN_VERSION = "v1"
_KEY_ID_PATTERN = re.compile(r"mk-[0-9a-f]{12}")


def key_id_for(key: bytes) -> str:
    """The public id of a master key: a short digest that reveals nothing useful about the key."""
    return "mk-" + hashlib.sha256(_ID_LABEL + key).hexdigest()[:12]


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=KEY_SIZE, salt=None, info=info).derive(key)


def _decode_key(text: str, where: str) -> bytes:
    """Decode one base64 key (standard or URL-safe alphabet); the message never echoes the value."""
    try:
        key = base64.b64decode(text.strip().translate(str.maketrans("-_", "+/")), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise MalformedKey(f"{where} is not a base64-encoded {KEY_SIZE}-byte key")
    return key


class _MasterKey:
    """One master key and its derived subkeys."""

    __slots__ = ("key_id", "material", "wrap", "field", "index_key")

    def __init__(self, material: bytes) -> None:
        if len(material) != KEY_SIZE:
            raise MalformedKey(f"a master key must be {KEY_SIZE} bytes")
        self.key_id = key_id_for(material)
        self.material = material
        self.wrap = AESGCM(_derive(material, _WRAP_INFO))
        self.field = AESGCM(_derive(material, _FIELD_INFO))
        self.index_key = _derive(material, _INDEX_INFO)

    def __repr__(self) -> str:
        return f"<master key {self.key_id}>"


class Keyring:
    """The current master key plus older keys that stay readable until retired."""

    def __init__(
        self,
        keys: Iterable[bytes],
        current_key_id: str | None = None,
        *,
        retired: Iterable[str] = (),
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        """keys: raw 32-byte master keys; the first is current unless current_key_id names another.

        A keyring with a path (from_file, create_file, rotate_file) saves itself there on retire().
        """
        self._keys: dict[str, _MasterKey] = {}
        for material in keys:
            master = _MasterKey(material)
            self._keys.setdefault(master.key_id, master)
        if not self._keys:
            raise MalformedKey("a keyring needs at least one master key")
        self._current = current_key_id or next(iter(self._keys))
        if self._current not in self._keys:
            raise MalformedKey(f"current key {self._current} is not among the keys")
        self._retired = [key_id for key_id in dict.fromkeys(retired) if key_id not in self._keys]
        self._path = Path(path) if path is not None else None

    def __repr__(self) -> str:
        return f"Keyring(current={self._current!r}, keys={list(self._keys)!r})"

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Ids of all readable keys, current first."""
        return (self._current, *(key_id for key_id in self._keys if key_id != self._current))

    @property
    def retired_key_ids(self) -> tuple[str, ...]:
        return tuple(self._retired)

    # -- sources ---------------------------------------------------------------------------

    @classmethod
    def from_env_value(cls, value: str) -> Keyring:
        """Parse ARCHIVE_MASTER_KEY: comma-separated base64 keys, the first is current."""
        entries = [entry for entry in value.split(",") if entry.strip()]
        if not entries:
            raise MalformedKey(f"{ENV_VAR} holds no keys")
        return cls(_decode_key(entry, f"{ENV_VAR} entry {number}") for number, entry in enumerate(entries, 1))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Load a key file, refusing one that group or others could read or write."""
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise KeyFileMissing(
                f"master key file {path} does not exist; create it or set {ENV_VAR}"
            ) from None
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise MalformedKey(f"key file {path} is not a regular file")
            if info.st_mode & 0o077:
                raise InsecureKeyFile(
                    f"key file {path} is accessible by group or others "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
                )
            raw = file.read()
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        return cls._from_document(document, f"key file {path}", path)

    @classmethod
    def _from_document(cls, document: object, where: str, path: Path | None) -> Keyring:
        try:
            current, encoded_keys = document["current"], document["keys"]  # type: ignore[index]
            retired = document.get("retired", [])  # type: ignore[union-attr]
            if not isinstance(encoded_keys, dict) or not isinstance(retired, list):
                raise TypeError
        except (KeyError, TypeError, AttributeError):
            raise MalformedKey(f'{where} is not of the form {{"current": id, "keys": {{id: base64}}}}') from None
        keys = []
        for key_id, encoded in encoded_keys.items():
            material = _decode_key(str(encoded), f"key {key_id} in {where}")
            if key_id_for(material) != key_id:
                raise MalformedKey(f"{where}: key listed as {key_id} does not match its id")
            keys.append(material)
        return cls(keys, current, retired=retired, path=path)

    @classmethod
    def import_file(cls, path: str | os.PathLike[str], document: dict) -> Keyring:
        """Create a key file from an exported document (see export_document); never overwrites a file."""
        keyring = cls._from_document(document, "the imported keyring", Path(path))
        keyring._save(replace=False)
        return keyring

    @classmethod
    def create_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Create a key file with one fresh key, mode 0600, atomically; never overwrites a file."""
        keyring = cls([os.urandom(KEY_SIZE)], path=path)
        keyring._save(replace=False)
        return keyring

    @classmethod
    def rotate_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Add a fresh current key to a key file; older keys stay readable."""
        old = cls.from_file(path)
        new_key = os.urandom(KEY_SIZE)
        materials = [new_key, *(master.material for master in old._keys.values())]
        keyring = cls(materials, key_id_for(new_key), retired=old._retired, path=path)
        keyring._save(replace=True)
        return keyring

    def retire(self, key_id: str) -> None:
        """Remove an old key (and persist, for a file keyring).

        Everything still sealed with it becomes unreadable: rewrap blobs and reseal values first.
        """
        if key_id == self._current:
            raise KeyringError(f"key {key_id} is the current key; rotate before retiring it")
        if key_id not in self._keys:
            raise KeyringError(f"key {key_id} is not in the keyring")
        del self._keys[key_id]
        self._retired.append(key_id)
        if self._path is not None:
            self._save(replace=True)

    def export_document(self) -> dict:
        """The key file's content, key material included: only ever written to 0600 files or sealed."""
        return {
            "current": self._current,
            "keys": {key_id: base64.b64encode(m.material).decode("ascii") for key_id, m in self._keys.items()},
            "retired": self._retired,
        }

    def _save(self, *, replace: bool) -> None:
        """Write the key file through a 0600 temp file, fsync, then rename (or link, to never clobber)."""
        assert self._path is not None
        document = self.export_document()
        directory = self._path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                os.fchmod(file.fileno(), 0o600)
                file.write(json.dumps(document, indent=2).encode("ascii") + b"\n")
                file.flush()
                os.fsync(file.fileno())
            if replace:
                os.replace(temp_name, self._path)
            else:
                try:
                    os.link(temp_name, self._path)
                except FileExistsError:
                    raise KeyringError(f"key file {self._path} already exists; refusing to overwrite it") from None
                os.unlink(temp_name)
        except BaseException:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
            raise
        fsync_directory(directory)

    # -- data keys -------------------------------------------------------------------------

    def _get(self, key_id: str, sealed: str) -> _MasterKey:
        master = self._keys.get(key_id)
        if master is None:
            raise UnknownKeyId(key_id, sealed=sealed, retired=key_id in self._retired)
        return master

    def wrap_data_key(self, data_key: bytes, associated_data: bytes) -> tuple[str, bytes]:
        """Seal a data key under the current master key; returns (key_id, wrapped_key)."""
        master = self._keys[self._current]
        nonce = os.urandom(_NONCE_SIZE)
        return master.key_id, _WRAP_VERSION + nonce + master.wrap.encrypt(nonce, data_key, associated_data)

    def unwrap_data_key(self, key_id: str, wrapped_key: bytes, associated_data: bytes) -> bytes:
        """Open a wrapped data key; associated_data must match what it was wrapped with."""
        master = self._get(key_id, "blob")
        if len(wrapped_key) != _WRAPPED_SIZE or wrapped_key[:1] != _WRAP_VERSION:
            raise MalformedKey("wrapped key has an unexpected length or version")
        nonce, sealed = wrapped_key[1 : 1 + _NONCE_SIZE], wrapped_key[1 + _NONCE_SIZE :]
        try:
            return master.wrap.decrypt(nonce, sealed, associated_data)
        except InvalidTag:
            raise WrongKey(
                f"cannot unwrap the data key with master key {key_id}: the master key is wrong, "
                "or the wrapped key was altered or belongs to another blob"
            ) from None

    # -- field-level sealing -----------------------------------------------------------------

    def seal_value(self, text: str, context: str) -> str:
        """Encrypt a short value into an ASCII token "v1.<key_id>.<base64url(nonce||ciphertext)>".

        context (e.g. "customer.id_number") is authenticated: the token opens only with the same one.
        """
        master = self._keys[self._current]
        nonce = os.urandom(_NONCE_SIZE)
        sealed = nonce + master.field.encrypt(nonce, text.encode("utf-8"), context.encode("utf-8"))
        encoded = base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")
        return f"{_TOKEN_VERSION}.{master.key_id}.{encoded}"

    def open_value(self, token: str, context: str) -> str:
        """Decrypt a token from seal_value(), under whichever readable key sealed it."""
        key_id, sealed = _parse_token(token)
        master = self._get(key_id, "value")
        try:
            plain = master.field.decrypt(sealed[:_NONCE_SIZE], sealed[_NONCE_SIZE:], context.encode("utf-8"))
        except InvalidTag:
            raise WrongKey(
                f"cannot open value sealed with key {key_id} for context {context!r}: the master key "
                "is wrong, the token was altered, or it was sealed for another context"
            ) from None
        return plain.decode("utf-8")

    def reseal_value(self, token: str, context: str) -> str:
        """Return the token sealed under the current key (unchanged if it already is)."""
        if _parse_token(token)[0] == self._current:
            return token
        return self.seal_value(self.open_value(token, context), context)

    def blind_index(self, text: str, context: str, key_id: str | None = None) -> str:
        """HMAC-SHA256 hex of an exact value, for equality lookups without decrypting.

        Normalise the text first (e.g. strip spaces, upper-case) if lookups should ignore such
        differences.  The index depends on the key: after rotation look up with blind_indexes().
        """
        master = self._get(key_id or self._current, "index")
        context_bytes = context.encode("utf-8")
        message = len(context_bytes).to_bytes(4, "big") + context_bytes + text.encode("utf-8")
        return hmac.new(master.index_key, message, hashlib.sha256).hexdigest()

    def blind_indexes(self, text: str, context: str) -> list[str]:
        """The blind index under every readable key, current first (for lookups during rotation)."""
        return [self.blind_index(text, context, key_id) for key_id in self.key_ids]


def _parse_token(token: str) -> tuple[str, bytes]:
    version, _, rest = token.partition(".")
    key_id, _, encoded = rest.partition(".")
    if version != _TOKEN_VERSION or not _KEY_ID_PATTERN.fullmatch(key_id):
        raise MalformedKey("not a v1 sealed-value token")
    try:
        sealed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise MalformedKey("sealed-value token is not valid base64") from None
    if len(sealed) < _NONCE_SIZE + _TAG_SIZE:
        raise MalformedKey("sealed-value token is too short")
    return key_id, sealed
