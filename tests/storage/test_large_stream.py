"""A 300 MB stream goes through put() and open() in bounded memory (measured in a fresh process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SIZE = 300 * 10**6
MEMORY_LIMIT = 64 * 10**6

CHILD = r"""
import hashlib, io, json, os, resource, sys
from archive.storage import EnvelopeStore, Keyring, LocalFileBackend

SIZE = int(sys.argv[2])


class PatternReader(io.RawIOBase):
    # SIZE bytes of a repeating random block that is not segment-aligned; never held whole.
    def __init__(self, size):
        self.remaining = size
        self.pattern = memoryview(os.urandom((1 << 20) + 7))
        self.position = 0
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        count = min(len(view), self.remaining)
        filled = 0
        while filled < count:
            chunk = min(count - filled, len(self.pattern) - self.position)
            view[filled : filled + chunk] = self.pattern[self.position : self.position + chunk]
            self.position = (self.position + chunk) % len(self.pattern)
            filled += chunk
        self.digest.update(view[:count])
        self.remaining -= count
        return count


def status(field):
    with open("/proc/self/status") as lines:
        return int(next(line.split()[1] for line in lines if line.startswith(field + ":"))) * 1024


def ru_maxrss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


root = sys.argv[1]
store = EnvelopeStore(LocalFileBackend(os.path.join(root, "blobs")), Keyring([os.urandom(32)]))
source = PatternReader(SIZE)
with open("/proc/self/clear_refs", "w") as clear_refs:
    clear_refs.write("5")  # peak RSS := current RSS, dropping the import peak
before = {"hwm": status("VmHWM"), "ru_maxrss": ru_maxrss()}
sealed = store.put(source)
read_back = hashlib.sha256()
size_back = 0
buffer = memoryview(bytearray(1 << 20))
with store.open(sealed.blob_id, sealed.key_id, sealed.wrapped_key) as stream:
    while count := stream.readinto(buffer):
        read_back.update(buffer[:count])
        size_back += count
after = {"hwm": status("VmHWM"), "ru_maxrss": ru_maxrss()}
store.delete(sealed.blob_id)
print(json.dumps({
    "before": before, "after": after, "source_sha256": source.digest.hexdigest(),
    "plain_sha256": sealed.plain_sha256, "plain_size": sealed.plain_size,
    "read_sha256": read_back.hexdigest(), "read_size": size_back,
}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads peak RSS from /proc")
def test_300mb_round_trip_in_bounded_memory(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), str(SIZE)],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["plain_size"] == report["read_size"] == SIZE
    assert report["plain_sha256"] == report["source_sha256"] == report["read_sha256"]
    # VmHWM was reset to the current RSS just before: its growth is the true peak growth.
    # ru_maxrss is reported too, but it can carry the parent's peak across vfork/exec.
    for measure in ("hwm", "ru_maxrss"):
        growth = report["after"][measure] - report["before"][measure]
        assert growth < MEMORY_LIMIT, f"{measure} grew by {growth / 1e6:.1f} MB: {report}"
