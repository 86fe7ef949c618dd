"""Crash safety: SIGKILL at random points during filing, versioning, key rotation and disposal.

The test process builds the app once; each round forks a child that repeats one operation until the parent
kills it at a random moment (ARCHIVE_KILL_SEED replays the random draws; the moments are multiples of the
operation's duration, timed in a child before its rounds). After every kill the parent proves that nothing is
half-done (`Invariants.check`):

- every live file, text and register row has its blob, and its data key unwraps under the key the key file
  holds for its key id (no half-rotated key); rows new or re-sealed since the previous check are decrypted
  in full against their checksums, the others were decrypted when they were last sealed;
- the audit chain has no gap (event count = highest seq = head) and the events since the previous check
  link to it and hash right;
- the key check value opens;
- after `verify --repair` with no grace period the stored blobs are exactly the referenced ones: no orphan,
  no shredded blob left.

After each operation's rounds, and at the end, a full check decrypts everything with `archive verify`'s own
`verify_blobs(decrypt=True)`, walks the whole chain and repairs with its orphan list. On SQLite and
PostgreSQL (whichever the suite runs on).
"""
from __future__ import annotations

import gc
import io
import os
import random
import signal
import time
import traceback
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from archive.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from archive.audit.services import event_hash, verify_chain
from archive.auth.models import User
from archive.core.enums import Category, Level, Role
from archive.core.keys import blob_store, check_master_key, keyring, reset_cached_keys
from archive.documents import services as documents
from archive.documents.models import Document, FileVersion
from archive.extensions import db
from archive.handovers import sealed as receipts
from archive.loans import sealed as consultations
from archive.maintenance import services as maintenance
from archive.retention import services as retention
from archive.retention.models import Disposal, DisposalItem, DisposalStatus
from archive.search.models import ExtractedText
from archive.storage.backends import LocalFileBackend
from tests.conftest import keyfile_instance
from tests.factories import Factory, make_pdf

pytestmark = pytest.mark.slow

# Kills per operation, 200 in all; a disposal child lives longest, so it is killed fewest times.
KILLS = {"filing": 55, "versioning": 55, "rotation": 55, "disposal": 35}
# A child is killed at a random moment within this multiple of one such operation timed in a child just before
# its rounds: mostly in the middle of its first run, sometimes after it (then in the middle of the next).
ALIVE = (0.0, 1.15)
ALIVE_DISPOSAL = (0.0, 1.3)  # the same for a disposal child: about one in five completes one before its kill
# One disposal child in three is killed around the end of its disposal instead, between these multiples of the
# time to its first blob deletion and of the time to its end: the second witness's confirmation commits the
# shredding, then deletes the blobs (the commit comes a few milliseconds before the first deletion).
AROUND_THE_END = (0.85, 1.1)
# In the disposal child each blob deletion waits this long first, so that the window between the shredding's
# commit and the last deletion is wide enough for a share of the kills to land in it on any disk.
DELETE_DELAY = 0.025
DISPOSAL_POOL = 6  # expired documents kept ready for the disposal children


@pytest.fixture
def keyfile_app(database_url, tmp_path, monkeypatch):
    """Rotation writes the key file; tasks are queued, not run."""
    with keyfile_instance(database_url, tmp_path, monkeypatch) as app:
        yield app


class Archive:
    """The people and the dossier the operations use, by id: a forked child loads them in its own session."""

    def __init__(self, factory: Factory) -> None:
        self.archivist = factory.archivist.id
        heads = [factory.user(f"head{n}", roles=(Role.ARCHIVE_HEAD,), department="GMO", clearance=Level.A)
                 for n in range(2)]
        witnesses = [factory.user(f"witness{n}", roles=(Role.ARCHIVIST,), department="GMO", clearance=Level.A)
                     for n in range(2)]
        self.proposer, self.approver = heads[0].id, heads[1].id
        self.witnesses = [w.id for w in witnesses]
        self.dossier = factory.dossier().id
        self.pdf = make_pdf("维修单", "漏水 维修 完成")

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def file(self, category: Category = Category.XS, doc_date: date = date(2023, 5, 8),
             count: int = 1) -> list[Document]:
        archivist = self.user(self.archivist)
        meta = documents.DocumentMetadata(category=category, title="维修记录", responsible_party="客户服务中心",
                                          doc_date=doc_date, department_id=archivist.department_id)
        uploads = [documents.Upload(f"scan{n}.pdf", io.BytesIO(self.pdf)) for n in range(count)]
        return documents.file_documents(archivist, self.dossier, meta, uploads)

    def disposable(self) -> sa.Select:
        """Expired documents (repair records, WX, are kept 10 years; these are from 2000) on no disposal yet."""
        return sa.select(Document.id).where(
            Document.category == Category.WX, Document.disposed_at.is_(None),
            Document.id.not_in(sa.select(DisposalItem.document_id)))

    def fill_disposal_pool(self) -> None:
        """In the parent: file expired documents, each with a second version, so a disposal child only disposes."""
        available = db.session.scalar(sa.select(sa.func.count()).select_from(self.disposable().subquery()))
        if available >= DISPOSAL_POOL // 2:
            return
        for doc in self.file(Category.WX, date(2000, 1, 1), count=DISPOSAL_POOL - available):
            documents.add_version(self.user(self.archivist), doc.id,
                                  documents.Upload("second.pdf", io.BytesIO(self.pdf)), "补充")
        db.session.remove()

    # The operations a child repeats until it is killed --------------------------------------------------

    def filing(self) -> None:
        self.file()

    def versioning(self) -> None:
        doc_id = db.session.scalar(sa.select(sa.func.min(Document.id)).where(Document.disposed_at.is_(None)))
        documents.add_version(self.user(self.archivist), doc_id,
                              documents.Upload("corrected.pdf", io.BytesIO(self.pdf)), "更正扫描件")

    def rotation(self) -> None:
        maintenance.rotate_master_key()

    def disposal(self) -> None:
        doc_id = db.session.scalar(self.disposable().order_by(Document.id).limit(1))
        assert doc_id is not None, "the disposal pool is empty: fill_disposal_pool keeps too few"
        disposal = retention.propose_disposal(self.user(self.proposer), [doc_id], reason="保管期满")
        retention.approve_disposal(self.user(self.approver), disposal.id)
        for witness in self.witnesses:  # the second confirmation shreds: commit, then the blob deletions
            retention.confirm_witness(self.user(witness), disposal.id)


def slow_deletions(deleting: list[float] | None = None, delay: float = DELETE_DELAY) -> None:
    """Make every blob deletion of this process wait `delay` first (noting when the first began in `deleting`)."""
    delete = LocalFileBackend.delete

    def slow_delete(self, blob_id: str) -> None:
        if deleting is not None and not deleting:
            deleting.append(time.monotonic())
        time.sleep(delay)
        delete(self, blob_id)

    LocalFileBackend.delete = slow_delete  # type: ignore[method-assign]


def start_child(prepare, ready: int, deleting: list[float] | None = None) -> float:
    """In a forked child: forget the parent's connections without closing them, connect, and say so."""
    db.engine.dispose(close=False)
    if prepare is not None:
        prepare(deleting=deleting)
    db.session.execute(sa.select(1))  # the connection is made before the kill window opens
    db.session.rollback()
    os.write(ready, b"r")
    return time.monotonic()


class Children:
    """Forks the children and times them from the moment they are connected and about to work; counts the
    time spent forking, connecting and reaping them (not working)."""

    def __init__(self) -> None:
        self.overhead = 0.0

    def fork(self, child) -> tuple[int, int]:
        """Fork a child that runs `child(ready_fd, report_fd)` and must never return; wait until it is ready."""
        db.session.remove()  # no connection may be shared with the child, nor a lock held while it runs
        gc.freeze()  # the child's collector leaves the parent's objects alone: fewer pages copied, a quicker end
        ready_r, ready_w = os.pipe()
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                os.close(ready_r)
                os.close(report_r)
                code = child(ready_w, report_w)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)  # never return into the parent's pytest
        gc.unfreeze()
        os.close(ready_w)
        os.close(report_w)
        with os.fdopen(ready_r, "rb") as ready:
            ready.read(1)  # b"" if the child failed to start: its exit status tells
        return pid, report_r

    def kill_at_random(self, operation, delay: float, prepare=None) -> None:
        def child(ready: int, report: int) -> int:
            start_child(prepare, ready)
            while True:
                operation()

        started = time.monotonic()
        pid, report = self.fork(child)
        os.close(report)
        working = time.monotonic()
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        _, status = os.waitpid(pid, 0)
        self.overhead += (working - started) + (time.monotonic() - killed)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
            f"the child stopped by itself (status {status}): the operation failed, see its traceback above"

    def time_in_child(self, operation, prepare=None) -> tuple[float, float | None]:
        """One operation in a child, to its end: seconds from its start to its end and, with slowed deletions,
        to its first blob deletion."""
        def child(ready: int, report: int) -> int:
            deleting: list[float] = []
            started = start_child(prepare, ready, deleting)
            operation()
            ended = time.monotonic()
            os.write(report, f"{ended - started} {deleting[0] - started if deleting else -1}".encode())
            return 0

        pid, report = self.fork(child)
        with os.fdopen(report, "rb") as pipe:
            timings = pipe.read()
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the operation failed, see its traceback above"
        ended, deleting = map(float, timings.split())
        return ended, (deleting if deleting >= 0 else None)


@dataclass
class Sealed:
    blob_id: str
    key_id: str
    wrapped_key: bytes
    plain_sha256: str
    cipher_sha256: str


class Invariants:
    """The checks after each kill. What was decrypted in full is remembered by blob and sealing, so a check
    decrypts only what was filed or re-sealed since the previous one; the chain is walked on from where the
    previous check stopped."""

    def __init__(self, app) -> None:
        self.app = app
        self.decrypted: dict[str, tuple[str, bytes]] = {}  # blob id -> (key id, wrapped key) decrypted in full
        self.chain = (0, GENESIS_HASH)  # (seq, hash) of the last event verified
        self.seconds = 0.0
        self.full_seconds = 0.0

    def live_rows(self) -> list[Sealed]:
        versions = db.session.execute(sa.select(
            FileVersion.blob_id, FileVersion.key_id, FileVersion.wrapped_key, FileVersion.plain_sha256,
            FileVersion.cipher_sha256).where(FileVersion.shredded_at.is_(None))).all()
        texts = db.session.execute(sa.select(
            ExtractedText.blob_id, ExtractedText.key_id, ExtractedText.wrapped_key, ExtractedText.plain_sha256,
            ExtractedText.cipher_sha256).where(ExtractedText.blob_id.is_not(None))).all()
        registers = db.session.execute(sa.select(
            Disposal.register_blob_id, Disposal.register_key_id, Disposal.register_wrapped_key,
            Disposal.register_plain_sha256, Disposal.register_cipher_sha256)
            .where(Disposal.register_blob_id.is_not(None))).all()
        return [Sealed(*row) for row in [*versions, *texts, *registers]]

    def check(self, *, full: bool = False) -> maintenance.RepairReport:
        started = time.monotonic()
        reset_cached_keys(self.app)  # the child may have rotated the key file
        store, ring = blob_store(), keyring()
        check_master_key()
        rows = self.live_rows()
        for row in rows:
            assert row.key_id in ring, f"blob {row.blob_id} is sealed by {row.key_id}, which the key file lacks"
            if full or self.decrypted.get(row.blob_id) != (row.key_id, row.wrapped_key):
                result = store.verify(row.blob_id, row.key_id, row.wrapped_key, row.plain_sha256, row.cipher_sha256)
                assert result.ok, f"a live row's blob is broken after a kill: {result}"
                self.decrypted[row.blob_id] = (row.key_id, row.wrapped_key)
            else:
                # Decrypted in full under this very sealing before; the key must still open it (the key file
                # may have been rewritten since). That its blob is still there, the sweep below shows.
                store.rewrap(row.blob_id, row.key_id, row.wrapped_key)
        self.check_chain(full)
        repair = self.sweep(store, {row.blob_id for row in rows}, full)
        db.session.remove()
        elapsed = time.monotonic() - started
        self.seconds += elapsed
        self.full_seconds += elapsed if full else 0.0
        return repair

    def check_chain(self, full: bool) -> None:
        head = db.session.execute(sa.select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)).one()
        count, highest = db.session.execute(sa.select(sa.func.count(), sa.func.max(AuditEvent.seq))).one()
        assert count == (highest or 0) == head.last_seq, \
            f"audit chain has a gap after a kill: {count} events, highest seq {highest}, head at {head.last_seq}"
        if full:
            checked, chain_break = verify_chain()
            assert chain_break is None, f"audit chain broken after a kill: {chain_break}"
        table = AuditEvent.__table__
        seq, prev = self.chain
        for event in db.session.execute(sa.select(table).where(table.c.seq > seq, table.c.seq <= head.last_seq)
                                        .order_by(table.c.seq)):
            assert event.seq == seq + 1, f"audit chain broken after a kill: event {seq + 1} is missing"
            assert event.prev_hash == prev, f"audit chain broken after a kill at {event.seq}: previous hash differs"
            assert event_hash(event) == event.hash, f"audit chain broken after a kill at {event.seq}: hash differs"
            seq, prev = event.seq, event.hash
        assert (seq, prev) == (head.last_seq, head.last_hash), "audit chain head does not match its last event"
        self.chain = (seq, prev)

    def sweep(self, store, referenced: set[str], full: bool) -> maintenance.RepairReport:
        """`verify --repair` with no grace period; afterwards the stored blobs are exactly the referenced ones.

        The full check runs `verify_blobs` itself (every ciphertext re-hashed and decrypted, each result written
        to its row). After a kill its orphan list is computed the same way (every stored id not referenced by a
        file version, text, register, consultation letter or handover receipt) without re-reading the blobs,
        which the rows' check above already vouched for."""
        if full:
            report = maintenance.verify_blobs(decrypt=True, progress=lambda n: None)
            assert report.problems == [], f"verify finds problems after a kill: {report.problems}"
        else:
            for kept in (consultations, receipts):
                kept_ids, kept_problems = kept.verify_blobs(decrypt=False)
                assert kept_problems == []
                referenced |= kept_ids
            stored = set(store.backend.iter_ids())
            report = maintenance.BlobReport(orphans=sorted(stored - referenced))
            if not report.orphans:  # nothing to repair, nor any shredded blob left (it would be unreferenced)
                assert referenced <= stored, f"rows without their blob after a kill: {sorted(referenced - stored)}"
                return maintenance.RepairReport()
        repair = maintenance.repair_blobs(report, grace_seconds=0)
        assert repair.orphans_kept == []
        stored = set(store.backend.iter_ids())
        assert stored - referenced == set(), f"blobs without a row after the repair: {sorted(stored - referenced)}"
        assert referenced - stored == set(), f"rows without their blob after the repair: {sorted(referenced - stored)}"
        return repair


def completed_disposals() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Disposal.status == DisposalStatus.COMPLETED))


def test_kill_at_random_points_leaves_nothing_half_done(keyfile_app):
    seed = int(os.environ.get("ARCHIVE_KILL_SEED", "0")) or random.SystemRandom().randrange(1, 2**31)
    print(f"ARCHIVE_KILL_SEED={seed}")
    rng = random.Random(seed)
    test_started = time.monotonic()
    archive = Archive(Factory(keyfile_app))
    invariants, children = Invariants(keyfile_app), Children()
    archive.file()  # something to version and to re-seal from the first round

    # One disposal to the end in this process, so a refusal shows here and not as a child's early exit.
    archive.fill_disposal_pool()
    clock = time.monotonic()
    archive.disposal()
    print(f"one disposal in the test process: {time.monotonic() - clock:.3f} s")
    invariants.check(full=True)

    def delays(name: str, operation, prepare):
        """The kill times of an operation's rounds, from one run timed in a child now."""
        if name == "disposal":
            archive.fill_disposal_pool()
        # A disposal is timed twice and the longer kept: an underestimate would leave no child to complete one.
        ended, deleting = max(children.time_in_child(operation, prepare) for _ in range(2 if prepare else 1))
        print(f"one {name} in a child: {ended:.3f} s" + (f", deletions from {deleting:.3f} s" if deleting else ""))
        invariants.check()
        if name != "disposal":
            return lambda round_: rng.uniform(*ALIVE) * ended
        assert deleting is not None, "the disposal deleted no blob"
        return lambda round_: (rng.uniform(AROUND_THE_END[0] * deleting, AROUND_THE_END[1] * ended)
                               if round_ % 3 == 1 else rng.uniform(*ALIVE_DISPOSAL) * ended)

    operations = [("filing", archive.filing, None), ("versioning", archive.versioning, None),
                  ("rotation", archive.rotation, None), ("disposal", archive.disposal, slow_deletions)]
    kills = completed = after_commit = 0
    pool_seconds, name, round_ = 0.0, "", 0
    started = time.monotonic()
    try:
        for name, operation, prepare in operations:
            delay = delays(name, operation, prepare)
            for round_ in range(KILLS[name]):
                if name == "disposal":
                    clock = time.monotonic()
                    archive.fill_disposal_pool()
                    before = completed_disposals()
                    pool_seconds += time.monotonic() - clock
                children.kill_at_random(operation, delay(round_), prepare)
                kills += 1
                repair = invariants.check()
                if name == "disposal":
                    completed += completed_disposals() - before
                    after_commit += repair.shredded_deleted > 0  # killed between the commit and its deletions
                    db.session.remove()
            invariants.check(full=True)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n(after {kills} kills, during {name} round {round_}; "
                             f"replay with ARCHIVE_KILL_SEED={seed})") from exc
    elapsed = time.monotonic() - started
    disposed = db.session.scalar(
        sa.select(sa.func.count()).select_from(Document).where(Document.disposed_at.is_not(None)))
    print(f"{kills} kills in {elapsed:.1f} s (checks {invariants.seconds:.1f} s, of which full "
          f"{invariants.full_seconds:.1f} s; forking and reaping {children.overhead:.1f} s; "
          f"disposal pool {pool_seconds:.1f} s); the whole test {time.monotonic() - test_started:.1f} s")
    print(f"{disposed} documents disposed, {completed} by the children; "
          f"{after_commit} kills between a shredding's commit and its last blob deletion")
    assert kills >= 200
    # The kills did land in the middle of work: each operation completed some times and not others.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) > 1
    assert len(keyring().key_ids) > 1
    assert completed, f"no disposal child completed a disposal (ARCHIVE_KILL_SEED={seed})"
    assert after_commit, \
        f"no kill landed between a shredding's commit and its blob deletions (ARCHIVE_KILL_SEED={seed})"
