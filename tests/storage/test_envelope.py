"""EnvelopeStore: round trips, confidentiality at rest, tamper detection, rotation, fixity."""
from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from archive.storage import (
    BlobIntegrityError,
    BlobNotFound,
    BlobTooLarge,
    EnvelopeStore,
    Keyring,
    LocalFileBackend,
    UnknownKeyId,
    VerifyStatus,
)
from archive.storage.envelope import HEADER, TAG_SIZE

MIB = 1 << 20
SMALL_SEGMENT = 64  # many segments from little data, for tampering at exact offsets


@pytest.fixture
def keyring(tmp_path) -> Keyring:
    return Keyring.create_file(tmp_path / "master.keys")


@pytest.fixture
def store(tmp_path, keyring) -> EnvelopeStore:
    return EnvelopeStore(LocalFileBackend(tmp_path / "blobs"), keyring)


@pytest.fixture
def small_store(tmp_path, keyring) -> EnvelopeStore:
    return EnvelopeStore(LocalFileBackend(tmp_path / "small-blobs"), keyring, segment_size=SMALL_SEGMENT)


def read_all(store: EnvelopeStore, sealed) -> bytes:
    with store.open(sealed.blob_id, sealed.key_id, sealed.wrapped_key) as stream:
        return stream.read()


def stored_path(store: EnvelopeStore, blob_id: str):
    return store.backend.path_for(blob_id)


def segment_offset(index: int) -> int:
    return HEADER.size + index * (SMALL_SEGMENT + TAG_SIZE)


@pytest.mark.parametrize(
    "size", [0, 1, 1000, MIB - 1, MIB, MIB + 1, 3 * MIB, 3 * MIB + 12345], ids=lambda n: f"{n}B"
)
def test_round_trip_and_checksums(store, size):
    data = os.urandom(size)
    sealed = store.put(io.BytesIO(data))
    segments = max(1, -(-size // MIB))
    assert sealed.plain_size == size
    assert sealed.plain_sha256 == hashlib.sha256(data).hexdigest()
    assert sealed.cipher_size == HEADER.size + size + segments * TAG_SIZE
    stored = stored_path(store, sealed.blob_id).read_bytes()
    assert sealed.cipher_size == len(stored)
    assert sealed.cipher_sha256 == hashlib.sha256(stored).hexdigest() == store.cipher_sha256(sealed.blob_id)
    assert read_all(store, sealed) == data
    assert b"".join(store.iter_plaintext(sealed.blob_id, sealed.key_id, sealed.wrapped_key)) == data


def test_small_reads_and_sources_without_readinto(small_store):
    data = os.urandom(1000)

    class ReadOnly:
        def __init__(self) -> None:
            self.source = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self.source.read(min(size, 7))  # short reads must not end a segment early

    sealed = small_store.put(ReadOnly())
    assert sealed.cipher_size == HEADER.size + 1000 + 16 * TAG_SIZE
    with small_store.open(sealed.blob_id, sealed.key_id, sealed.wrapped_key) as stream:
        assert b"".join(iter(lambda: stream.read(7), b"")) == data


def make_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Purchase contract, unit 3-2-1201")
    page.save()
    return buffer.getvalue()


def make_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


def test_stored_files_reveal_no_plaintext_or_file_signatures(store):
    pdf, jpeg = make_pdf(), make_jpeg()
    assert pdf.startswith(b"%PDF") and jpeg.startswith(b"\xff\xd8\xff")
    text = "业主姓名 张三 身份证 110101199003071234 ".encode() * 2000
    for data in (pdf, jpeg, text, pdf + jpeg):
        store.put(io.BytesIO(data))
    files = [p for p in store.backend.root.rglob("*") if p.is_file()]
    assert len(files) == 4
    for path in files:
        stored = path.read_bytes()
        assert b"%PDF-" not in stored
        assert not stored.startswith(b"\xff\xd8\xff")
        assert jpeg[:16] not in stored  # the whole JPEG SOI + JFIF/APP segment header
        for plain in (pdf, jpeg, text):
            for start in range(0, len(plain) - 32, 997):
                assert plain[start : start + 32] not in stored


def put_small(store: EnvelopeStore, segments: int = 4, tail: int = 10):
    data = os.urandom(segments * SMALL_SEGMENT + tail)
    return data, store.put(io.BytesIO(data))


def read_until_failure(store: EnvelopeStore, sealed) -> tuple[bytes, BlobIntegrityError]:
    """Everything the reader yielded before it raised: must be authentic content only."""
    received = bytearray()
    with pytest.raises(BlobIntegrityError) as raised:
        for chunk in store.iter_plaintext(sealed.blob_id, sealed.key_id, sealed.wrapped_key):
            received += chunk
    with pytest.raises(BlobIntegrityError):
        read_all(store, sealed)
    assert sealed.blob_id in str(raised.value)
    return bytes(received), raised.value


def rewrite(store: EnvelopeStore, blob_id: str, change) -> None:
    path = stored_path(store, blob_id)
    path.write_bytes(change(bytearray(path.read_bytes())))


def flip(offset: int):
    def change(stored: bytearray) -> bytearray:
        stored[offset] ^= 0x01
        return stored

    return change


@pytest.mark.parametrize("offset", range(HEADER.size))
def test_flipped_header_bit_is_detected(small_store, offset):
    data, sealed = put_small(small_store)
    rewrite(small_store, sealed.blob_id, flip(offset))
    received, error = read_until_failure(small_store, sealed)
    assert received == b"" and error.segment in (None, 0)


@pytest.mark.parametrize("segment", [0, 2, 4])
@pytest.mark.parametrize("where", ["first byte", "last tag byte"])
def test_flipped_segment_bit_is_detected(small_store, segment, where):
    data, sealed = put_small(small_store)
    end = segment_offset(segment + 1) if segment < 4 else sealed.cipher_size
    rewrite(small_store, sealed.blob_id, flip(segment_offset(segment) if where == "first byte" else end - 1))
    received, error = read_until_failure(small_store, sealed)
    assert error.segment == segment
    assert received == data[: segment * SMALL_SEGMENT]


def test_flipped_bit_in_a_large_blob_is_detected(store):
    data = os.urandom(3 * MIB + 5)
    sealed = store.put(io.BytesIO(data))
    rewrite(store, sealed.blob_id, flip(HEADER.size + MIB + TAG_SIZE + 12345))
    received, error = read_until_failure(store, sealed)
    assert error.segment == 1 and received == data[:MIB]


@pytest.mark.parametrize(
    "keep_segments, extra_bytes", [(0, 0), (1, 0), (3, 0), (4, 0), (2, 30), (4, 5), (0, 3)], ids=str
)
def test_truncation_is_detected(small_store, keep_segments, extra_bytes):
    data, sealed = put_small(small_store)
    cut = segment_offset(keep_segments) + extra_bytes
    rewrite(small_store, sealed.blob_id, lambda stored: stored[:cut])
    received, error = read_until_failure(small_store, sealed)
    assert received == data[: len(received)] and len(received) < len(data)
    assert error.segment is not None and error.segment <= keep_segments


def test_header_only_blob_is_detected(small_store):
    data, sealed = put_small(small_store, segments=0, tail=0)
    rewrite(small_store, sealed.blob_id, lambda stored: stored[: HEADER.size])
    received, error = read_until_failure(small_store, sealed)
    assert received == b"" and "final segment is missing" in str(error)


def test_swapped_and_duplicated_segments_are_detected(small_store):
    data, sealed = put_small(small_store)
    one, two, three = (slice(segment_offset(i), segment_offset(i + 1)) for i in (1, 2, 3))

    def swap(stored: bytearray) -> bytearray:
        stored[one], stored[two] = stored[two], stored[one]
        return stored

    rewrite(small_store, sealed.blob_id, swap)
    received, error = read_until_failure(small_store, sealed)
    assert error.segment == 1 and received == data[:SMALL_SEGMENT]
    rewrite(small_store, sealed.blob_id, swap)  # restored
    assert read_all(small_store, sealed) == data

    def duplicate(stored: bytearray) -> bytearray:
        stored[three] = stored[two]
        return stored

    rewrite(small_store, sealed.blob_id, duplicate)
    received, error = read_until_failure(small_store, sealed)
    assert error.segment == 3 and received == data[: 3 * SMALL_SEGMENT]


@pytest.mark.parametrize("appended", [b"\x00", os.urandom(50), os.urandom(SMALL_SEGMENT + TAG_SIZE)], ids=len)
def test_appended_data_is_detected(small_store, appended):
    data, sealed = put_small(small_store)
    rewrite(small_store, sealed.blob_id, lambda stored: stored + appended)
    received, error = read_until_failure(small_store, sealed)
    assert error.segment == 4 and received == data[: 4 * SMALL_SEGMENT]


def test_appended_copy_of_a_whole_blob_is_detected(small_store):
    data, sealed = put_small(small_store, segments=2, tail=SMALL_SEGMENT)  # ends with a full segment
    rewrite(small_store, sealed.blob_id, lambda stored: stored + stored[HEADER.size :])
    received, error = read_until_failure(small_store, sealed)
    assert error.segment == 2 and received == data[: 2 * SMALL_SEGMENT]


def test_wrapped_key_of_another_blob_is_rejected(small_store):
    _, first = put_small(small_store)
    _, second = put_small(small_store)
    with pytest.raises(BlobIntegrityError, match="belongs to another blob") as raised:
        small_store.open(first.blob_id, second.key_id, second.wrapped_key)
    assert raised.value.segment is None and first.blob_id in str(raised.value)
    with pytest.raises(BlobIntegrityError):
        small_store.iter_plaintext(first.blob_id, second.key_id, second.wrapped_key)


def test_header_swapped_from_another_blob_is_detected(small_store):
    _, first = put_small(small_store)
    _, second = put_small(small_store)
    other_header = stored_path(small_store, second.blob_id).read_bytes()[: HEADER.size]
    rewrite(small_store, first.blob_id, lambda stored: other_header + stored[HEADER.size :])
    received, error = read_until_failure(small_store, first)
    assert received == b"" and error.segment == 0


def test_content_swapped_between_blobs_is_detected(small_store):
    _, first = put_small(small_store)
    _, second = put_small(small_store)
    second_bytes = stored_path(small_store, second.blob_id).read_bytes()
    rewrite(small_store, first.blob_id, lambda stored: second_bytes)
    received, error = read_until_failure(small_store, first)
    assert received == b"" and error.segment == 0


def test_max_size_stores_nothing(store):
    with pytest.raises(BlobTooLarge, match="1048576 bytes"):
        store.put(io.BytesIO(os.urandom(MIB + 1)), max_size=MIB)
    assert list(store.backend.iter_ids()) == []
    assert [p for p in store.backend.root.rglob("*") if p.is_file()] == []
    sealed = store.put(io.BytesIO(os.urandom(MIB)), max_size=MIB)
    assert sealed.plain_size == MIB


def test_failing_source_stores_nothing(store):
    class Dropped(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if self.sent >= 3 * MIB:
                raise ConnectionResetError("client went away")
            self.sent += len(buffer)
            return len(buffer)

    with pytest.raises(ConnectionResetError):
        store.put(Dropped())
    assert [p for p in store.backend.root.rglob("*") if p.is_file()] == []


def test_rotation_rewrap_and_retirement(tmp_path):
    key_file = tmp_path / "master.keys"
    store = EnvelopeStore(LocalFileBackend(tmp_path / "blobs"), Keyring.create_file(key_file))
    data = os.urandom(150_000)
    sealed = store.put(io.BytesIO(data))
    content_before = stored_path(store, sealed.blob_id).read_bytes()

    store.keyring = Keyring.rotate_file(key_file)
    assert read_all(store, sealed) == data  # the old key stays readable
    new_key_id, new_wrapped = store.rewrap(sealed.blob_id, sealed.key_id, sealed.wrapped_key)
    assert new_key_id == store.keyring.current_key_id != sealed.key_id
    assert stored_path(store, sealed.blob_id).read_bytes() == content_before  # content untouched

    store.keyring.retire(sealed.key_id)
    store.keyring = Keyring.from_file(key_file)
    with store.open(sealed.blob_id, new_key_id, new_wrapped) as stream:
        assert stream.read() == data
    with pytest.raises(UnknownKeyId, match=f"blob sealed with key {sealed.key_id} which is not in the keyring"):
        store.open(sealed.blob_id, sealed.key_id, sealed.wrapped_key)


def test_verify_reports_which_check_failed(store):
    data = os.urandom(2 * MIB + 100)
    sealed = store.put(io.BytesIO(data))
    args = (sealed.blob_id, sealed.key_id, sealed.wrapped_key)
    assert store.verify(*args, sealed.plain_sha256, sealed.cipher_sha256).ok

    wrong_plain = hashlib.sha256(b"other").hexdigest()
    result = store.verify(*args, wrong_plain, sealed.cipher_sha256)
    assert result.status is VerifyStatus.PLAIN_MISMATCH

    fixity_only = store.verify(sealed.blob_id, "mk-000000000000", b"", None, sealed.cipher_sha256)
    assert fixity_only.ok and str(fixity_only) == f"blob {sealed.blob_id}: ok"

    rewrite(store, sealed.blob_id, flip(HEADER.size + MIB + 100))
    result = store.verify(*args, sealed.plain_sha256, sealed.cipher_sha256)
    assert result.status is VerifyStatus.CIPHER_MISMATCH and not result.ok
    assert "ciphertext checksum mismatch" in str(result)
    assert store.verify(*args, None, sealed.cipher_sha256).status is VerifyStatus.CIPHER_MISMATCH
    tampered_sha = store.cipher_sha256(sealed.blob_id)
    result = store.verify(*args, sealed.plain_sha256, tampered_sha)
    assert result.status is VerifyStatus.DECRYPT_FAILED and "segment 1" in result.detail

    _, other = put_small(store)
    result = store.verify(sealed.blob_id, other.key_id, other.wrapped_key, sealed.plain_sha256, tampered_sha)
    assert result.status is VerifyStatus.DECRYPT_FAILED and "header" in result.detail

    store.delete(sealed.blob_id)
    assert store.verify(*args, sealed.plain_sha256, sealed.cipher_sha256).status is VerifyStatus.MISSING
    with pytest.raises(BlobNotFound):
        store.open(*args)
    with pytest.raises(BlobNotFound):
        store.cipher_sha256(sealed.blob_id)
