"""Envelope encryption of blobs: a fresh data key per blob, content sealed in AES-256-GCM segments.

Stored blob format (all integers big endian):

    header   magic "PAEB" | version 1 (1 byte) | segment size S (4 bytes) | nonce prefix (7 bytes)
    segment  AES-256-GCM(data key, nonce, plaintext[i*S:(i+1)*S], associated data = header)
             ciphertext || 16-byte tag; every segment holds S plaintext bytes except the last,
             which holds 0..S bytes (an empty blob is one empty final segment)
    nonce    nonce prefix (7) || segment index (4) || last-segment flag (1: 0x01 on the last)

The data key is not in the blob: it is wrapped by the keyring with the blob id as associated data
and handed back to the caller, so rotation rewraps keys without touching content and discarding
the wrapped key shreds the content.
"""
from __future__ import annotations

import enum
import hashlib
import io
import secrets
import struct
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .backends import BlobBackend, ReadableStream, read_full, validate_blob_id
from .errors import BlobIntegrityError, BlobNotFound, BlobTooLarge, MalformedKey, StorageError, WrongKey
from .keyring import Keyring

MAGIC = b"PAEB"
FORMAT_VERSION = 1
HEADER = struct.Struct(">4sBI7s")
TAG_SIZE = 16
DEFAULT_SEGMENT_SIZE = 1 << 20
MAX_SEGMENT_SIZE = 16 << 20
_MAX_SEGMENTS = 1 << 32
# Plaintext buffers in flight: the segment being sealed, its look-ahead, and two being hashed.
_PLAIN_RING = 4
_KEY_BINDING = b"property-archive blob "


def key_binding(blob_id: str) -> bytes:
    """Associated data for wrapping a blob's data key: the key only opens for this blob."""
    return _KEY_BINDING + blob_id.encode("ascii")


def _segment_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= _MAX_SEGMENTS:
        raise StorageError("too many segments for one blob")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class SealedBlob:
    """What put() returns; the caller stores all of it next to the file's row."""

    blob_id: str
    key_id: str
    wrapped_key: bytes = field(repr=False)
    plain_size: int
    plain_sha256: str
    cipher_size: int
    cipher_sha256: str


class VerifyStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    CIPHER_MISMATCH = "ciphertext checksum mismatch"
    DECRYPT_FAILED = "decryption or authentication failed"
    PLAIN_MISMATCH = "plaintext checksum mismatch"


@dataclass(frozen=True)
class VerifyResult:
    blob_id: str
    status: VerifyStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is VerifyStatus.OK

    def __str__(self) -> str:
        text = f"blob {self.blob_id}: {self.status.value}"
        return f"{text} ({self.detail})" if self.detail else text


class EnvelopeStore:
    """Encrypts blobs into any BlobBackend with per-blob data keys wrapped by a Keyring."""

    def __init__(self, backend: BlobBackend, keyring: Keyring, segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError(f"segment_size must be between 1 and {MAX_SEGMENT_SIZE}")
        self.backend = backend
        self.keyring = keyring
        self.segment_size = segment_size

    def put(self, stream: ReadableStream, max_size: int | None = None) -> SealedBlob:
        """Seal and store the stream; raises BlobTooLarge (storing nothing) past max_size bytes."""
        data_key = AESGCM.generate_key(bit_length=256)
        with _SealingReader(stream, data_key, self.segment_size, max_size) as sealer:
            stored = self.backend.put(sealer)
            if not sealer.finished:
                self.backend.delete(stored.blob_id)
                raise StorageError(f"{self.backend!r} stopped reading before the end of the stream")
            plain_sha256 = sealer.plain_sha256()
        key_id, wrapped_key = self.keyring.wrap_data_key(data_key, key_binding(stored.blob_id))
        return SealedBlob(
            blob_id=stored.blob_id,
            key_id=key_id,
            wrapped_key=wrapped_key,
            plain_size=sealer.plain_size,
            plain_sha256=plain_sha256,
            cipher_size=stored.size,
            cipher_sha256=stored.sha256,
        )

    def open(self, blob_id: str, key_id: str, wrapped_key: bytes) -> io.BufferedReader:
        """A plaintext stream; reading raises BlobIntegrityError when it reaches damaged content."""
        reader = self._open_reader(blob_id, key_id, wrapped_key)
        return io.BufferedReader(reader, buffer_size=reader.segment_size)

    def iter_plaintext(self, blob_id: str, key_id: str, wrapped_key: bytes) -> Iterator[bytes]:
        """Plaintext in segment-sized chunks, e.g. for a Flask Response; the blob opens immediately."""
        reader = self._open_reader(blob_id, key_id, wrapped_key)

        def chunks() -> Iterator[bytes]:
            with reader:
                while segment := reader.next_segment():
                    yield bytes(segment)

        return chunks()

    def rewrap(self, blob_id: str, key_id: str, wrapped_key: bytes) -> tuple[str, bytes]:
        """Re-seal the blob's data key under the current master key; the content is untouched."""
        data_key = self._unwrap(blob_id, key_id, wrapped_key)
        return self.keyring.wrap_data_key(data_key, key_binding(blob_id))

    def cipher_sha256(self, blob_id: str) -> str:
        """SHA-256 of the stored bytes, computed without any key."""
        digest = hashlib.sha256()
        with self.backend.open(blob_id) as raw:
            _drain(_HashingReader(raw, digest), DEFAULT_SEGMENT_SIZE)
        return digest.hexdigest()

    def verify(
        self, blob_id: str, key_id: str, wrapped_key: bytes, plain_sha256: str | None, cipher_sha256: str
    ) -> VerifyResult:
        """Check a blob in one pass; the first failing check, in the order of VerifyStatus, is reported.

        With plain_sha256=None only the stored bytes are checked, without any key.  KeyringError
        (e.g. an unknown key id) propagates: it is a configuration fault, not damage.
        """
        cipher_digest, plain_digest = hashlib.sha256(), hashlib.sha256()
        failure: BlobIntegrityError | None = None
        try:
            raw = self.backend.open(blob_id)
        except BlobNotFound as exc:
            return VerifyResult(blob_id, VerifyStatus.MISSING, str(exc))
        with raw:
            hashing_raw = _HashingReader(raw, cipher_digest)
            if plain_sha256 is not None:
                try:
                    reader = _OpeningReader(hashing_raw, self._unwrap(blob_id, key_id, wrapped_key), blob_id)
                    while segment := reader.next_segment():
                        plain_digest.update(segment)
                except BlobIntegrityError as exc:
                    failure = exc
            # Hash whatever decryption left unread, so stored-byte damage is told apart.
            _drain(hashing_raw, DEFAULT_SEGMENT_SIZE)
        if cipher_digest.hexdigest() != cipher_sha256:
            detail = f"expected {cipher_sha256}, stored bytes hash to {cipher_digest.hexdigest()}"
            return VerifyResult(blob_id, VerifyStatus.CIPHER_MISMATCH, detail)
        if failure is not None:
            return VerifyResult(blob_id, VerifyStatus.DECRYPT_FAILED, str(failure))
        if plain_sha256 is not None and plain_digest.hexdigest() != plain_sha256:
            detail = f"expected {plain_sha256}, plaintext hashes to {plain_digest.hexdigest()}"
            return VerifyResult(blob_id, VerifyStatus.PLAIN_MISMATCH, detail)
        return VerifyResult(blob_id, VerifyStatus.OK)

    def exists(self, blob_id: str) -> bool:
        return self.backend.exists(blob_id)

    def delete(self, blob_id: str) -> None:
        """Remove the stored content (discarding the wrapped key alone already makes it unreadable)."""
        self.backend.delete(blob_id)

    def _unwrap(self, blob_id: str, key_id: str, wrapped_key: bytes) -> bytes:
        validate_blob_id(blob_id)
        try:
            return self.keyring.unwrap_data_key(key_id, wrapped_key, key_binding(blob_id))
        except (WrongKey, MalformedKey) as exc:
            raise BlobIntegrityError(blob_id, None, f"data key unusable: {exc}") from exc

    def _open_reader(self, blob_id: str, key_id: str, wrapped_key: bytes) -> _OpeningReader:
        data_key = self._unwrap(blob_id, key_id, wrapped_key)
        raw = self.backend.open(blob_id)
        try:
            return _OpeningReader(raw, data_key, blob_id)
        except BaseException:
            raw.close()
            raise


class _SealingReader(io.RawIOBase):
    """Reads plaintext from a source and yields the sealed blob: header, then segments.

    readinto() seals whole segments straight into the caller's buffer when they fit, so a
    backend reading with a buffer of a segment or more never copies ciphertext.  The plaintext
    is hashed on a worker thread (hashlib and encrypt_into release the GIL) while this thread reads, encrypts
    and the backend hashes and writes the ciphertext: the two digests use both cores.
    """

    def __init__(self, source: ReadableStream, data_key: bytes, segment_size: int, max_size: int | None) -> None:
        super().__init__()
        self._source = source
        self._aead = AESGCM(data_key)
        self._segment_size = segment_size
        self._max_size = max_size
        self._nonce_prefix = secrets.token_bytes(7)
        self._header = HEADER.pack(MAGIC, FORMAT_VERSION, segment_size, self._nonce_prefix)
        self._pending = memoryview(self._header)  # sealed bytes not yet handed out
        self._spill: memoryview | None = None  # only for callers with buffers smaller than a segment
        self._plain = [memoryview(bytearray(segment_size)) for _ in range(_PLAIN_RING)]
        self._hashing: list[Future[None] | None] = [None] * _PLAIN_RING
        self._hasher: ThreadPoolExecutor | None = None
        self._digest = hashlib.sha256()
        self._fills = 0
        self._current: tuple[int, int] | None = None  # (ring slot, length) of the next segment
        self._lookahead: tuple[int, int] | None = None
        self._index = 0
        self.finished = False
        self.plain_size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        out = memoryview(buffer).cast("B")
        if not out:
            return 0
        written = self._hand_out(out)
        if self._pending:
            return written
        while not self.finished:
            length, last = self._prepare_segment()
            size = length + TAG_SIZE
            if size <= len(out) - written:
                self._seal(out[written : written + size], last)
                written += size
            elif written:
                break
            else:
                if self._spill is None:
                    self._spill = memoryview(bytearray(self._segment_size + TAG_SIZE))
                self._pending = self._spill[:size]
                self._seal(self._pending, last)
                return self._hand_out(out)
        return written

    def _hand_out(self, out: memoryview) -> int:
        count = min(len(out), len(self._pending))
        out[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _prepare_segment(self) -> tuple[int, bool]:
        """Read the next segment (and, for a full one, the one after) to learn whether it is last."""
        if self._current is None:
            self._current = self._fill_slot()
        length = self._current[1]
        if length < self._segment_size:
            return length, True
        if self._lookahead is None:
            self._lookahead = self._fill_slot()
        return length, self._lookahead[1] == 0

    def _seal(self, destination: memoryview, last: bool) -> None:
        assert self._current is not None
        slot, length = self._current
        nonce = _segment_nonce(self._nonce_prefix, self._index, last)
        self._aead.encrypt_into(nonce, self._plain[slot][:length], self._header, destination)
        self._index += 1
        self.finished = last
        self._current, self._lookahead = self._lookahead, None

    def _fill_slot(self) -> tuple[int, int]:
        slot = self._fills % _PLAIN_RING
        self._fills += 1
        in_flight = self._hashing[slot]
        if in_flight is not None:
            in_flight.result()  # the buffer is still being hashed
        view = self._plain[slot]
        length = read_full(self._source, view)
        self.plain_size += length
        if self._max_size is not None and self.plain_size > self._max_size:
            raise BlobTooLarge(self._max_size)
        if length == self._segment_size and self._hasher is None:
            # More may follow: worth a thread.  A blob of one short segment is hashed inline.
            self._hasher = ThreadPoolExecutor(1, thread_name_prefix="blob-sha256")
        if self._hasher is None:
            self._digest.update(view[:length])
        else:
            # One worker runs submissions in order, so the digest sees the bytes in order.
            self._hashing[slot] = self._hasher.submit(self._digest.update, view[:length])
        return slot, length

    def plain_sha256(self) -> str:
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
        return self._digest.hexdigest()

    def close(self) -> None:
        # Wait for the worker so no thread still reads the buffers.
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
        super().close()


class _OpeningReader(io.RawIOBase):
    """Decrypts a sealed blob segment by segment; an integrity failure is final for the reader."""

    def __init__(self, raw: BinaryIO | io.RawIOBase, data_key: bytes, blob_id: str) -> None:
        super().__init__()
        self._raw = raw
        self._blob_id = blob_id
        self._aead = AESGCM(data_key)
        self._header = bytearray(HEADER.size)
        if read_full(raw, memoryview(self._header)) < HEADER.size:
            raise BlobIntegrityError(blob_id, None, "truncated header")
        magic, version, segment_size, self._nonce_prefix = HEADER.unpack(self._header)
        if magic != MAGIC:
            raise BlobIntegrityError(blob_id, None, "not a sealed blob (bad magic)")
        if version != FORMAT_VERSION:
            raise BlobIntegrityError(blob_id, None, f"unsupported format version {version}")
        if not 1 <= segment_size <= MAX_SEGMENT_SIZE:
            raise BlobIntegrityError(blob_id, None, f"implausible segment size {segment_size}")
        self.segment_size = segment_size
        # One byte beyond a full segment tells whether more follow; it is carried to the next read.
        self._cipher = memoryview(bytearray(segment_size + TAG_SIZE + 1))
        self._carried = 0
        self._plain: memoryview | None = None  # only for reads smaller than a segment
        self._unread = memoryview(b"")
        self._index = 0
        self._finished = False
        self._failure: BlobIntegrityError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        out = memoryview(buffer).cast("B")
        if not out:
            return 0
        if not self._unread:
            if self._finished:
                return 0
            if len(out) >= self.segment_size:  # decrypt straight into the caller's buffer
                return self._open_segment(out)
            self._unread = self.next_segment()
        count = min(len(out), len(self._unread))
        out[:count] = self._unread[:count]
        self._unread = self._unread[count:]
        return count

    def next_segment(self) -> memoryview:
        """The next segment's plaintext (valid until the next call); empty at the end."""
        if self._finished:
            return memoryview(b"")
        if self._plain is None:
            self._plain = memoryview(bytearray(self.segment_size))
        return self._plain[: self._open_segment(self._plain)]

    def _open_segment(self, destination: memoryview) -> int:
        if self._failure is not None:
            raise self._failure
        full = self.segment_size + TAG_SIZE
        available = self._carried + read_full(self._raw, self._cipher[self._carried :])
        last = available <= full
        if available < TAG_SIZE:
            self._fail("content truncated: the final segment is missing")
        length = (available if last else full) - TAG_SIZE
        target = destination[:length]
        nonce = _segment_nonce(self._nonce_prefix, self._index, last)
        try:
            self._aead.decrypt_into(nonce, self._cipher[: length + TAG_SIZE], self._header, target)
        except InvalidTag:
            target[:] = bytes(length)  # decrypt_into leaves unauthenticated plaintext behind
            self._fail("authentication failed: content altered, reordered or truncated, or wrong data key")
        if last:
            self._finished = True
        else:
            self._cipher[0] = self._cipher[full]
            self._carried = 1
        self._index += 1
        return length

    def _fail(self, reason: str) -> NoReturn:
        self._failure = BlobIntegrityError(self._blob_id, self._index, reason)
        raise self._failure

    def close(self) -> None:
        self._raw.close()
        super().close()


class _HashingReader(io.RawIOBase):
    """Passes reads through while hashing them (the ciphertext side of verify)."""

    def __init__(self, raw: BinaryIO, digest: hashlib._Hash) -> None:
        super().__init__()
        self._raw = raw
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = read_full(self._raw, view)
        self._digest.update(view[:count])
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def _drain(stream: _HashingReader, buffer_size: int) -> None:
    view = memoryview(bytearray(buffer_size))
    while stream.readinto(view):
        pass
