"""Backups, restores and restore drills.

A backup destination holds one directory per snapshot (``20261123T023000Z/``: the database dump and
``manifest.json``) and one ``blobs/`` store shared by all snapshots. Blobs never change once written, so each
backup copies only the blobs its snapshot references that the destination does not hold yet. The database is
dumped first and the blobs it references are copied after; blobs written later belong to the next backup.
The manifest is written last, so a snapshot directory without one is an interrupted backup and is ignored.

No master key is ever written to a backup: the manifest lists the key ids the backup needs, a key-check value
and a few wrapped data keys, which a restore opens with the configured keys before it changes anything.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from flask import Flask, current_app

from ..audit import services as audit
from ..auth.models import User
from ..auth.services import SYSTEM
from ..core.keys import KEY_CHECK, KEY_CHECK_PLAINTEXT, blob_store, keyring
from ..core.types import utcnow
from ..core.uow import unit_of_work
from ..documents.models import Document
from ..extensions import db
from ..maintenance import services as maintenance
from ..search import indexing
from ..storage import KeyringError, LocalFileBackend, key_binding, validate_blob_id
from ..storage._files import fsync_directory
from . import snapshot
from .models import BackupRun, RunKind

MANIFEST = "manifest.json"
FORMAT = "property-archive backup 1"
BLOBS = "blobs"
SNAPSHOT_NAME = "%Y%m%dT%H%M%SZ"
RESTORE_MARKER = "RESTORE-IN-PROGRESS"
COPY_BUFFER = 1 << 20
COPY_THREADS = 4  # copying waits on fsync; a few at once keep the disk busy


class BackupError(RuntimeError):
    """A backup, restore or drill cannot go on; the message says why and what to do."""


@dataclass
class BackupResult:
    snapshot: Path
    manifest: dict
    size_bytes: int
    copied_bytes: int
    copied_blobs: int
    present_blobs: int  # already in the destination, re-hashed and kept


@dataclass
class RestoreReport:
    manifest: dict
    counts: dict[str, int]
    blobs_checked: int
    problems: list[str] = field(default_factory=list)
    audit_events: int = 0
    chain_intact: bool = True
    indexed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        expected = self.manifest["counts"]
        out = [f"{name}: {self.counts.get(name)} restored, {expected.get(name)} in the backup"
               for name in ("documents", "file_versions", "audit_events", "users")]
        out.append(f"audit: {self.audit_events} events, chain {'intact' if self.chain_intact else 'BROKEN'}")
        out.append(f"blobs: {self.blobs_checked} decrypted and checked against their plaintext checksums")
        out.append(f"search index: rebuilt, {self.indexed} documents")
        return out + [f"PROBLEM: {problem}" for problem in self.problems]


def app_version() -> str:
    try:
        return metadata.version("property-archive")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- backup ---------------------------------------------------------------------------------------------------

def backup(destination: str | os.PathLike[str]) -> BackupResult:
    """Take an online snapshot into destination and record the run (also when it fails)."""
    started, destination = utcnow(), Path(destination)
    try:
        result = _backup(destination, started)
    except (BackupError, snapshot.SnapshotError, OSError) as exc:
        _record(RunKind.BACKUP, started, ok=False, error=str(exc))
        raise BackupError(str(exc)) from exc
    counts = result.manifest["counts"]
    _record(RunKind.BACKUP, started, ok=True, snapshot=str(result.snapshot), size_bytes=result.size_bytes,
            copied_bytes=result.copied_bytes, counts=counts)
    return result


def _backup(destination: Path, started: datetime) -> BackupResult:
    destination.mkdir(parents=True, exist_ok=True)
    directory = _new_snapshot_directory(destination, started)
    try:
        return _fill_snapshot(destination, directory, started)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)  # no half-written snapshot left taking space
        raise


def _fill_snapshot(destination: Path, directory: Path, started: datetime) -> BackupResult:
    dump_name, facts = snapshot.take(directory)
    files = {f"{directory.name}/{dump_name}": _file_entry(directory / dump_name)}
    source, target = blob_store().backend, LocalFileBackend(destination / BLOBS)
    copied = present = copied_bytes = 0

    def copy(ref: snapshot.BlobRef) -> tuple[str, int, bool]:
        size, fresh = _copy_blob(source.path_for(ref.blob_id), target.path_for(ref.blob_id), ref.cipher_sha256)
        return ref.blob_id, size, fresh

    with ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="backup-copy") as pool:
        for blob_id, size, fresh in pool.map(copy, facts.blobs.values()):
            files[f"{BLOBS}/{blob_id[:2]}/{blob_id[2:4]}/{blob_id}"] = {
                "sha256": facts.blobs[blob_id].cipher_sha256, "size": size}
            copied, present = copied + fresh, present + (not fresh)
            copied_bytes += size if fresh else 0
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "app_version": app_version(),
        "schema_revision": facts.schema_revision,
        "database": db.engine.dialect.name,
        "database_file": f"{directory.name}/{dump_name}",
        "counts": facts.counts,
        "audit_head": facts.audit_head,
        "key_ids": facts.key_ids,
        "key_check": facts.key_check,
        "key_samples": facts.key_samples(),
        "files": files,
    }
    _write_atomically(directory / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))
    size = sum(entry["size"] for entry in files.values())
    return BackupResult(directory, manifest, size, copied_bytes + files[manifest["database_file"]]["size"],
                        copied, present)


def _new_snapshot_directory(destination: Path, started: datetime) -> Path:
    """A directory named by the start time; a second backup within the same second gets "-1", "-2"… (names
    still sort in time order)."""
    name = started.strftime(SNAPSHOT_NAME)
    for attempt in range(100):
        directory = destination / (name if attempt == 0 else f"{name}-{attempt}")
        try:
            directory.mkdir()
            return directory
        except FileExistsError:
            continue
    raise BackupError(f"Too many backups started at {name} in {destination}.")


def _copy_blob(source: Path, target: Path, sha256: str) -> tuple[int, bool]:
    """Copy one stored blob unless the destination already holds it intact; returns (size, copied).

    The source is hashed while it is copied: a blob damaged in storage is never passed off as a good backup."""
    if target.is_file():
        size, digest = _hash_file(target)
        if digest == sha256:
            return size, False
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher, size = hashlib.sha256(), 0
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with open(source, "rb", buffering=0) as src, open(fd, "wb", buffering=0) as out:
            buffer = memoryview(bytearray(COPY_BUFFER))
            while count := src.readinto(buffer):
                hasher.update(buffer[:count])
                out.write(buffer[:count])
                size += count
            os.fsync(out.fileno())
        if hasher.hexdigest() != sha256:
            raise BackupError(f"Blob {source.name} in storage does not match its recorded checksum: "
                              "run `archive verify` and repair it before backing up.")
        os.replace(temp, target)
    except FileNotFoundError:
        raise BackupError(f"Blob {source.name} is referenced by the database but missing from storage: "
                          "run `archive verify`.") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    fsync_directory(target.parent)
    return size, True


def _hash_file(path: Path) -> tuple[int, str]:
    hasher, size = hashlib.sha256(), 0
    with open(path, "rb", buffering=0) as fh:
        buffer = memoryview(bytearray(COPY_BUFFER))
        while count := fh.readinto(buffer):
            hasher.update(buffer[:count])
            size += count
    return size, hasher.hexdigest()


def _file_entry(path: Path) -> dict:
    size, digest = _hash_file(path)
    return {"sha256": digest, "size": size}


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with open(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)
    fsync_directory(path.parent)


# --- finding a snapshot ---------------------------------------------------------------------------------------

def latest_snapshot(destination: str | os.PathLike[str]) -> Path:
    """The newest complete snapshot (one with a manifest) in a backup destination."""
    destination = Path(destination)
    complete = sorted(p for p in destination.iterdir() if (p / MANIFEST).is_file()) if destination.is_dir() else []
    if not complete:
        raise BackupError(f"{destination} holds no complete backup (no snapshot directory with a {MANIFEST}).")
    return complete[-1]


def resolve_snapshot(source: str | os.PathLike[str]) -> Path:
    """SRC may name a snapshot directory or a whole destination (its newest snapshot is used)."""
    source = Path(source)
    return source if (source / MANIFEST).is_file() else latest_snapshot(source)


def read_manifest(snapshot_dir: Path) -> dict:
    try:
        manifest = json.loads((snapshot_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"Cannot read {snapshot_dir / MANIFEST}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{snapshot_dir} is not a Property Archive backup of a format this version reads.")
    return manifest


# --- restore --------------------------------------------------------------------------------------------------

def restore(source: str | os.PathLike[str]) -> RestoreReport:
    """Restore a backup into this (empty) instance, rebuild the index and verify everything.

    Nothing is written before the configured keys have opened the backup's key check and sample data keys and
    the database dump matches its checksum. Blobs are staged beside the store and checked while copied; a
    marker file stays in STORAGE_DIR until the end, so an interrupted restore is never mistaken for a complete
    one (`archive serve` refuses to start, and `archive restore` may be run again over it)."""
    started, snapshot_dir = utcnow(), resolve_snapshot(source)
    manifest = read_manifest(snapshot_dir)
    root = snapshot_dir.parent
    check_keys(manifest)
    _check_schema_known(manifest)
    storage = Path(current_app.config["STORAGE_DIR"])
    marker = storage / RESTORE_MARKER
    if not marker.exists():
        _require_empty_instance()
    dump = root / manifest["database_file"]
    _check_file(root, manifest["database_file"], manifest["files"][manifest["database_file"]])
    storage.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=storage, prefix=".restore-blobs-"))
    try:
        _stage_blobs(root, manifest, staging)
        _write_atomically(marker, f"restore of {snapshot_dir} started {utcnow().isoformat()}\n".encode())
        snapshot.load(dump, manifest["database"])
        _migrate_to_head()
        _swap_in_blobs(staging, storage / "blobs")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report = verify_restored(manifest)
    with unit_of_work():
        audit.record("backup.restore", actor=SYSTEM, snapshot=snapshot_dir.name, ok=report.ok,
                     problems=len(report.problems))
    _record(RunKind.RESTORE, started, ok=report.ok, snapshot=str(snapshot_dir), counts=report.counts,
            error="; ".join(report.problems[:5]))
    marker.unlink()
    fsync_directory(storage)
    return report


def check_keys(manifest: dict) -> None:
    """Prove the configured master keys open this backup, before anything is written."""
    try:
        ring = keyring()
    except RuntimeError as exc:  # MasterKeyError: no key at all
        raise BackupError(str(exc)) from None
    missing = [key_id for key_id in manifest["key_ids"] if key_id not in ring]
    problem = ""
    if not missing:
        try:
            if manifest["key_check"] and ring.open_value(manifest["key_check"], KEY_CHECK) != KEY_CHECK_PLAINTEXT:
                problem = "the key check value does not open"
            for sample in manifest["key_samples"]:
                ring.unwrap_data_key(sample["key_id"], base64.b64decode(sample["wrapped_key"]),
                                     key_binding(validate_blob_id(sample["blob_id"])))
        except KeyringError as exc:
            problem = str(exc)
    if missing or problem:
        needed = ", ".join(manifest["key_ids"])
        configured = ", ".join(ring.key_ids)
        raise BackupError(
            f"Wrong master key: this backup needs the master key(s) {needed}, but the configured key(s) are "
            f"{configured}{f' ({problem})' if problem else ''}. Nothing was restored. Configure the archive's "
            "master key (`archive keys import FILE`, or ARCHIVE_MASTER_KEY) and run the restore again."
        )


def _require_empty_instance() -> None:
    inspector = sa.inspect(db.engine)
    held = []
    if inspector.has_table(Document.__tablename__):
        for model, name in ((Document, "documents"), (User, "users")):
            count = db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            if count:
                held.append(f"{count} {name}")
    db.session.rollback()  # the read's transaction would hold SQLite's write lock
    blobs = LocalFileBackend(Path(current_app.config["STORAGE_DIR"]) / "blobs")
    if next(blobs.iter_ids(), None) is not None:
        held.append("stored files")
    if held:
        raise BackupError(
            f"This instance is not empty ({', '.join(held)}): a restore only goes into a new, empty instance "
            "(an empty database and storage folder; do not run `archive init` before restoring). Nothing was restored."
        )


def _check_file(root: Path, name: str, entry: dict) -> None:
    path = root / name
    if not path.is_file():
        raise BackupError(f"The backup is incomplete: {name} is missing. Nothing was restored.")
    size, digest = _hash_file(path)
    if digest != entry["sha256"]:
        raise BackupError(f"The backup is damaged: {name} does not match its checksum in the manifest. "
                          "Nothing was restored; use another backup.")


def _stage_blobs(root: Path, manifest: dict, staging: Path) -> None:
    """Copy every blob of the manifest into staging, each checked against its checksum while it is copied."""
    staged = LocalFileBackend(staging)
    entries = [(name, entry) for name, entry in manifest["files"].items() if name.startswith(f"{BLOBS}/")]

    def stage(item: tuple[str, dict]) -> None:
        name, entry = item
        source = root / name
        try:
            _copy_blob(source, staged.path_for(validate_blob_id(source.name)), entry["sha256"])
        except BackupError:
            raise BackupError(f"The backup is damaged: {name} is missing or does not match its checksum in the "
                              "manifest. Nothing was restored; use another backup.") from None

    with ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="restore-copy") as pool:
        for _ in pool.map(stage, entries):
            pass


def _check_schema_known(manifest: dict) -> None:
    """A backup of a newer version than this one cannot be loaded: refuse before writing anything."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    revision = manifest.get("schema_revision")
    try:
        ScriptDirectory(current_app.extensions["migrate"].directory).get_revision(revision)
    except CommandError:
        raise BackupError(f"The backup's database is at schema revision {revision}, which this version of the "
                          f"archive ({app_version()}) does not know: restore it with the version that made it "
                          f"({manifest.get('app_version')}) or newer. Nothing was restored.") from None


def _migrate_to_head() -> None:
    """A backup of an older version is brought to this version's schema, as `archive init` would."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


def _swap_in_blobs(staging: Path, blobs: Path) -> None:
    """Put the staged blobs in place with one rename; leftovers of an interrupted restore are discarded."""
    if blobs.exists():
        discard = blobs.with_name(f".discard-{blobs.name}")
        shutil.rmtree(discard, ignore_errors=True)
        os.rename(blobs, discard)
        shutil.rmtree(discard)
    os.rename(staging, blobs)
    fsync_directory(blobs.parent)
    current_app.extensions.pop("archive_store", None)  # a cached store would hold the replaced directory


def verify_restored(manifest: dict) -> RestoreReport:
    """The checks of `archive verify` on a restored archive: counts against the manifest, every blob decrypted to
    its plaintext checksum, the audit chain and its head, and the search index rebuilt."""
    db.session.remove()
    with db.engine.connect() as conn:
        facts = snapshot.read_facts(conn)
    report = RestoreReport(manifest, facts.counts, 0)
    for name, expected in manifest["counts"].items():
        if facts.counts.get(name) != expected:
            report.problems.append(f"{name}: {facts.counts.get(name)} restored, {expected} in the backup")
    if facts.audit_head != manifest["audit_head"]:
        report.problems.append("audit head differs from the backup's")
    report.audit_events, chain_break = maintenance.verify_audit_chain()
    if chain_break:
        report.chain_intact = False
        report.problems.append(f"audit chain broken at event {chain_break.seq}: {chain_break.reason}")
    blobs = maintenance.verify_blobs(decrypt=True, progress=lambda n: None)
    report.blobs_checked = blobs.checked
    report.problems += [f"blob {problem}" for problem in blobs.problems]
    report.indexed = indexing.rebuild()
    return report


# --- restore drill --------------------------------------------------------------------------------------------

def restore_drill(source: str | os.PathLike[str] | None = None) -> RestoreReport:
    """Restore the latest backup into a temporary instance, verify it, record the result, remove the instance."""
    started = utcnow()
    source = source or current_app.config.get("BACKUP_DIR")
    try:
        if not source:
            raise BackupError("No backup destination: set ARCHIVE_BACKUP_DIR or name the backup to drill.")
        snapshot_dir = resolve_snapshot(source)
        with temporary_instance(current_app._get_current_object()) as drill_app, drill_app.app_context():
            try:
                report = restore(snapshot_dir)
            finally:
                db.session.remove()
                db.engine.dispose()
    except (BackupError, snapshot.SnapshotError, OSError) as exc:
        _record(RunKind.DRILL, started, ok=False, snapshot=str(source or ""), error=str(exc))
        raise BackupError(str(exc)) from exc
    _record(RunKind.DRILL, started, ok=report.ok, snapshot=str(snapshot_dir), counts=report.counts,
            error="; ".join(report.problems[:5]))
    return report


@contextmanager
def temporary_instance(live: Flask) -> Iterator[Flask]:
    """A throw-away instance with this one's keys: a temporary folder and, on PostgreSQL, a scratch database
    on the same server (the account needs CREATEDB). Nothing of it reaches the live queue or index."""
    from .. import create_app

    workdir = Path(tempfile.mkdtemp(prefix="archive-drill-"))
    url = live_url = db.engine.url
    scratch = None
    if live_url.get_backend_name() == "postgresql":
        scratch = f"{live_url.database}_drill"[:63]
        url = live_url.set(database=scratch)
        _postgres_admin(live_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)', f'CREATE DATABASE "{scratch}"')
    else:
        url = sa.make_url(f"sqlite:///{workdir / 'archive.db'}")
    try:
        drill_app = create_app({
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "STORAGE_DIR": str(workdir / "storage"),
            "INDEX_DIR": str(workdir / "storage" / "index"),
            "QUEUE_IMMEDIATE": True,
            "SECRET_KEY": live.config["SECRET_KEY"],
            "BACKUP_DIR": None,
        })
        drill_app.extensions["archive_keyring"] = keyring()
        yield drill_app
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if scratch:
            _postgres_admin(live_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def _postgres_admin(url: sa.URL, *statements: str) -> None:
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


# --- records and the dashboard panel --------------------------------------------------------------------------

def _record(kind: RunKind, started: datetime, *, ok: bool, snapshot: str = "", size_bytes: int = 0,
            copied_bytes: int = 0, counts: dict | None = None, error: str = "") -> None:
    counts = counts or {}
    db.session.rollback()
    with unit_of_work():
        run = BackupRun(kind=kind, started_at=started, finished_at=utcnow(), ok=ok, snapshot=snapshot[:500],
                        size_bytes=size_bytes, copied_bytes=copied_bytes, documents=counts.get("documents", 0),
                        file_versions=counts.get("file_versions", 0), audit_events=counts.get("audit_events", 0),
                        blobs=counts.get("blobs", 0), error=error)
        db.session.add(run)
        if kind is not RunKind.RESTORE:  # the restore's own event is recorded with its result above
            audit.record(f"backup.{kind.value}", actor=SYSTEM, snapshot=Path(snapshot).name, ok=ok,
                         size_bytes=size_bytes, copied_bytes=copied_bytes)


def last_good_backup() -> BackupRun | None:
    return _last(RunKind.BACKUP, BackupRun.ok.is_(True))


def last_restore_drill() -> BackupRun | None:
    return _last(RunKind.DRILL)


def _last(kind: RunKind, *conditions) -> BackupRun | None:
    return db.session.scalar(sa.select(BackupRun).where(BackupRun.kind == kind, *conditions)
                             .order_by(BackupRun.finished_at.desc(), BackupRun.id.desc()).limit(1))


@dataclass(frozen=True)
class BackupStatus:
    """What templates/backup/_status_panel.html shows."""

    destination_configured: bool
    last_good_backup: BackupRun | None
    last_backup_failed: BackupRun | None  # the latest backup, when it failed
    last_restore_drill: BackupRun | None


def status() -> BackupStatus:
    latest = _last(RunKind.BACKUP)
    return BackupStatus(
        destination_configured=bool(current_app.config.get("BACKUP_DIR")),
        last_good_backup=last_good_backup(),
        last_backup_failed=latest if latest is not None and not latest.ok else None,
        last_restore_drill=last_restore_drill(),
    )
