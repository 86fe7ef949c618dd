"""LocalFileBackend: atomic durable puts, safe ids, listing."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from archive.storage import BlobNotFound, InvalidBlobId, LocalFileBackend


class FailingStream(io.RawIOBase):
    """Yields some bytes, then fails like a dropped upload."""

    def __init__(self, good_bytes: int) -> None:
        self.remaining = good_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.remaining <= 0:
            raise ConnectionResetError("client went away")
        count = min(len(buffer), self.remaining)
        buffer[:count] = b"x" * count
        self.remaining -= count
        return count


def all_files(root) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(path, name), root) for path, _dirs, names in os.walk(root) for name in names
    )


@pytest.fixture
def backend(tmp_path) -> LocalFileBackend:
    return LocalFileBackend(tmp_path / "blobs", buffer_size=64 * 1024)


def test_put_returns_id_size_and_sha256_and_fans_out(backend):
    data = os.urandom(200_000)
    blob_id, size, sha256 = backend.put(io.BytesIO(data))
    assert (size, sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert all_files(backend.root) == [os.path.join(blob_id[:2], blob_id[2:4], blob_id)]
    with backend.open(blob_id) as stored:
        assert stored.read() == data


def test_put_accepts_streams_without_readinto(backend):
    class ReadOnly:
        def __init__(self, data: bytes) -> None:
            self.source = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self.source.read(size)

    blob_id, size, _ = backend.put(ReadOnly(b"abc" * 50_000))
    assert size == 150_000 and backend.exists(blob_id)


def test_failing_stream_leaves_no_blob_and_no_temp_file(backend):
    with pytest.raises(ConnectionResetError):
        backend.put(FailingStream(good_bytes=300_000))
    assert all_files(backend.root) == []
    assert list(backend.iter_ids()) == []


def test_non_blocking_stream_is_refused_rather_than_cut_short(backend):
    class NoDataYet(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer):
            return None

    with pytest.raises(BlockingIOError):
        backend.put(NoDataYet())
    assert all_files(backend.root) == []


@pytest.mark.parametrize("crafted", ["../x", "../../etc/passwd", "ab/cd", "/tmp/x", "A" * 32, "g" * 32, "", "0" * 31])
def test_crafted_ids_are_rejected(backend, crafted):
    for operation in (backend.open, backend.delete, backend.exists, backend.path_for):
        with pytest.raises(InvalidBlobId):
            operation(crafted)


def test_iter_ids_lists_exactly_the_stored_blobs(backend):
    stored = {backend.put(io.BytesIO(os.urandom(n))).blob_id for n in (0, 1, 5000, 70_000)}
    # Strays that are not blobs: a temp file, a misplaced id, junk.
    some_id = next(iter(stored))
    (backend.root / some_id[:2] / some_id[2:4] / ".tmp-leftover").write_bytes(b"partial")
    (backend.root / "ff").mkdir(exist_ok=True)
    (backend.root / "ff" / ("0" * 32)).write_bytes(b"not fanned out")
    (backend.root / "README").write_text("junk")
    assert set(backend.iter_ids()) == stored
    assert list(backend.iter_ids()) == sorted(stored)


def test_delete_and_missing_blobs(backend):
    blob_id = backend.put(io.BytesIO(b"data")).blob_id
    backend.delete(blob_id)
    assert not backend.exists(blob_id)
    with pytest.raises(BlobNotFound):
        backend.open(blob_id)
    with pytest.raises(BlobNotFound):
        backend.delete(blob_id)
